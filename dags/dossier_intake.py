"""dossier_intake: pull new and changed dossiers from the one-stop portal into iOffice."""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import Asset, CronDataIntervalTimetable, dag, get_current_context, task

from lienthong.orchestration.dag_settings import TIMEZONE, env_setting, link_dag, overlap_param

TRANSFERRED = Asset("lienthong://ioffice/transferred-dossiers")

DOC = """
### Tiếp nhận hồ sơ liên thông (dossier intake)

Every few minutes, pulls the dossiers that are new or changed on the one-stop portal
(keyset paging on `updatedDate` from a stored cursor, with an overlap), records one link per
dossier, routes decision/certificate procedures to their iOffice unit (Variable
`lienthong_routing`, required), pushes them (`GuiHoSo`), and records the
step "Chuyển xử lý trên iOffice" on the portal. Dossiers whose result is signed on the papers are
marked *skipped*; malformed ones are quarantined with a specific reason.

* **Backfill** missed dossiers natively: `airflow backfill create --dag-id dossier_intake
  --from-date 2026-11-01 --to-date 2026-11-02` re-pulls each interval; nothing is duplicated.
* Safe to rerun at any point: pushes repeated after a crash are answered "already exists" and
  recorded; `complete_pending_links` finishes anything left halfway.
"""


@dag(
    dag_id="dossier_intake",
    schedule=CronDataIntervalTimetable(
        env_setting("LIENTHONG_INTAKE_CRON", "*/5 * * * *"), timezone=TIMEZONE
    ),
    dagrun_timeout=timedelta(minutes=30),
    params={"overlap_minutes": overlap_param()},
    doc_md=DOC,
    **link_dag(tags=("portal", "ioffice")),
)
def dossier_intake():
    @task(pool="lienthong_portal")
    def pull_and_link_dossiers() -> dict[str, int]:
        from lienthong.orchestration.tasks import pull_and_link

        ctx = get_current_context()
        return pull_and_link(ctx, ctx["params"]["overlap_minutes"])

    @task(pool="lienthong_ioffice", outlets=[TRANSFERRED])
    def complete_pending_links() -> dict[str, int]:
        from lienthong.orchestration.tasks import complete_pending

        return complete_pending(get_current_context())

    pull_and_link_dossiers() >> complete_pending_links()


dossier_intake()
