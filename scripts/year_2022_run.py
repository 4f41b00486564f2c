"""The measured run for the closing note: the article's year carried through the real pipeline.

Starts both stand-ins in-process with scenario ``year-2022`` (frozen clock from 2022-01-01),
walks the simulated year in steps (intake, pending transfers, result packages until none is
left), loads the stand-in's district totals and prints the report with wall time and peak RSS.

    .venv/bin/python scripts/year_2022_run.py [--months 12] [--step-days 7] [--tail-days 45]
        [--work DIR]

``--months 1`` checks the run over January only (the iOffice stand-in signs every issued PDF,
about 60 ms each, which dominates the full year's time).
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

from lienthong.pipeline import intake, results
from lienthong.report.export import render
from lienthong.report.figures import build_report
from lienthong.store.district_totals import load_district_totals
from lienthong.store.ledger import RunContext
from lienthong_standins.clock import VN_TZ
from lienthong_standins.harness import make_resources, start_standins

CTX = RunContext("year-2022", "measured_run")
OVERLAP = timedelta(minutes=10)


def month_end(months: int) -> date:
    """The last day of the ``months``-th month of 2022."""
    return date(2022 + months // 12, months % 12 + 1, 1) - timedelta(days=1)


def drain(res, window: intake.Window | None) -> dict[str, int]:
    """Intake, then pending transfers, then result packages until iOffice has none pending.

    ``window`` None follows the stored cursor (the scheduled DAG's way); else that window is pulled.
    """
    totals: dict[str, int] = {}

    def add(counts: dict[str, int]) -> None:
        for k, v in counts.items():
            totals[k] = totals.get(k, 0) + v

    if window is None:
        add(
            intake.pull_and_link(
                res, CTX, intake.scheduled_window(res, OVERLAP), advance_cursor=True
            )
        )
    else:
        add(intake.pull_and_link(res, CTX, window, advance_cursor=False))
    add(intake.complete_pending(res, CTX))
    while True:
        done = results.process_packages(res, CTX)
        add(done)
        if not done.get("packages") or done.get("packages") == done.get("error"):
            return totals


def walk(standins, res, until: datetime, step: timedelta, log, by_step: bool) -> None:
    now = standins.clock.now()
    while now < until:
        seconds = min(step, until - now).total_seconds()
        previous = now
        standins.advance(seconds)
        now = standins.clock.now()
        t0 = time.monotonic()
        counts = drain(res, intake.Window(updated_from=previous - OVERLAP) if by_step else None)
        log(
            f"{now:%Y-%m-%d}  {time.monotonic() - t0:6.1f}s  "
            + ", ".join(f"{k}={v}" for k, v in sorted(counts.items()) if v)
        )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--months", type=int, default=12, help="simulated months of 2022 to walk (1-12)")
    p.add_argument(
        "--step-days", type=float, default=7.0, help="clock step between pipeline rounds"
    )
    p.add_argument(
        "--tail-days",
        type=float,
        default=45.0,
        help="days walked past the last month so its dossiers can finish",
    )
    p.add_argument("--concurrency", type=int, default=8)
    p.add_argument(
        "--window",
        choices=("cursor", "step"),
        default="cursor",
        help="cursor: the scheduled intake's stored cursor; step: pull what changed since the "
        "previous clock step (works around a portal stand-in whose change stamps run ahead "
        "of its frozen clock, which makes the cursor skip dossiers)",
    )
    p.add_argument("--work", help="working folder (default: a fresh temporary one)")
    args = p.parse_args(argv)
    if not 1 <= args.months <= 12:
        p.error("--months must be 1..12")

    work = Path(args.work or tempfile.mkdtemp(prefix="lienthong-year-2022-"))
    log = lambda msg: print(msg, file=sys.stderr, flush=True)  # noqa: E731
    started = time.monotonic()
    server, standins = start_standins(work / "standins", scenario="year-2022")
    log(f"stand-ins loaded in {time.monotonic() - started:.1f}s (data in {work})")
    res = make_resources(standins, f"sqlite:///{work}/store.sqlite", concurrency=args.concurrency)
    try:
        last_day = month_end(args.months)
        until = datetime.combine(last_day + timedelta(days=1), datetime.min.time(), VN_TZ)
        walk(
            standins,
            res,
            until + timedelta(days=args.tail_days),
            timedelta(days=args.step_days),
            log,
            args.window == "step",
        )
        load_district_totals(res.engine, standins.data_dir / "district_totals.csv")
        report = build_report(res.engine, date(2022, 1, 1), last_day)
        wall = time.monotonic() - started
    finally:
        res.close()
        server.stop()
    print(render(report, "month"))
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"Thời gian chạy (wall time): {wall:.1f} s; bộ nhớ đỉnh (peak RSS): {peak_mb:.0f} MB; "
        f"kỳ 2022-01-01..{last_day.isoformat()}; dữ liệu: {work}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
