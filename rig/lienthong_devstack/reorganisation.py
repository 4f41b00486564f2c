"""The reorganisation of 1 July 2025 through the pipeline, and its report in both views, printed.

Runs scenario ``reorg-2025`` through the pipeline's own steps (intake, results, national sync)
against the stand-ins in this process, with a throwaway store: on the district's routing until
26 June, the link down until 1 July, then on the province's routing (today's units, the district's
as history) until every decision is settled. Loads the units' totals and prints the report by unit
as received beside the same under today's units, and by parent unit.

    python -m lienthong_devstack.reorganisation
"""

from __future__ import annotations

import tempfile
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
from tabulate import tabulate

from lienthong.pipeline import intake, national_sync, results
from lienthong.pipeline.resources import Resources
from lienthong.report.export import formatted
from lienthong.report.figures import Report, build_report
from lienthong.store.district_totals import load_district_totals
from lienthong.store.ledger import RunContext
from lienthong_standins.harness import Standins, make_resources, start_standins
from lienthong_standins.routing import demo_routing, province_routing

CTX = RunContext("reorganisation", "reorg")
HOUR = 3600
DOWN_FROM, BACK_ON, SETTLED = date(2025, 6, 26), date(2025, 7, 1), date(2025, 9, 10)
PERIOD = ("2025-06-01", "2025-07-31")  # every dossier of the scenario is received in it
TODAY = date(2026, 12, 5)  # the day the report is read
COLUMNS = (
    "agency_code",
    "agency_name",
    "dossiers_processed",
    "district_total",
    "portal_share_pct",
    "decisions_attached",
    "on_time_pct",
)


def run_link(standins: Standins, res: Resources, until: date, step_hours: int = 12) -> None:
    """The scheduled DAGs' work, every ``step_hours``, until the clock reaches ``until``."""
    window = timedelta(minutes=10)
    while standins.clock.now().date() < until:
        standins.advance(step_hours * HOUR)
        intake.pull_and_link(res, CTX, intake.scheduled_window(res, window), advance_cursor=True)
        intake.complete_pending(res, CTX)
        results.process_packages(res, CTX)
        national_sync.sync(res, CTX, window, pause=0.0)


def run_reorganisation(standins: Standins, res: Resources) -> None:
    """June on the district's routing, the link down over the boundary, then the province's."""
    res.routing = demo_routing()
    run_link(standins, res, DOWN_FROM)
    while standins.clock.now().date() < BACK_ON:
        standins.advance(12 * HOUR)
    res.routing = province_routing()
    run_link(standins, res, SETTLED, step_hours=24)


def report_of(res: Resources, unit: str | None = None) -> Report:
    return build_report(
        res.engine, *PERIOD, units=province_routing().registry, today=TODAY, unit=unit
    )


def side_by_side(report: Report) -> str:
    """The agencies as received beside the same dossiers under today's units, then by parent."""

    def table(frame: pd.DataFrame, columns: tuple[str, ...]) -> str:
        shown = formatted(frame[[c for c in columns if c in frame.columns]])
        return tabulate(shown.values.tolist(), headers=list(shown.columns), tablefmt="github")

    parent_columns = ("parent_name", *COLUMNS[2:])
    return "\n\n".join(
        (
            "Theo đơn vị tiếp nhận",
            table(report.by_agency, COLUMNS),
            "Theo đơn vị hiện nay",
            table(report.by_agency_today, COLUMNS),
            "Theo cấp trên (tiếp nhận)",
            table(report.by_parent, parent_columns),
            "Theo cấp trên hiện nay",
            table(report.by_parent_today, parent_columns),
        )
    )


def both_views(report: Report) -> str:
    """One row per unit of today: its figures under today's units beside the units it was
    received by (itself and those merged into it), each with its own count."""
    registry = province_routing().registry
    received = report.by_agency.set_index("agency_code")
    parts: dict[str, list[str]] = {}
    for code, row in received.iterrows():
        today = registry.today_unit(str(code), TODAY)
        name = str(row["agency_name"]).removeprefix("UBND ")
        parts.setdefault(today, []).append(f"{name} {int(row['dossiers_processed'])}")
    rows = [
        [
            str(r["agency_name"]).removeprefix("UBND "),
            int(r["dossiers_processed"]),
            "—" if pd.isna(r["district_total"]) else int(r["district_total"]),
            "—" if pd.isna(r["portal_share_pct"]) else f"{r['portal_share_pct']:.1f}",
            " · ".join(parts.get(str(r["agency_code"]), [])),
        ]
        for _, r in report.by_agency_today.iterrows()
    ]
    headers = ["Đơn vị hiện nay", "Hồ sơ", "Tổng số", "Tỷ lệ trên Cổng (%)"]
    headers.append("Theo đơn vị tiếp nhận")
    return tabulate(rows, headers=headers, tablefmt="github")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        server, standins = start_standins(Path(tmp) / "standins", "reorg-2025")
        res = make_resources(standins, f"sqlite:///{tmp}/store.sqlite", national=True)
        try:
            run_reorganisation(standins, res)
            load_district_totals(res.engine, standins.data_dir / "unit_totals.csv")
            report = report_of(res)
            print(both_views(report), end="\n\n")
            print(side_by_side(report))
        finally:
            res.close()
            server.stop()


if __name__ == "__main__":
    main()
