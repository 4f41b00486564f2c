"""District totals: all dossiers of the district per period (portal or not), supplied by an
operator.

The article's "share entered on the portal" needs a denominator the link cannot see (dossiers
never entered on the portal), so an operator loads it: a CSV ``period,total`` where period is
``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``. Loading the same file twice changes nothing.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from pathlib import Path

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from lienthong.store.schema import DistrictTotal

PERIOD = re.compile(r"^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?$")


def check_period(period: str) -> str:
    """The period key as stored; ValueError for anything but YYYY, YYYY-MM or YYYY-MM-DD."""
    p = period.strip()
    if not PERIOD.match(p):
        raise ValueError(f"period {period!r} is not YYYY, YYYY-MM or YYYY-MM-DD")
    return p


def parse_totals_csv(path: Path) -> list[tuple[str, int]]:
    """Rows of a ``period,total`` CSV (UTF-8, BOM tolerated), validated."""
    rows: list[tuple[str, int]] = []
    with Path(path).open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        if not reader.fieldnames or {"period", "total"} - {
            f.strip().lower() for f in reader.fieldnames
        }:
            raise ValueError(f"{path}: expected columns period,total, found {reader.fieldnames}")
        for n, raw in enumerate(reader, start=2):
            row = {k.strip().lower(): (v or "").strip() for k, v in raw.items() if k}
            if not row["period"] and not row["total"]:
                continue
            total = int(row["total"].replace(".", "").replace(",", "").replace(" ", ""))
            if total < 0:
                raise ValueError(f"{path}:{n}: negative total {total}")
            rows.append((check_period(row["period"]), total))
    return rows


def upsert_totals(engine: Engine, rows: Iterable[tuple[str, int]]) -> int:
    """Insert or replace each period's total in one transaction; returns the rows written."""
    written = 0
    with Session(engine) as session, session.begin():
        for period, total in rows:
            existing = session.get(DistrictTotal, check_period(period))
            if existing is None:
                session.add(DistrictTotal(period=check_period(period), total=int(total)))
            else:
                existing.total = int(total)
            written += 1
    return written


def load_district_totals(engine: Engine, csv_path: Path | str) -> int:
    """Load an operator's ``period,total`` CSV into ``district_total`` (upsert)."""
    return upsert_totals(engine, parse_totals_csv(Path(csv_path)))


def set_district_total(engine: Engine, period: str, total: int) -> None:
    """Record one period's total (replacing any earlier figure)."""
    upsert_totals(engine, [(period, total)])


def read_district_totals(bind: Engine | Session) -> dict[str, int]:
    """Every stored total, by period key."""
    stmt = select(DistrictTotal.period, DistrictTotal.total)
    if isinstance(bind, Session):
        return {p: int(t) for p, t in bind.execute(stmt)}
    with bind.connect() as conn:
        return {p: int(t) for p, t in conn.execute(stmt)}
