"""quarantine_replay: an operator's replay of quarantined items, as a DAG run on the workers."""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import Param, dag, get_current_context, task

from lienthong.orchestration.dag_settings import link_dag

DOC = """
### Xử lý lại mục cách ly (replay quarantined items)

Each quarantine record named in the form is **read again from its source** (the portal dossier by
its id, the iOffice package by `MaVanBan`) and taken through the normal path exactly once (linked,
routed, pushed; verified, attached). A record that is valid now is resolved; one that is still
wrong stays open with its (possibly new) reason.

* Started from the dashboard's *Xử lý lại* button (as the signed-in user) or from this form.
* Runs on the workers with the link's usual retries; the api-server makes no call to the portal
  or iOffice.
* Every replay is audited: an `operator_action` event with the run's triggering user, the reason
  given and the outcome, on the dossier's timeline.
"""


@dag(
    dag_id="quarantine_replay",
    schedule=None,
    dagrun_timeout=timedelta(minutes=30),
    params={
        "quarantine_ids": Param(
            [],
            type="array",
            items={"type": "integer"},
            minItems=1,
            title="Mã mục cách ly",
            description="Số thứ tự (#) của các mục cách ly cần xử lý lại",
        ),
        "reason": Param(
            "",
            type="string",
            maxLength=500,
            title="Lý do",
            description="Vì sao xử lý lại (ví dụ: bên gửi đã ký lại văn bản)",
        ),
    },
    doc_md=DOC,
    **link_dag(retries=3, tags=("operators",), max_active_runs=4),
)
def quarantine_replay():
    @task(pool="lienthong_portal")
    def replay_quarantined_items() -> dict[str, str]:
        from lienthong.orchestration.tasks import replay_quarantined as run

        return run(get_current_context())

    replay_quarantined_items()


quarantine_replay()
