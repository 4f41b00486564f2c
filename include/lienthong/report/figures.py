"""The article's report, computed from the store: overall and by month, agency and procedure.

Two ways of counting savings sit side by side on purpose: *measured* (one
``dossier_time_savings`` row per dossier the link actually carried through) and the
*article's estimate* (every dossier processed on the portal x hours per dossier x cost per
hour), which is how the district reported 769,504,000 VND for 2022.

Every figure is bounded by the dossier's reception date (``received_at``) in
Asia/Ho_Chi_Minh; bypass documents by their promulgation date (else when found).
The queries only select rows; the arithmetic is in pure functions below them.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import partial
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Engine, and_, func, or_, select
from sqlalchemy.orm import Session

from lienthong.domain.savings import DEFAULT_SAVINGS
from lienthong.domain.states import QuarantineStatus
from lienthong.domain.timeliness import VN_TZ, timeliness
from lienthong.domain.units import UnitKind, UnitRegistry
from lienthong.domain.vocabulary import DossierStatus
from lienthong.report.national_figures import sync_figures
from lienthong.report.rates import percent
from lienthong.report.service_index import service_index
from lienthong.store.schema import (
    BypassDocument,
    DistrictTotal,
    DossierExtension,
    DossierLink,
    DossierTimeSavings,
    LinkEvent,
    Quarantine,
    UnitTotal,
)

# Submitted online but not yet accepted, or refused: not dossiers processed on the portal.
NOT_RECEIVED = (int(DossierStatus.SUBMITTED), int(DossierStatus.NOT_ACCEPTED))
FINISHED = (int(DossierStatus.FINISHED), int(DossierStatus.RETURNED))
GROUPINGS = ("month", "agency", "procedure")

# Column order of every grouped table (the key columns come first).
FIGURES = (
    "dossiers_processed",
    "district_total",
    "portal_share_pct",
    "dossiers_linked",
    "hours_saved_measured",
    "vnd_saved_measured",
    "hours_saved_article",
    "vnd_saved_article",
    "decisions_issued",
    "decisions_attached",
    "results_attached_pct",
    "early",
    "on_time",
    "late",
    "on_time_pct",
    "extended",
    "extended_late",
    "bypass_documents",
    "quarantined",
    "rejected",
)
KEYS = {
    "month": ("month",),
    "agency": ("agency_code", "agency_name"),
    "procedure": ("procedure_code", "procedure_name"),
}


@dataclass(frozen=True)
class Period:
    """Inclusive dates in Asia/Ho_Chi_Minh."""

    date_from: date
    date_to: date

    def __post_init__(self) -> None:
        if self.date_to < self.date_from:
            raise ValueError(f"period ends ({self.date_to}) before it starts ({self.date_from})")

    def bounds_utc(self) -> tuple[datetime, datetime]:
        """[start, end) instants in UTC: local midnight of the first day to midnight after the
        last."""
        start = datetime.combine(self.date_from, time(0), VN_TZ)
        end = datetime.combine(self.date_to + timedelta(days=1), time(0), VN_TZ)
        return start.astimezone(UTC), end.astimezone(UTC)

    def label(self) -> str:
        return f"{self.date_from.isoformat()}..{self.date_to.isoformat()}"


# --------------------------------------------------------------------------- pure arithmetic


def article_estimate(
    dossiers: int,
    hours_per_dossier: float = DEFAULT_SAVINGS.hours_per_dossier,
    cost_per_hour: int = DEFAULT_SAVINGS.cost_per_hour_vnd,
) -> tuple[float, int]:
    """The article's method: (hours, VND) = dossiers x hours per dossier (x cost per hour), VND
    half-up."""
    hours = Decimal(int(dossiers)) * Decimal(str(hours_per_dossier))
    vnd = (hours * Decimal(int(cost_per_hour))).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return float(hours), int(vnd)


def on_time_rate(early: int, on_time: int, late: int) -> float | None:
    """Share finished by the due date (early counts as on time, as in the national reports)."""
    return percent(early + on_time, early + on_time + late)


def local_date(at: datetime | None) -> datetime | None:
    return None if at is None else at.astimezone(VN_TZ)


def month_key(at: datetime) -> str:
    return at.astimezone(VN_TZ).strftime("%Y-%m")


def previous_month(day: date) -> Period:
    """The calendar month before ``day``'s month (the monthly run's default period)."""
    last = day.replace(day=1) - timedelta(days=1)
    return Period(last.replace(day=1), last)


def _month_end(d: date) -> date:
    return d.replace(day=calendar.monthrange(d.year, d.month)[1])


def _month_total(totals: Mapping[str, int], year: int, month: int) -> int | None:
    key = f"{year:04d}-{month:02d}"
    if key in totals:
        return int(totals[key])
    first = date(year, month, 1)
    days = [(first + timedelta(i)).isoformat() for i in range((_month_end(first) - first).days + 1)]
    return sum(int(totals[d]) for d in days) if all(d in totals for d in days) else None


def _year_total(totals: Mapping[str, int], year: int) -> int | None:
    if f"{year:04d}" in totals:
        return int(totals[f"{year:04d}"])
    months = [_month_total(totals, year, m) for m in range(1, 13)]
    return None if any(m is None for m in months) else sum(months)  # type: ignore[misc]


def district_total_for(totals: Mapping[str, int], date_from: date, date_to: date) -> int | None:
    """The district's dossiers in [date_from, date_to] from year, month or day rows; None if
    unknown.

    Whole years use the year row (else its months), whole months the month row (else its
    days), any partial month its day rows: a figure is never guessed from a coarser one.
    """
    total, d = 0, date_from
    while d <= date_to:
        if (d.month, d.day) == (1, 1) and date(d.year, 12, 31) <= date_to:
            part, nxt = _year_total(totals, d.year), date(d.year + 1, 1, 1)
        elif d.day == 1 and _month_end(d) <= date_to:
            part, nxt = _month_total(totals, d.year, d.month), _month_end(d) + timedelta(days=1)
        else:
            value = totals.get(d.isoformat())
            part, nxt = (None if value is None else int(value)), d + timedelta(days=1)
        if part is None:
            return None
        total, d = total + part, nxt
    return total


# --------------------------------------------------------------------------- queries


@contextmanager
def _connection(bind: Engine | Session | Connection) -> Iterator[Connection | Session]:
    if isinstance(bind, (Session, Connection)):
        yield bind
    else:
        with bind.connect() as conn:
            yield conn


def _in(col, start: datetime, end: datetime):
    return and_(col >= start, col < end)


def _rows(conn, stmt) -> list[dict[str, Any]]:
    return [dict(r._mapping) for r in conn.execute(stmt)]


def _columns(model: type, names: str) -> list[Any]:
    return [getattr(model, name) for name in names.split()]


_LINK_COLUMNS = (
    "dossier_code agency_code agency_name procedure_code procedure_name result_kind state "
    "portal_status received_at due_at issued_at attached_at finished_at"
)
_SAVINGS_COLUMNS = (
    "agency_code agency_name procedure_code procedure_name received_at minutes_saved cost_saved_vnd"
)


def query_links(conn, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """The period's links (by reception), with whether iOffice ever sent the draft back."""
    ever_rejected = (
        select(LinkEvent.id)
        .where(LinkEvent.dossier_code == DossierLink.dossier_code, LinkEvent.to_state == "rejected")
        .exists()
    )
    extended = (
        select(DossierExtension.dossier_code)
        .where(DossierExtension.dossier_code == DossierLink.dossier_code)
        .exists()
    )
    columns = [
        *_columns(DossierLink, _LINK_COLUMNS),
        ever_rejected.label("ever_rejected"),
        extended.label("extended"),
    ]
    return _rows(conn, select(*columns).where(_in(DossierLink.received_at, start, end)))


def query_savings(conn, start: datetime, end: datetime) -> list[dict[str, Any]]:
    columns = _columns(DossierTimeSavings, _SAVINGS_COLUMNS)
    return _rows(conn, select(*columns).where(_in(DossierTimeSavings.received_at, start, end)))


def query_bypasses(conn, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """Bypass documents dated in the period: promulgation date when known, else when found."""
    doc = BypassDocument
    columns = _columns(doc, "agency_code agency_name promulgation_date found_at")
    dated = or_(
        _in(doc.promulgation_date, start, end),
        and_(doc.promulgation_date.is_(None), _in(doc.found_at, start, end)),
    )
    return _rows(conn, select(*columns).where(dated))


def query_totals(conn) -> dict[str, int]:
    return {p: int(t) for p, t in conn.execute(select(DistrictTotal.period, DistrictTotal.total))}


def query_unit_totals(conn) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for unit, period, total in conn.execute(
        select(UnitTotal.unit_code, UnitTotal.period, UnitTotal.total)
    ):
        out.setdefault(unit, {})[period] = int(total)
    return out


def query_open_quarantine(conn) -> int:
    open_records = (
        select(func.count())
        .select_from(Quarantine)
        .where(Quarantine.status == QuarantineStatus.OPEN)
    )
    return int(conn.execute(open_records).scalar_one())


# --------------------------------------------------------------------------- frames (pure)


@dataclass(frozen=True)
class Inputs:
    """Everything the report needs, as read from the store (so the arithmetic stays pure)."""

    period: Period
    links: list[dict[str, Any]]
    savings: list[dict[str, Any]]
    bypasses: list[dict[str, Any]]
    totals: Mapping[str, int]
    quarantine_open_total: int = 0
    # Per unit code, its totals by period (a province's denominators); empty = none loaded.
    unit_totals: Mapping[str, Mapping[str, int]] = field(default_factory=dict)


def read_inputs(bind: Engine | Session | Connection, date_from: date, date_to: date) -> Inputs:
    period = Period(_as_date(date_from), _as_date(date_to))
    start, end = period.bounds_utc()
    with _connection(bind) as conn:
        unit_totals = query_unit_totals(conn)
        return Inputs(
            period,
            query_links(conn, start, end),
            query_savings(conn, start, end),
            query_bypasses(conn, start, end),
            {**summed_totals(unit_totals), **query_totals(conn)},  # a loaded total wins
            query_open_quarantine(conn),
            unit_totals,
        )


def summed_totals(units: Mapping[str, Mapping[str, int]]) -> dict[str, int]:
    """The whole deployment's totals per period as the sum of its units' (a province that loads
    only its units' figures)."""
    summed: dict[str, int] = {}
    for periods in units.values():
        for period, total in periods.items():
            summed[period] = summed.get(period, 0) + total
    return summed


def _as_date(value: date | str) -> date:
    if isinstance(value, datetime):
        return value.date()
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _unit_and_procedure(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        key: row[key] for key in ("agency_code", "agency_name", "procedure_code", "procedure_name")
    }


def link_facts(link: Mapping[str, Any]) -> dict[str, Any]:
    """One link's contribution to every count (0/1 flags), keyed like the tables."""
    finished = link["portal_status"] in FINISHED and link["finished_at"] is not None
    kind = (
        timeliness(local_date(link["finished_at"]), local_date(link["due_at"]))
        if finished
        else None
    )
    decision = link["result_kind"] == "decision"
    issued = decision and link["issued_at"] is not None
    return {
        "month": month_key(link["received_at"]),
        **_unit_and_procedure(link),
        "dossiers_processed": int(link["portal_status"] not in NOT_RECEIVED),
        "decisions_issued": int(issued),
        "decisions_attached": int(issued and link["attached_at"] is not None),
        "early": int(kind == "early"),
        "on_time": int(kind == "on_time"),
        "late": int(kind == "late"),
        "quarantined": int(link["state"] == "quarantined"),
        "rejected": int(bool(link["ever_rejected"])),
        "extended": int(bool(link["extended"])),  # on time is judged against the latest date
        "extended_late": int(bool(link["extended"]) and kind == "late"),
    }


def saving_facts(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "month": month_key(row["received_at"]),
        **_unit_and_procedure(row),
        "dossiers_linked": 1,
        "minutes_saved": int(row["minutes_saved"]),
        "vnd_saved_measured": int(row["cost_saved_vnd"]),
    }


def bypass_facts(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "month": month_key(row["promulgation_date"] or row["found_at"]),
        "agency_code": row["agency_code"] or "",
        "agency_name": row["agency_name"] or "",
        "bypass_documents": 1,
    }


LINK_SUMS = (
    "dossiers_processed",
    "decisions_issued",
    "decisions_attached",
    "early",
    "on_time",
    "late",
    "extended",
    "extended_late",
    "quarantined",
    "rejected",
)
SAVING_SUMS = ("dossiers_linked", "minutes_saved", "vnd_saved_measured")
ALL_SUMS = (*LINK_SUMS, *SAVING_SUMS, "bypass_documents")


def _facts(inputs: Inputs, with_bypasses: bool = True) -> Iterator[dict[str, Any]]:
    yield from map(link_facts, inputs.links)
    yield from map(saving_facts, inputs.savings)
    if with_bypasses:
        yield from map(bypass_facts, inputs.bypasses)


def tally(
    facts: Iterator[dict[str, Any]], keys: tuple[str, ...]
) -> tuple[dict[Any, dict[str, int]], dict[Any, str]]:
    """Sum every count per ``keys[0]``; the name column (``keys[1]``) is its first non-empty
    value."""
    counts: dict[Any, dict[str, int]] = {}
    names: dict[Any, str] = {}
    for rec in facts:
        key = rec.get(keys[0]) if keys else None
        c = counts.setdefault(key, dict.fromkeys(ALL_SUMS, 0))
        for s in ALL_SUMS:
            c[s] += int(rec.get(s, 0))
        if len(keys) > 1 and not names.get(key) and rec.get(keys[1]):
            names[key] = rec[keys[1]]
    return counts, names


def grouped(
    inputs: Inputs,
    by: str,
    hours_per_dossier: float = DEFAULT_SAVINGS.hours_per_dossier,
    cost_per_hour: int = DEFAULT_SAVINGS.cost_per_hour_vnd,
) -> pd.DataFrame:
    """One table row per month / agency / procedure, columns ``KEYS[by] + FIGURES``, sorted by
    key."""
    if by not in KEYS:
        raise ValueError(f"unknown grouping {by!r} (use {', '.join(GROUPINGS)})")
    keys = KEYS[by]
    counts, names = tally(
        _facts(inputs, with_bypasses=by != "procedure"), keys
    )  # bypasses have no procedure
    rows = []
    for key in sorted(counts, key=lambda k: (k is None, str(k))):
        row: dict[str, Any] = {keys[0]: key}
        if len(keys) > 1:
            row[keys[1]] = names.get(key, "")
        row.update(_figures(counts[key], hours_per_dossier, cost_per_hour))
        if by == "month":
            row["district_total"] = _month_district_total(inputs, key)
        elif by == "agency" and key in inputs.unit_totals:
            period = inputs.period
            row["district_total"] = district_total_for(
                inputs.unit_totals[key], period.date_from, period.date_to
            )
        row["portal_share_pct"] = percent(row["dossiers_processed"], row["district_total"])
        rows.append(row)
    columns = [*keys, *(f for f in FIGURES if not (by == "procedure" and f == "bypass_documents"))]
    frame = pd.DataFrame(rows, columns=columns)
    for name in (
        "portal_share_pct",
        "results_attached_pct",
        "on_time_pct",
        "hours_saved_measured",
        "hours_saved_article",
    ):  # unknown -> NaN, whatever the mix of rows
        frame[name] = pd.to_numeric(frame[name], errors="coerce").astype("float64")
    frame["district_total"] = pd.to_numeric(frame["district_total"], errors="coerce").astype(
        "Int64"
    )
    return frame


def _figures(
    counts: Mapping[str, int], hours_per_dossier: float, cost_per_hour: int
) -> dict[str, Any]:
    hours, vnd = article_estimate(counts["dossiers_processed"], hours_per_dossier, cost_per_hour)
    return {
        "dossiers_processed": counts["dossiers_processed"],
        "district_total": None,
        "portal_share_pct": None,
        "dossiers_linked": counts["dossiers_linked"],
        "hours_saved_measured": counts["minutes_saved"] / 60,
        "vnd_saved_measured": counts["vnd_saved_measured"],
        "hours_saved_article": hours,
        "vnd_saved_article": vnd,
        "decisions_issued": counts["decisions_issued"],
        "decisions_attached": counts["decisions_attached"],
        "results_attached_pct": percent(counts["decisions_attached"], counts["decisions_issued"]),
        "early": counts["early"],
        "on_time": counts["on_time"],
        "late": counts["late"],
        "on_time_pct": on_time_rate(counts["early"], counts["on_time"], counts["late"]),
        "extended": counts["extended"],
        "extended_late": counts["extended_late"],
        "bypass_documents": counts["bypass_documents"],
        "quarantined": counts["quarantined"],
        "rejected": counts["rejected"],
    }


def _month_district_total(inputs: Inputs, month: str) -> int | None:
    """The district total of the part of ``month`` inside the period."""
    first = date.fromisoformat(f"{month}-01")
    lo, hi = max(first, inputs.period.date_from), min(_month_end(first), inputs.period.date_to)
    return district_total_for(inputs.totals, lo, hi)


def summary(
    inputs: Inputs,
    hours_per_dossier: float = DEFAULT_SAVINGS.hours_per_dossier,
    cost_per_hour: int = DEFAULT_SAVINGS.cost_per_hour_vnd,
) -> dict[str, Any]:
    """The period's headline figures: a flat JSON-safe dict (no personal data)."""
    counts = tally(_facts(inputs), ())[0].get(None, dict.fromkeys(ALL_SUMS, 0))
    out: dict[str, Any] = {
        "date_from": inputs.period.date_from.isoformat(),
        "date_to": inputs.period.date_to.isoformat(),
        "hours_per_dossier": float(hours_per_dossier),
        "cost_per_hour": int(cost_per_hour),
    }
    out.update(_figures(counts, hours_per_dossier, cost_per_hour))
    out["district_total"] = district_total_for(
        inputs.totals, inputs.period.date_from, inputs.period.date_to
    )
    out["portal_share_pct"] = percent(counts["dossiers_processed"], out["district_total"])
    out["quarantine_open_total"] = int(inputs.quarantine_open_total)
    return out


# --------------------------------------------------------------------------- the API


@dataclass(frozen=True)
class Report:
    """The whole report of one period: headline dict and one DataFrame per grouping."""

    headline: dict[str, Any]
    by_month: pd.DataFrame
    by_agency: pd.DataFrame
    by_procedure: pd.DataFrame
    national: pd.DataFrame = field(default_factory=pd.DataFrame)  # sync to DVCQG by agency
    service_index: pd.DataFrame = field(default_factory=pd.DataFrame)  # Decision 766, unit x month
    # By agency under today's units (through the succession of merged and abolished units); empty
    # when the routing lists no unit history.
    by_agency_today: pd.DataFrame = field(default_factory=pd.DataFrame)
    # By parent unit and kind, as received and under today's units; empty without a unit history.
    by_parent: pd.DataFrame = field(default_factory=pd.DataFrame)
    by_parent_today: pd.DataFrame = field(default_factory=pd.DataFrame)

    def table(self, by: str) -> pd.DataFrame:
        return {
            "month": self.by_month,
            "agency": self.by_agency,
            "procedure": self.by_procedure,
            "national": self.national,
            "service_index": self.service_index,
            "agency_today": self.by_agency_today,
            "parent": self.by_parent,
            "parent_today": self.by_parent_today,
        }[by]


def build_report(
    bind: Engine | Session | Connection,
    date_from: date | str,
    date_to: date | str,
    hours_per_dossier: float = DEFAULT_SAVINGS.hours_per_dossier,
    cost_per_hour: int = DEFAULT_SAVINGS.cost_per_hour_vnd,
    units: UnitRegistry | None = None,
    today: date | None = None,
    unit: str | None = None,
) -> Report:
    """Read the store once and compute every table; with ``units`` (a unit history), also the
    agencies' figures under the units of ``today`` (default: the real today) and by parent unit;
    with ``unit``, only the dossiers of that unit and of the units under it or merged into it."""

    inputs = read_inputs(bind, date_from, date_to)
    registry = units if units is not None and units.units else None
    day = today or datetime.now(VN_TZ).date()
    if unit:
        inputs = within_unit(inputs, registry or UnitRegistry(), unit, day)
    agencies = _codes(inputs) if unit else None
    national = pd.DataFrame(
        sync_figures(bind, _as_date(date_from), _as_date(date_to), by="agency", agencies=agencies)
    )
    rates = (hours_per_dossier, cost_per_hour)
    today_inputs = under_units(inputs, registry, day) if registry else None
    return Report(
        summary(inputs, *rates),
        *(grouped(inputs, by, *rates) for by in GROUPINGS),
        national=national,
        service_index=service_index(bind, _as_date(date_from), _as_date(date_to)),
        by_agency_today=grouped(today_inputs, "agency", *rates) if today_inputs else pd.DataFrame(),
        by_parent=by_parent(inputs, registry, *rates) if registry else pd.DataFrame(),
        by_parent_today=by_parent(today_inputs, registry, *rates)
        if today_inputs
        else pd.DataFrame(),
    )


def _codes(inputs: Inputs) -> set[str]:
    return {r["agency_code"] for rows in (inputs.links, inputs.savings) for r in rows}


def _relabelled(inputs: Inputs, label: Callable[[str], tuple[str, str]]) -> Inputs:
    """The same inputs with each row's agency (and each unit total) counted under ``label(code)``
    = (code, name)."""

    def moved(row: dict[str, Any]) -> dict[str, Any]:
        if not row.get("agency_code"):
            return row
        code, name = label(row["agency_code"])
        if code == row["agency_code"]:
            return row
        return {**row, "agency_code": code, "agency_name": name}

    unit_totals: dict[str, dict[str, int]] = {}
    for code, periods in inputs.unit_totals.items():
        merged = unit_totals.setdefault(label(code)[0], {})
        for period, total in periods.items():
            merged[period] = merged.get(period, 0) + total
    for code in _codes(inputs) - set(inputs.unit_totals):  # a group's total needs all its units'
        unit_totals.pop(label(code)[0], None)
    return replace(
        inputs,
        links=[moved(r) for r in inputs.links],
        savings=[moved(r) for r in inputs.savings],
        bypasses=[moved(r) for r in inputs.bypasses],
        unit_totals=unit_totals,
    )


def under_units(inputs: Inputs, units: UnitRegistry, day: date) -> Inputs:
    """The same inputs with each row's agency replaced by the unit it counts under on ``day``."""

    def today_unit(code: str) -> tuple[str, str]:
        now = units.today_unit(code, day)
        return now, units.name_of(now, now)

    return _relabelled(inputs, today_unit)


#: A unit's kind, as officials name the level (the parent-unit table's rows).
KIND_VI = {
    UnitKind.PROVINCE: "cấp tỉnh",
    UnitKind.DEPARTMENT: "sở, ban, ngành",
    UnitKind.DISTRICT: "cấp huyện",
    UnitKind.DISTRICT_OFFICE: "phòng, ban cấp huyện",
    UnitKind.COMMUNE: "xã, phường, thị trấn, đặc khu",
    UnitKind.OTHER: "đơn vị khác",
}


def by_parent(inputs: Inputs, units: UnitRegistry, *rates: Any) -> pd.DataFrame:
    """One row per parent unit and kind of unit under it (the province's departments, its
    communes; a district's offices and communes, while it existed): columns ``parent_code``,
    ``parent_name`` + FIGURES; ``rates``: hours per dossier and cost per hour, as for
    :func:`grouped`."""

    def level(code: str) -> tuple[str, str]:
        found = units.get(code)
        if found is None:
            return "", "Đơn vị chưa khai báo"
        parent = found.parent or found.code
        return f"{parent}/{found.kind}", f"{units.name_of(parent, parent)} – {KIND_VI[found.kind]}"

    frame = grouped(_relabelled(inputs, level), "agency", *rates)
    return frame.rename(columns={"agency_code": "parent_code", "agency_name": "parent_name"})


def within_unit(inputs: Inputs, units: UnitRegistry, code: str, day: date) -> Inputs:
    """Only the rows of unit ``code``: received by it, by a unit under it, or by a unit since
    merged into it (or into a unit under it); the whole deployment's totals become the sum of
    those units' totals."""

    def inside(agency: str) -> bool:
        now = units.today_unit(agency, day)
        return (
            code in (agency, now) or code in units.ancestors(agency) or code in units.ancestors(now)
        )

    def keep(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [r for r in rows if r.get("agency_code") and inside(r["agency_code"])]

    unit_totals = {u: p for u, p in inputs.unit_totals.items() if inside(u)}
    kept = replace(
        inputs,
        links=keep(inputs.links),
        savings=keep(inputs.savings),
        bypasses=keep(inputs.bypasses),
        unit_totals=unit_totals,
    )
    complete = _codes(kept) <= set(unit_totals)  # the sum of some units' totals is no total
    return replace(kept, totals=summed_totals(unit_totals) if complete else {})


def from_store(
    compute: Callable[..., Any],
    bind: Engine | Session | Connection,
    date_from: date | str,
    date_to: date | str,
    hours_per_dossier: float = DEFAULT_SAVINGS.hours_per_dossier,
    cost_per_hour: int = DEFAULT_SAVINGS.cost_per_hour_vnd,
    **options: Any,
) -> Any:
    """``compute`` (:func:`summary`, :func:`grouped`) over the period's inputs read from the
    store."""
    inputs = read_inputs(bind, date_from, date_to)
    return compute(
        inputs, hours_per_dossier=hours_per_dossier, cost_per_hour=cost_per_hour, **options
    )


# Headline figures of the period (keys: dossiers_processed, hours_saved_measured, ... see FIGURES),
# and one grouping's table each, read from the store.
headline = partial(from_store, summary)
by_month = partial(from_store, grouped, by="month")
by_agency = partial(from_store, grouped, by="agency")
by_procedure = partial(from_store, grouped, by="procedure")


def resolve_period(date_from: str | date | None, date_to: str | date | None, today: date) -> Period:
    """The on-demand period, or the month before ``today`` when either end is left empty."""
    if not date_from or not date_to:
        return previous_month(today)
    return Period(_as_date(date_from), _as_date(date_to))
