"""signed_results: attach signed, issued decisions from iOffice to their portal dossiers."""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import Asset, AssetWatcher, dag, get_current_context, task
from airflow.timetables.assets import AssetOrTimeSchedule
from airflow.timetables.trigger import CronTriggerTimetable

from lienthong.orchestration.dag_settings import TIMEZONE, env_setting, link_dag
from lienthong.orchestration.sensors import PendingPackagesSensor
from lienthong.orchestration.triggers import PackagesOfferedTrigger

RESULTS_ATTACHED = Asset("lienthong://portal/results-attached")
# "sensor" (default): a cron run waits, deferred, for packages. "watcher": an AssetWatcher in the
# triggerer starts a run when iOffice offers packages, plus a cron run as a safety net (README).
MODE = env_setting("LIENTHONG_RESULTS_MODE", "sensor")
POLL_SECONDS = float(env_setting("LIENTHONG_RESULTS_POLL_SECONDS", "10"))
CRON = CronTriggerTimetable(env_setting("LIENTHONG_RESULTS_CRON", "*/5 * * * *"), timezone=TIMEZONE)
PACKAGES_OFFERED = Asset("lienthong://ioffice/result-packages", watchers=[AssetWatcher(
    name="ioffice_packages_offered", trigger=PackagesOfferedTrigger("lienthong_ioffice", POLL_SECONDS))])

DOC = """
### Gắn kết quả đã ký số (signed results)

Waits, **deferred** (no worker slot held), for result packages from iOffice. For each package:

* **01 issued** - downloads the signed PDF, verifies it with pyHanko (intact, trusted against the
  configured roots, covering the entire file), uploads and attaches it to the dossier on the
  portal, moves the dossier to *processing finished* (9) with a step record, logs the time saved
  in `dossier_time_savings`, then acknowledges the package;
* **02 signed, not issued** / **03 rejected** - recorded and reflected on the portal as steps;
* anything that fails verification is **quarantined** with its reason and never attached.

A window with no package skips the run. iOffice refusing the credential, or failing
`max_poll_failures` polls in a row, fails the sensor: retries, then the failure alert.

Every step is safe to repeat: a package delivered again finds its work done.
"""


@dag(
    dag_id="signed_results",
    schedule=AssetOrTimeSchedule(timetable=CRON, assets=PACKAGES_OFFERED) if MODE == "watcher" else CRON,
    dagrun_timeout=timedelta(minutes=30),
    params={"poll_seconds": POLL_SECONDS,
            "wait_seconds": float(env_setting("LIENTHONG_RESULTS_WAIT_SECONDS", "270")),
            "max_poll_failures": int(env_setting("LIENTHONG_RESULTS_MAX_POLL_FAILURES", "5"))},
    doc_md=DOC,
    **link_dag(tags=("portal", "ioffice")),
)
def signed_results():
    @task(pool="lienthong_ioffice", outlets=[RESULTS_ATTACHED])
    def attach_signed_results() -> dict[str, int]:
        from lienthong.orchestration.tasks import process_results

        return process_results(get_current_context())

    if MODE == "watcher":  # the run was started because packages are offered: no wait
        attach_signed_results()
        return
    wait = PendingPackagesSensor(
        task_id="wait_for_result_packages",
        poll_interval="{{ params.poll_seconds }}",
        wait_timeout="{{ params.wait_seconds }}",
        max_failures="{{ params.max_poll_failures }}",
    )
    wait >> attach_signed_results()


signed_results()
