"""quarantine_recheck: take quarantined items up again once their cause has passed."""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import dag, get_current_context, task
from airflow.timetables.trigger import CronTriggerTimetable

from lienthong.orchestration.dag_settings import TIMEZONE, env_setting, link_dag

DOC = """
### Tự kiểm tra lại hồ sơ cách ly (quarantine re-check)

Every 5 minutes, each open quarantine record that is due is **re-read from its source by id**
(the portal dossier by its id; the iOffice package by `MaVanBan`) and, when it is now valid, goes
through the normal path exactly once (linked, routed, pushed; verified, attached). It is then
resolved as *tự khắc phục* with its attempt count.

* Transient causes (malformed dossier, bad or truncated result file) are re-checked on a timer:
  5 min, 30 min, 2 h, then daily, six attempts in all.
* Causes only a person can fix (`no_route`, `not_routed`: the routing; `untrusted`,
  `no_trust_roots`: the trust roots) are re-checked only when that configuration changes.
* Records no automatic attempt will fix, and decision dossiers quarantined within 2 working days
  of their due date (`NgayHenTra`), are sent to operators (`lienthong_alerts`) once per cause and
  listed on the dashboard's watch page.

The table of causes is `lienthong.pipeline.heal.RECHECK_BY_REASON` (and the README).
"""


@dag(
    dag_id="quarantine_recheck",
    schedule=CronTriggerTimetable(
        env_setting("LIENTHONG_RECHECK_CRON", "*/5 * * * *"), timezone=TIMEZONE
    ),
    dagrun_timeout=timedelta(minutes=30),
    params={"limit": 200, "near_due_working_days": 2},
    doc_md=DOC,
    **link_dag(retries=2, tags=("operators",)),
)
def quarantine_recheck():
    @task(pool="lienthong_portal")
    def recheck_quarantine() -> dict[str, int]:
        from lienthong.orchestration.tasks import recheck_quarantine as run

        ctx = get_current_context()
        return run(ctx, int(ctx["params"]["limit"]))

    @task(trigger_rule="all_done")  # people are told even when the re-check run failed
    def alert_unhealed() -> int:
        from lienthong.orchestration.tasks import alert_unhealed as run

        ctx = get_current_context()
        return run(ctx, int(ctx["params"]["near_due_working_days"]))

    recheck_quarantine() >> alert_unhealed()


quarantine_recheck()
