"""What the pipeline reports while it works: counters and timers, through a sink it is handed.

The pipeline stays free of Airflow: it calls a :class:`Metrics` (Airflow's ``Stats`` in tasks,
:class:`NoMetrics` in plain Python). Names are short and dotted, without the ``lienthong.``
prefix the sink adds; the dimensions are in the name (plain StatsD has no tags) and in ``tags``
(for StatsD servers and OpenTelemetry that keep them). The README lists every name.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol


class Metrics(Protocol):
    def incr(self, name: str, count: int = 1, tags: dict[str, str] | None = None) -> None: ...

    def gauge(self, name: str, value: float, tags: dict[str, str] | None = None) -> None: ...

    def timing(self, name: str, seconds: float, tags: dict[str, str] | None = None) -> None: ...


class NoMetrics:
    def incr(self, name: str, count: int = 1, tags: dict[str, str] | None = None) -> None:
        pass

    def gauge(self, name: str, value: float, tags: dict[str, str] | None = None) -> None:
        pass

    def timing(self, name: str, seconds: float, tags: dict[str, str] | None = None) -> None:
        pass


@contextmanager
def timed(metrics: Metrics, name: str) -> Iterator[None]:
    """Time the block (also when it raises: a slow failure is still slow)."""
    start = time.perf_counter()
    try:
        yield
    finally:
        metrics.timing(name, time.perf_counter() - start)
