"""route_decisions: a person decides where dossiers without a route go (Required Actions)."""

from __future__ import annotations

from datetime import timedelta

from airflow.providers.standard.operators.hitl import HITLOperator
from airflow.sdk import dag, get_current_context, task
from airflow.timetables.trigger import CronTriggerTimetable

from lienthong.orchestration.dag_settings import TIMEZONE, env_setting, link_dag
from lienthong.orchestration.notifiers import LienthongAlertNotifier

DOC = """
### Chọn nơi xử lý cho hồ sơ chưa có tuyến (missing routes, human in the loop)

A dossier whose procedure or receiving agency has no route waits in quarantine (`no_route`,
`unknown_procedure`, `unknown_agency`). Every 15 minutes this DAG opens, for each procedure, agency
and cause not yet asked, a **Required Action** in Airflow's UI (*Browse → Required Actions*, or the
task's page): route such dossiers to one of the iOffice units, handlers and signers the routing
knows, or mark the procedure as signed on the papers. The answer is remembered for that procedure
and agency in the store's routing overlay (nobody edits the routing YAML), written to the audit log
with who answered, and the waiting dossiers are replayed at once.

Only users who may edit this DAG can answer (its `PUT` on Human-in-the-loop details); give that to
the one-stop office's operators only. An action unanswered for 7 days is opened again (the task's
retries), then closed; a later run asks again while dossiers still wait. The operators' channel
(`lienthong_alerts`) is told when a question opens.
"""


@dag(
    dag_id="route_decisions",
    schedule=CronTriggerTimetable(
        env_setting("LIENTHONG_ROUTE_DECISIONS_CRON", "*/15 * * * *"), timezone=TIMEZONE
    ),
    doc_md=DOC,
    # Each open question keeps its run waiting; a new missing route gets a run of its own.
    **link_dag(retries=2, tags=("operators",), max_active_runs=8),
)
def route_decisions():
    @task
    def find_missing_routes() -> list[dict]:
        from lienthong.orchestration.tasks import find_missing_routes as run

        return run(get_current_context())

    questions = find_missing_routes()
    asked = HITLOperator.partial(
        task_id="ask_route",
        response_timeout=timedelta(days=7),
        notifiers=[
            LienthongAlertNotifier(
                title="Liên thông: cần chọn nơi xử lý cho hồ sơ chưa có tuyến",
                message="{{ task.subject }}",
            )
        ],
    ).expand_kwargs(questions)

    @task(trigger_rule="all_done")  # answered ones are applied even if another timed out
    def apply_route_answers() -> dict[str, str]:
        from lienthong.orchestration.tasks import apply_route_answers as run

        return run(get_current_context(), asked_task="ask_route")

    asked >> apply_route_answers()


route_decisions()
