"""The pipeline's metrics into Airflow's own ``Stats`` (StatsD, Datadog or OpenTelemetry, as the
``[metrics]`` section configures; nothing is sent when metrics are off). Every name starts with
``lienthong.``; the README lists them."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from enum import StrEnum

from airflow.sdk.observability import stats
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from lienthong.domain.masking import get_logger
from lienthong.pipeline.metrics import Metrics
from lienthong.pipeline.outcomes import Family, metric_name
from lienthong.store.gauges import link_levels

PREFIX = "lienthong."
log = get_logger(__name__)


class AirflowStats:
    """:class:`lienthong.pipeline.metrics.Metrics` on ``airflow.sdk.observability.stats``."""

    def __init__(self) -> None:

        self._stats = stats

    def incr(self, name: str, count: int = 1, tags: dict[str, str] | None = None) -> None:
        self._stats.incr(PREFIX + name, count, tags=tags)

    def gauge(self, name: str, value: float, tags: dict[str, str] | None = None) -> None:
        self._stats.gauge(PREFIX + name, value, tags=tags)

    def timing(self, name: str, seconds: float, tags: dict[str, str] | None = None) -> None:
        self._stats.timing(
            PREFIX + name, seconds * 1000.0, tags=tags
        )  # StatsD timers are milliseconds


def report_counts(metrics: Metrics, family: Family, counts: Mapping[StrEnum, int]) -> None:
    """A run's counts as counters named by :func:`lienthong.pipeline.outcomes.metric_name`
    (e.g. ``intake.new``, ``packages.attached``); a key that is no outcome of the family raises."""
    for outcome, n in counts.items():
        name = metric_name(family, outcome)
        if n:
            metrics.incr(name, int(n))


def report_levels(metrics: Metrics, engine: Engine) -> None:
    """Gauges of what waits where (:func:`lienthong.store.gauges.link_levels`); never fails the
    task."""
    try:
        with Session(engine) as session:
            levels = link_levels(session, datetime.now(UTC))
    except Exception as exc:  # noqa: BLE001 - a gauge is not worth a failed run; the next run reports
        log.warning("link levels not reported: %s", type(exc).__name__)
        return
    for name, value in levels.items():
        metrics.gauge(name, value)
