"""signed_results: attach signed, issued decisions from iOffice to their portal dossiers."""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from lienthong.orchestration.notifiers import LienthongAlertNotifier
from airflow.sdk import Asset, dag, get_current_context, task
from airflow.timetables.trigger import CronTriggerTimetable

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
    schedule=CronTriggerTimetable(os.environ.get("LIENTHONG_RESULTS_CRON", "*/5 * * * *"), timezone="Asia/Ho_Chi_Minh"),
    start_date=datetime(2022, 3, 1, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh")),  # the link went live in March 2022
    catchup=False,
    max_active_runs=1,
    is_paused_upon_creation=False,
    default_args={"retries": 3, "retry_delay": timedelta(seconds=30), "retry_exponential_backoff": True},
    dagrun_timeout=timedelta(minutes=30),
    on_failure_callback=LienthongAlertNotifier(title="Liên thông: lượt chạy thất bại",
                                               message="{{ dag.dag_id }} / {{ run_id }}"),
    params={"poll_seconds": 10, "wait_seconds": 270},
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
