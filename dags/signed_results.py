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
# "watcher" (default): an AssetWatcher in the triggerer starts a run when iOffice offers packages,
# and the cron runs too, as a safety net. "sensor": a cron run waits, deferred, for packages.
# Measured side by side in the README (Benchmarks).
MODE = env_setting("LIENTHONG_RESULTS_MODE", "watcher")
POLL_SECONDS = float(env_setting("LIENTHONG_RESULTS_POLL_SECONDS", "10"))
CRON = CronTriggerTimetable(env_setting("LIENTHONG_RESULTS_CRON", "*/5 * * * *"), timezone=TIMEZONE)
PACKAGES_OFFERED = Asset(
    "lienthong://ioffice/result-packages",
    watchers=[
        AssetWatcher(
            name="ioffice_packages_offered",
            trigger=PackagesOfferedTrigger("lienthong_ioffice", POLL_SECONDS),
        )
    ],
)

DOC = """
### Gắn kết quả đã ký số (signed results)

Started by iOffice itself: an **AssetWatcher** in the triggerer polls the pending result packages
and starts a run as soon as new ones are offered (no worker slot held while nothing happens); the
cron runs it too, as a safety net. With `LIENTHONG_RESULTS_MODE=sensor` a cron run instead waits,
**deferred**, for packages. For each package:

* **01 issued** - downloads the signed PDF, verifies it with pyHanko (intact, trusted against the
  configured roots, covering the entire file), uploads and attaches it to the dossier on the
  portal, moves the dossier to *processing finished* (9) with a step record, logs the time saved
  in `dossier_time_savings`, then acknowledges the package;
* **02 signed, not issued** / **03 rejected** - recorded and reflected on the portal as steps;
* anything that fails verification is **quarantined** with its reason and never attached.

iOffice refusing the credential or not answering fails the run (retries, then the failure alert);
the watcher logs every failed poll as an error in the triggerer and keeps polling with backoff.
In sensor mode a window with no package skips the run, and `max_poll_failures` failed polls in a
row fail the sensor.

Every step is safe to repeat: a package delivered again finds its work done.
"""


@dag(
    dag_id="signed_results",
    schedule=AssetOrTimeSchedule(timetable=CRON, assets=PACKAGES_OFFERED)
    if MODE == "watcher"
    else CRON,
    dagrun_timeout=timedelta(minutes=30),
    params={
        "poll_seconds": POLL_SECONDS,
        "wait_seconds": float(env_setting("LIENTHONG_RESULTS_WAIT_SECONDS", "270")),
        "max_poll_failures": int(env_setting("LIENTHONG_RESULTS_MAX_POLL_FAILURES", "5")),
    },
    doc_md=DOC,
    **link_dag(
        tags=("portal", "ioffice"), max_active_runs=2
    ),  # overlaps are safe: packages and dossiers are claimed
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
