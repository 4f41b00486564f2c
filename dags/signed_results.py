"""signed_results: attach signed, issued decisions from iOffice to their portal dossiers."""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import Asset, dag, get_current_context, task
from airflow.timetables.trigger import CronTriggerTimetable

from lienthong.orchestration.dag_settings import (LIVE_SINCE, TIMEZONE, env_setting, failure_alert,
                                                  link_default_args)
from lienthong.orchestration.sensors import PendingPackagesSensor

RESULTS_ATTACHED = Asset("lienthong://portal/results-attached")

DOC = """
### Gắn kết quả đã ký số (signed results)

Waits, **deferred** (no worker slot held), for result packages from iOffice. For each package:

* **01 issued** - downloads the signed PDF, verifies it with pyHanko (intact, trusted against the
  configured roots, covering the entire file), uploads and attaches it to the dossier on the
  portal, moves the dossier to *processing finished* (9) with a step record, logs the time saved
  in `dossier_time_savings`, then acknowledges the package;
* **02 signed, not issued** / **03 rejected** - recorded and reflected on the portal as steps;
* anything that fails verification is **quarantined** with its reason and never attached.

Every step is safe to repeat: a package delivered again finds its work done.
"""


@dag(
    dag_id="signed_results",
    schedule=CronTriggerTimetable(env_setting("LIENTHONG_RESULTS_CRON", "*/5 * * * *"), timezone=TIMEZONE),
    start_date=LIVE_SINCE,
    catchup=False,
    max_active_runs=1,
    is_paused_upon_creation=False,
    default_args=link_default_args(),
    dagrun_timeout=timedelta(minutes=30),
    on_failure_callback=failure_alert(),
    params={"poll_seconds": float(env_setting("LIENTHONG_RESULTS_POLL_SECONDS", "10")),
            "wait_seconds": float(env_setting("LIENTHONG_RESULTS_WAIT_SECONDS", "270"))},
    doc_md=DOC,
    tags=["lienthong", "portal", "ioffice"],
)
def signed_results():
    wait = PendingPackagesSensor(
        task_id="wait_for_result_packages",
        poll_interval="{{ params.poll_seconds }}",
        wait_timeout="{{ params.wait_seconds }}",
    )

    @task(pool="lienthong_ioffice", outlets=[RESULTS_ATTACHED])
    def attach_signed_results() -> dict[str, int]:
        from lienthong.orchestration.tasks import process_results

        return process_results(get_current_context())

    wait >> attach_signed_results()


signed_results()
