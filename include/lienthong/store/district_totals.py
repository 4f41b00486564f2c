"""Totals: all dossiers per period (portal or not), of the whole deployment or of one unit,
supplied by an operator.

The article's "share entered on the portal" needs a denominator the link cannot see (dossiers
never entered on the portal), so an operator loads it: a CSV ``period,total`` (the whole district
or province) or ``unit,period,total`` (a province's units, by unit code), where period is
``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``. Loading the same file twice changes nothing.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from pathlib import Path

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from lienthong.store.schema import DistrictTotal, UnitTotal

TotalRow = tuple[str | None, str, int]  # unit (None: the whole deployment), period, total

PERIOD = re.compile(r"^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?$")


def check_period(period: str) -> str:
    """The period key as stored; ValueError for anything but YYYY, YYYY-MM or YYYY-MM-DD."""
    p = period.strip()
    if not PERIOD.match(p):
        raise ValueError(f"period {period!r} is not YYYY, YYYY-MM or YYYY-MM-DD")
    return p


def parse_totals_csv(path: Path) -> list[TotalRow]:
    """Rows of a ``[unit,]period,total`` CSV (UTF-8, BOM tolerated), validated."""
    rows: list[TotalRow] = []
    with Path(path).open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        columns = {f.strip().lower() for f in reader.fieldnames or []}
        if {"period", "total"} - columns:
            raise ValueError(
                f"{path}: expected columns [unit,]period,total, found {reader.fieldnames}"
            )
        for n, raw in enumerate(reader, start=2):
            row = {k.strip().lower(): (v or "").strip() for k, v in raw.items() if k}
            if not row["period"] and not row["total"]:
                continue
            total = int(row["total"].replace(".", "").replace(",", "").replace(" ", ""))
            if total < 0:
                raise ValueError(f"{path}:{n}: negative total {total}")
            if "unit" in columns and not row["unit"]:
                raise ValueError(f"{path}:{n}: a unit column with no unit code")
            rows.append((row.get("unit") or None, check_period(row["period"]), total))
    return rows


def upsert_totals(engine: Engine, rows: Iterable[TotalRow]) -> int:
    """Insert or replace each (unit,) period's total in one transaction; returns the rows
    written."""
    written = 0
    with Session(engine) as session, session.begin():
        for unit, period, total in rows:
            key = check_period(period)
            existing = (
                session.get(DistrictTotal, key)
                if unit is None
                else session.get(UnitTotal, (unit, key))
            )
            if existing is not None:
                existing.total = int(total)
            elif unit is None:
                session.add(DistrictTotal(period=key, total=int(total)))
            else:
                session.add(UnitTotal(unit_code=unit, period=key, total=int(total)))
            written += 1
    return written


def load_district_totals(engine: Engine, csv_path: Path | str) -> int:
    """Load an operator's ``[unit,]period,total`` CSV into ``district_total`` or ``unit_total``
    (upsert)."""
    return upsert_totals(engine, parse_totals_csv(Path(csv_path)))


def set_district_total(engine: Engine, period: str, total: int, unit: str | None = None) -> None:
    """Record one period's total, of the whole deployment or of ``unit`` (replacing any earlier
    figure)."""
    upsert_totals(engine, [(unit, period, total)])


def read_district_totals(bind: Engine | Session) -> dict[str, int]:
    """Every stored total, by period key."""
    stmt = select(DistrictTotal.period, DistrictTotal.total)
    if isinstance(bind, Session):
        return {p: int(t) for p, t in bind.execute(stmt)}
    with bind.connect() as conn:
        return {p: int(t) for p, t in conn.execute(stmt)}
