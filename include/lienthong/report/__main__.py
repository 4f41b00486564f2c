"""``python -m lienthong.report``: print (and export) the article's report for any period.

python -m lienthong.report --from 2022-01-01 --to 2022-12-31 [--db URL] [--csv DIR] [--xlsx FILE]
    [--hours-per-dossier H] [--cost-per-hour VND] [--by month|agency|procedure|all]
python -m lienthong.report load-totals FILE        # operator's district totals (period,total)
python -m lienthong.report set-total PERIOD TOTAL  # one period's district total
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

from sqlalchemy import Engine, text

from lienthong.domain.savings import DEFAULT_SAVINGS
from lienthong.orchestration.airflow_resources import DB_CONN, ServerLookup, store_engine
from lienthong.pipeline.routing import parse_routing
from lienthong.report.export import render, write_csv, write_xlsx
from lienthong.report.figures import build_report
from lienthong.store.district_totals import load_district_totals, set_district_total
from lienthong.store.engine import get_engine


class StoreUnreachable(RuntimeError):
    """Neither --db nor the Airflow connection gives a store that answers."""


def resolve_engine(url: str | None) -> Engine:
    """--db, else the Airflow connection ``lienthong_db``; a store that does not answer stops the
    command
    (a report computed from some other database would be wrong without saying so)."""

    where = url or f"Airflow connection {DB_CONN}"
    try:
        engine = get_engine(url) if url else store_engine(ServerLookup())
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any cause: said once, clearly, with what was tried
        raise StoreUnreachable(
            f"Không kết nối được cơ sở dữ liệu báo cáo ({where}): {type(exc).__name__}: "
            f"{str(exc).splitlines()[0][:300] if str(exc) else ''}\n"
            "Cannot reach the reporting store; pass --db URL or set the connection "
            f"{DB_CONN}."
        ) from exc
    return engine


def _report_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m lienthong.report",
        description="Báo cáo hiệu quả liên thông (the article's savings report)",
    )
    p.add_argument(
        "--from", dest="date_from", required=True, type=date.fromisoformat, help="YYYY-MM-DD"
    )
    p.add_argument(
        "--to",
        dest="date_to",
        required=True,
        type=date.fromisoformat,
        help="YYYY-MM-DD (inclusive)",
    )
    p.add_argument("--db", help="store URL (default: the Airflow connection lienthong_db)")
    p.add_argument("--csv", help="write one CSV per grouping into this folder")
    p.add_argument("--xlsx", help="write the workbook to this file")
    p.add_argument("--hours-per-dossier", type=float, default=DEFAULT_SAVINGS.hours_per_dossier)
    p.add_argument("--cost-per-hour", type=int, default=DEFAULT_SAVINGS.cost_per_hour_vnd)
    p.add_argument(
        "--by",
        choices=(
            "month",
            "agency",
            "procedure",
            "national",
            "service_index",
            "agency_today",
            "parent",
            "parent_today",
            "all",
        ),
        default="all",
    )
    p.add_argument(
        "--routing",
        help="a routing YAML whose unit history adds the agencies under today's units and the "
        "tables by parent unit",
    )
    p.add_argument(
        "--unit",
        help="only this unit's dossiers: received by it, by a unit under it or by one since merged "
        "into it (needs --routing for the last two)",
    )
    return p


def _totals_parser(command: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=f"python -m lienthong.report {command}")
    if command == "load-totals":
        p.add_argument(
            "file",
            help="CSV with columns period,total (the whole deployment) or unit,period,total (per "
            "unit code); period YYYY, YYYY-MM or YYYY-MM-DD",
        )
    else:
        p.add_argument("period")
        p.add_argument("total", type=int)
        p.add_argument("--unit", help="the unit's code (default: the whole deployment)")
    p.add_argument("--db")
    return p


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv and argv[0] in ("load-totals", "set-total"):
            return _totals(argv[0], _totals_parser(argv[0]).parse_args(argv[1:]))
        return _report(_report_parser().parse_args(argv))
    except StoreUnreachable as exc:
        print(exc, file=sys.stderr)
        return 2


def _report(args: argparse.Namespace) -> int:

    units = (
        parse_routing(Path(args.routing).read_text(encoding="utf-8")).registry
        if args.routing
        else None
    )
    report = build_report(
        resolve_engine(args.db),
        args.date_from,
        args.date_to,
        args.hours_per_dossier,
        args.cost_per_hour,
        units=units,
        unit=args.unit,
    )
    sys.stdout.write(render(report, args.by))
    if args.csv:
        for path in write_csv(report, args.csv):
            print(f"CSV: {path}", file=sys.stderr)
    if args.xlsx:
        print(f"XLSX: {write_xlsx(report, args.xlsx)}", file=sys.stderr)
    return 0


def _totals(command: str, args: argparse.Namespace) -> int:

    engine = resolve_engine(args.db)
    if command == "load-totals":
        n = load_district_totals(engine, args.file)
        print(f"Đã nạp {n} dòng tổng số hồ sơ từ {args.file}")
    else:
        set_district_total(engine, args.period, args.total, args.unit)
        scope = f"đơn vị {args.unit}" if args.unit else "toàn địa bàn"
        print(f"Đã ghi tổng số hồ sơ của {scope} kỳ {args.period}: {args.total}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
