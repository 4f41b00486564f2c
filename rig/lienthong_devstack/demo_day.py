"""The demo day's deadlines and service index, printed: what an official would see after the day.

Runs the demo scenario through the pipeline's own steps (intake, results, national sync) against
the stand-ins in this process, with a throwaway store, for ``--days`` simulated days; then prints
the Decision 766 index per unit and month (the report's sheet, Vietnamese) and the deadline alerts
the ``deadline_alerts`` DAG would send on the last day (``pipeline.deadlines``), marking them sent.

    python -m lienthong_devstack.demo_day [--days 3] [--scenario demo]
"""

from __future__ import annotations

import argparse
import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy.orm import Session
from tabulate import tabulate

from lienthong.domain.working_calendar import local_day
from lienthong.pipeline import intake, national_sync, results
from lienthong.pipeline.deadlines import (
    STAGE_LABELS_VI,
    Stage,
    alert_text_vi,
    near_due,
    open_alerts,
    waiting_deadlines,
)
from lienthong.reconcile.watchlists import portal_now
from lienthong.report.export import formatted
from lienthong.report.service_index import service_index
from lienthong.store.ledger import RunContext
from lienthong_standins.harness import make_resources, start_standins

CTX = RunContext("demo-day", "demo")
HOUR = 3600


def main(argv: list[str] | None = None) -> None:
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--days", type=int, default=3, help="simulated days after the arrivals")
    args.add_argument("--scenario", default="demo")
    opts = args.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        server, standins = start_standins(Path(tmp) / "standins", opts.scenario)
        res = make_resources(standins, f"sqlite:///{tmp}/store.sqlite", national=True)
        try:
            _run(standins, res, opts.days)
            _print(res)
        finally:
            res.close()
            server.stop()


def _run(standins, res, days: int) -> None:
    window = timedelta(minutes=10)
    standins.advance(10 * HOUR)
    intake.pull_and_link(res, CTX, intake.scheduled_window(res, window), advance_cursor=True)
    for _ in range(days * 3):
        standins.advance(8 * HOUR)
        results.process_packages(res, CTX)
        intake.pull_and_link(res, CTX, intake.scheduled_window(res, window), advance_cursor=True)
        intake.complete_pending(res, CTX)
        national_sync.sync(res, CTX, window, pause=0.05)


def _print(res) -> None:
    with Session(res.engine) as s:
        now = portal_now(s) or datetime.now(UTC)
    first = date(now.year, now.month, 1)
    frame = service_index(res.engine, first - timedelta(days=31), local_day(now))
    print(f"Chỉ số phục vụ (QĐ 766), tính đến {local_day(now):%d/%m/%Y}\n")
    print(tabulate(formatted(frame).values.tolist(), headers=list(formatted(frame).columns)))
    settings = res.calendar
    with Session(res.engine) as s, s.begin():
        due = near_due(waiting_deadlines(s, local_day(now), settings.calendar), 2)
        alerts = open_alerts(s, due, res.routing, now)
        print(f"\nNhắc hạn ({len(alerts)} tin, gửi tới cán bộ thụ lý và lãnh đạo):")
        for alert in alerts:
            print(f"- [{', '.join(alert.recipients)}] {alert_text_vi(alert)}")
            alert.sent_at = now
        by_stage = {Stage(a.stage): 0 for a in alerts}
        for a in alerts:
            by_stage[Stage(a.stage)] += 1
        for stage, n in by_stage.items():
            print(f"  {STAGE_LABELS_VI[stage]}: {n}")


if __name__ == "__main__":
    main()
