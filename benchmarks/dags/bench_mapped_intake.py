"""bench_mapped_intake: the per-dossier design the brief forbids, as a benchmark baseline only.

One mapped task instance per dossier: each reads its dossier, records it and pushes it.
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import dag, get_current_context, task


@dag(
    dag_id="bench_mapped_intake",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    params={"limit": 500},
    doc_md=__doc__,
)
def bench_mapped_intake():
    @task
    def list_dossier_ids() -> list[str]:
        from lienthong.orchestration.airflow_resources import resources_from_airflow

        limit = int(get_current_context()["params"]["limit"])
        with resources_from_airflow() as res:
            return [
                raw["id"] for raw in res.portal.iter_updated(datetime(2000, 1, 1).astimezone())
            ][:limit]

    @task
    def link_one_dossier(dossier_id: str) -> dict:
        from lienthong.orchestration.airflow_resources import resources_from_airflow
        from lienthong.orchestration.tasks import run_context
        from lienthong.pipeline.intake import link_raw

        with resources_from_airflow() as res:
            return link_raw(
                res, run_context(get_current_context()), [res.portal.get_dossier(dossier_id)]
            )

    link_one_dossier.expand(dossier_id=list_dossier_ids())


bench_mapped_intake()
