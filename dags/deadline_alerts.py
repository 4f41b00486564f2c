"""deadline_alerts: tell handlers and leaders before a decision dossier's due date passes."""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import dag, get_current_context, task
from airflow.timetables.trigger import CronTriggerTimetable

from lienthong.orchestration.dag_settings import TIMEZONE, env_setting, link_dag

DOC = """
### Nhắc hạn giải quyết (deadline alerts)

Every hour, each decision dossier still on its way to the portal is counted against its latest
agreed date (the portal's `NgayHenTra`, moved by each extension) on Vietnam's working calendar:
weekends, public holidays and Tết excluded, plus the days off and make-up days of the Variable
`lienthong_calendar`. At `near_due_working_days` working days before that date (default 2), and
for dossiers already past it, the unit's **handler and leader** (from `lienthong_routing`) are
told through `lienthong_alerts`, once per dossier, stage and date. The message says which stage
waits: drafting, the leader's signature, issuance, or attachment to the portal.

An alert is written before it is sent and marked when it was; a failed send is tried again on the
next run, and each message carries a stable `key` the channel can drop a repeat by. Overdue
dossiers, with how many working days late, are on the dashboard's watch page.
"""


@dag(
    dag_id="deadline_alerts",
    schedule=CronTriggerTimetable(
        env_setting("LIENTHONG_DEADLINE_CRON", "20 * * * *"), timezone=TIMEZONE
    ),
    dagrun_timeout=timedelta(minutes=30),
    params={"limit": 500},
    doc_md=DOC,
    **link_dag(retries=2, tags=("operators",)),
)
def deadline_alerts():
    @task
    def alert_deadlines() -> dict[str, int]:
        from lienthong.orchestration.tasks import alert_deadlines as run

        ctx = get_current_context()
        return run(ctx, int(ctx["params"]["limit"]))

    alert_deadlines()


deadline_alerts()
