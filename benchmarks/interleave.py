"""Ratios that hold still: each measure repeated in interleaved rounds, reported as medians.

One run of a benchmark is easily disturbed (another process, a cold cache, the CPU's clock): a
plain loop measured once at 26/s instead of 200/s turned a ratio into nonsense. So a ratio
benchmark runs its measures in rounds (ours, baseline, ours, baseline, ...), so a disturbance hits
both sides alike, and reports the median of the per-round ratios with their spread.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable


def interleaved(measures: dict[str, Callable[[], float]], rounds: int) -> dict[str, list[float]]:
    """Each measure (a rate: higher is better) once per round, in the given order, ``rounds``
    times; the rates by measure."""
    if rounds < 1:
        raise ValueError("at least one round")
    rates: dict[str, list[float]] = {name: [] for name in measures}
    for n in range(rounds):
        for name, measure in measures.items():
            rates[name].append(measure())
            print(f"  round {n + 1}/{rounds} {name}: {rates[name][-1]:.1f}/s", flush=True)
    return rates


def spread(values: list[float]) -> dict[str, float | int]:
    """Median, lowest and highest of a measure's rounds."""
    return {
        "median": round(statistics.median(values), 2),
        "min": round(min(values), 2),
        "max": round(max(values), 2),
        "runs": len(values),
    }


def paired_ratio(ours: list[float], baseline: list[float]) -> dict[str, float | int]:
    """The ratio of each round's two rates (measured back to back), as median and spread."""
    return spread([a / b for a, b in zip(ours, baseline, strict=True)])
