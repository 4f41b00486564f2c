"""Task bodies shared by the DAGs: read the run's context, build resources, call the pipeline."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from lienthong.domain.masking import get_logger
from lienthong.pipeline import intake, results
from lienthong.store.links import RunContext

log = get_logger(__name__)


def run_context(context: dict[str, Any]) -> RunContext:
    ti = context.get("ti") or context.get("task_instance")
    return RunContext(run_id=str(context["run_id"]), task_id=str(getattr(ti, "task_id", "")))


def intake_window(context: dict[str, Any], res, overlap: timedelta) -> tuple[intake.Window, bool]:
    """Scheduled/manual runs follow the stored cursor; backfill runs re-pull their data interval."""
    dag_run = context["dag_run"]
    run_type = str(getattr(dag_run, "run_type", "")).lower()
    start, end = context.get("data_interval_start"), context.get("data_interval_end")
    if "backfill" in run_type and start is not None:
        return intake.Window(updated_from=start - overlap, updated_to=end), False
    return intake.scheduled_window(res, overlap), True


def pull_and_link(context: dict[str, Any], overlap_minutes: int) -> dict[str, int]:
    from lienthong.orchestration.resources import resources_from_airflow

    res = resources_from_airflow()
    try:
        window, advance = intake_window(context, res, timedelta(minutes=overlap_minutes))
        log.info("intake window from %s to %s (cursor %s)", window.updated_from, window.updated_to,
                 "advances" if advance else "kept")
        counts = intake.pull_and_link(res, run_context(context), window, advance_cursor=advance)
    finally:
        res.close()
    log.info("intake summary: %s", counts)
    return counts


def complete_pending(context: dict[str, Any]) -> dict[str, int]:
    from lienthong.orchestration.resources import resources_from_airflow

    res = resources_from_airflow()
    try:
        counts = intake.complete_pending(res, run_context(context))
    finally:
        res.close()
    log.info("pending links completed: %s", counts)
    return counts


def process_results(context: dict[str, Any]) -> dict[str, int]:
    from lienthong.orchestration.resources import resources_from_airflow

    res = resources_from_airflow()
    try:
        counts = results.process_packages(res, run_context(context))
    finally:
        res.close()
    log.info("result packages: %s", counts)
    return counts
