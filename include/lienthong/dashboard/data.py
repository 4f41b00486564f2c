"""Read side of the dashboard: the report's figures, one dossier's timeline, quarantine, watchlists.

Periods are calendar days in Vietnam time (UTC+7), the officials' own calendar; the store keeps UTC.
Everything returned is plain data, already masked, so templates never see raw personal data.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any

import pandas as pd
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from lienthong.dashboard.audit import ACTION_LABELS_VI, outcome_label
from lienthong.domain.masking import mask_text
from lienthong.domain.savings import DEFAULT_SAVINGS
from lienthong.domain.states import STATE_LABELS_VI
from lienthong.domain.units import Unit, UnitRegistry
from lienthong.domain.working_calendar import DEFAULT_NEAR_DUE_WORKING_DAYS
from lienthong.pipeline.deadlines import CalendarConfig
from lienthong.pipeline.heal import NeedsPerson, needs_person
from lienthong.reconcile.watchlists import (
    RevokedReturned,
    WatchItem,
    late_links,
    portal_now,
    revoked_after_return,
    stuck_links,
)
from lienthong.report import figures
from lienthong.report.national_figures import sync_figures
from lienthong.store.ledger import OPERATOR_ACTION
from lienthong.store.schema import DossierLink, LinkEvent, Quarantine

VN_TZ = timezone(timedelta(hours=7))
# Event detail keys that hold system identifiers, never personal data: shown as they are so
# operators
# can find the document in iOffice (everything else is masked where it looks like an ID or phone).
TECHNICAL_KEYS = frozenset(
    {
        "doc_id",
        "code_notation",
        "outcome",
        "sha256",
        "file_id",
        "quarantine_id",
        "unit",
        "agency",
        "procedure",
        "status",
        "portal_status",
        "previous_status",
    }
)
EVENT_LABELS_VI = {OPERATOR_ACTION: "Thao tác của cán bộ"}


@dataclass(frozen=True)
class Period:
    date_from: date
    date_to: date  # inclusive

    @property
    def start(self) -> datetime:
        return datetime.combine(self.date_from, time.min, VN_TZ)

    @property
    def end(self) -> datetime:
        """Exclusive upper bound: midnight after ``date_to``."""
        return datetime.combine(self.date_to + timedelta(days=1), time.min, VN_TZ)


def local_date(value: datetime | None) -> date | None:
    return value.astimezone(VN_TZ).date() if value else None


def data_period(engine: Engine) -> Period:
    """The range of reception dates in the store (today when it is empty): the default period."""
    with Session(engine) as s:
        lo, hi = s.execute(
            select(func.min(DossierLink.received_at), func.max(DossierLink.received_at))
        ).one()
    if lo is None:
        today = datetime.now(VN_TZ).date()
        return Period(today, today)
    return Period(local_date(lo), local_date(hi))


@dataclass(frozen=True)
class Series:
    """Dossiers processed and money saved (measured) per key: a month ``YYYY-MM`` or an agency."""

    keys: list[str]
    dossiers: list[int]
    money_vnd: list[int]


@dataclass(frozen=True)
class Overview:
    headline: dict[str, Any]  # lienthong.report.figures.summary: the same figures as the report
    by_month: Series
    by_agency: Series
    national: dict[str, Any] | None = (
        None  # lienthong.report.national_figures: the period's sync figures
    )
    national_by_agency: tuple[dict[str, Any], ...] = ()
    # The unit tables of the chosen view (as received, or under today's units) and parent units.
    units: tuple[dict[str, Any], ...] = ()
    parents: tuple[dict[str, Any], ...] = ()


#: The two ways to count a dossier's unit: the unit that received it, or that unit's successor.
VIEWS = {"received": "Theo đơn vị tiếp nhận", "today": "Theo đơn vị hiện nay"}


def unit_choices(units: UnitRegistry, day: date) -> list[tuple[str, str]]:
    """(code, label) of every unit to filter by: today's first (parents before their units), then
    the units that no longer exist, marked with their last day."""

    def label(unit: Unit) -> str:
        depth = "— " * len(units.ancestors(unit.code))
        gone = f" (đến {unit.valid_to:%d/%m/%Y})" if unit.valid_to else ""
        return f"{depth}{unit.name}{gone}"

    def order(unit: Unit) -> tuple[bool, list[str], str]:
        path = [*reversed(units.ancestors(unit.code)), unit.code]
        return (not unit.valid_on(day), path, unit.name)

    return [(u.code, label(u)) for u in sorted(units.units.values(), key=order)]


def _records(frame: pd.DataFrame) -> tuple[dict[str, Any], ...]:
    return tuple(frame.astype(object).where(frame.notna(), None).to_dict("records"))


def _series(frame: pd.DataFrame, key: str) -> Series:
    return Series(
        [str(k) for k in frame[key]],
        [int(v) for v in frame["dossiers_processed"]],
        [int(v) for v in frame["vnd_saved_measured"]],
    )


def overview(
    engine: Engine,
    period: Period,
    hours_per_dossier: float = DEFAULT_SAVINGS.hours_per_dossier,
    cost_per_hour: int = DEFAULT_SAVINGS.cost_per_hour_vnd,
    top_agencies: int = 12,
    *,
    units: UnitRegistry | None = None,
    unit: str | None = None,
    view: str = "received",
    today: date | None = None,
) -> Overview:
    """Headline and charts from the report module, so the dashboard and the report never
    disagree; ``unit`` narrows everything to a unit (and those under or merged into it), ``view``
    counts each dossier under the unit that received it or under today's unit."""
    report = figures.build_report(
        engine,
        period.date_from,
        period.date_to,
        hours_per_dossier,
        cost_per_hour,
        units=units,
        today=today,
        unit=unit,
    )
    today_view = view == "today" and not report.by_agency_today.empty  # needs a unit history
    by_unit = report.by_agency_today if today_view else report.by_agency
    parents = report.by_parent_today if today_view else report.by_parent
    agencies = by_unit.sort_values(["dossiers_processed", "agency_name"], ascending=[False, True])
    codes = set(report.by_agency["agency_code"]) if unit else None
    total = sync_figures(engine, period.date_from, period.date_to, agencies=codes)
    return Overview(
        report.headline,
        _series(report.by_month, "month"),
        _series(agencies.head(top_agencies), "agency_name"),
        national=total[0] if total else None,
        national_by_agency=_records(report.national),
        units=_records(by_unit),
        parents=_records(parents),
    )


@dataclass(frozen=True)
class TimelineRow:
    at: datetime
    run_id: str
    task_id: str
    kind: str
    from_label: str
    to_label: str
    detail: list[tuple[str, str]]
    label: str = ""  # the kind in Vietnamese where officials need it (operator actions)


@dataclass(frozen=True)
class DossierView:
    code: str
    summary: dict[str, Any]
    events: list[TimelineRow]
    quarantine: list[dict[str, Any]]


def _masked_detail(detail: Any) -> list[tuple[str, str]]:
    """Flatten an event's detail to (key, value) strings with any ID- or phone-like number
    masked."""
    if not detail:
        return []
    if not isinstance(detail, dict):
        detail = {"": detail}
    out = []
    for k, v in detail.items():
        text = v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)
        out.append((str(k), text if k in TECHNICAL_KEYS else mask_text(text)))
    return out


def _operator_detail(detail: dict[str, Any]) -> list[tuple[str, str]]:
    """An operator action as officials read it: who, what, on what, with what outcome."""
    action = str(detail.get("action", ""))
    return [
        ("Cán bộ", str(detail.get("actor", ""))),
        ("Thao tác", ACTION_LABELS_VI.get(action, action)),
        ("Đối tượng", str(detail.get("target", ""))),  # built from technical identifiers only
        ("Kết quả", outcome_label(str(detail.get("outcome", "")))),
    ]


def _timeline_row(e: LinkEvent) -> TimelineRow:
    operator = e.kind == OPERATOR_ACTION and isinstance(e.detail, dict)
    return TimelineRow(
        e.at,
        e.run_id or "",
        e.task_id or "",
        e.kind,
        state_label(e.from_state),
        state_label(e.to_state),
        _operator_detail(e.detail) if operator else _masked_detail(e.detail),
        EVENT_LABELS_VI.get(e.kind, e.kind),
    )


def state_label(state: str | None) -> str:
    return STATE_LABELS_VI.get(state or "", state or "")


def dossier_view(engine: Engine, code: str) -> DossierView | None:
    """One dossier's story: its link record and every provenance event, oldest first."""
    code = code.strip()
    with Session(engine) as s:
        link = s.scalar(select(DossierLink).where(DossierLink.dossier_code == code))
        events = list(
            s.scalars(
                select(LinkEvent)
                .where(LinkEvent.dossier_code == code)
                .order_by(LinkEvent.at, LinkEvent.id)
            )
        )
        quarantined = list(s.scalars(select(Quarantine).where(Quarantine.dossier_code == code)))
    if link is None and not events:
        return None
    summary: dict[str, Any] = {}
    if link is not None:
        summary = {
            "agency": link.agency_name,
            "procedure": f"{link.procedure_code} — {link.procedure_name}",
            "state": state_label(link.state),
            "portal_status": link.portal_status,
            "received_at": link.received_at,
            "due_at": link.due_at,
            "transferred_at": link.transferred_at,
            "signed_at": link.signed_at,
            "issued_at": link.issued_at,
            "attached_at": link.attached_at,
            "finished_at": link.finished_at,
            "doc_code_notation": link.doc_code_notation,
            "last_error": mask_text(link.last_error) if link.last_error else None,
        }
    rows = [_timeline_row(e) for e in events]
    quarantine = [{"id": q.id, "reason": q.reason_vi, "status": q.status} for q in quarantined]
    return DossierView(code, summary, rows, quarantine)


@dataclass(frozen=True)
class QuarantineRow:
    id: int
    source: str
    dossier_code: str
    reason_code: str
    reason_vi: str
    detail: str
    occurrences: int
    first_seen_at: datetime
    last_seen_at: datetime
    status: str
    resolution: str


def quarantine_list(
    engine: Engine, status: str | None = "open", limit: int = 500
) -> list[QuarantineRow]:
    with Session(engine) as s:
        q = select(Quarantine).order_by(Quarantine.last_seen_at.desc()).limit(limit)
        if status:
            q = q.where(Quarantine.status == status)
        recs = list(s.scalars(q))
    return [
        QuarantineRow(
            r.id,
            r.source,
            r.dossier_code or "",
            r.reason_code,
            r.reason_vi,
            mask_text(r.detail or "")[:400],
            r.occurrences,
            r.first_seen_at,
            r.last_seen_at,
            r.status,
            mask_text(r.resolution or ""),
        )
        for r in recs
    ]


@dataclass(frozen=True)
class PayloadView:
    id: int
    source: str
    dossier_code: str
    reason_vi: str
    status: str
    payload_json: str  # escaped by the template, never marked safe


def quarantine_payload(engine: Engine, quarantine_id: int) -> PayloadView | None:
    """The record's stored payload as indented JSON. The portal adapter stored it without the
    applicant's identity (``without_personal_data``); iOffice packages carry document metadata
    only."""
    with Session(engine) as s:
        rec = s.get(Quarantine, quarantine_id)
        if rec is None:
            return None
        text = json.dumps(
            rec.payload or {}, ensure_ascii=False, indent=2, sort_keys=True, default=str
        )
        return PayloadView(
            rec.id, rec.source, rec.dossier_code or "", rec.reason_vi, rec.status, text
        )


@dataclass(frozen=True)
class OperatorAction:
    at: datetime
    run_id: str
    dossier_code: str
    actor: str
    action: str
    target: str
    outcome: str


def operator_actions(engine: Engine, limit: int = 300) -> list[OperatorAction]:
    """The audit trail, newest first: every ``operator_action`` event of the store's event log."""
    with Session(engine) as s:
        events = list(
            s.scalars(
                select(LinkEvent)
                .where(LinkEvent.kind == OPERATOR_ACTION)
                .order_by(LinkEvent.at.desc(), LinkEvent.id.desc())
                .limit(limit)
            )
        )
    out = []
    for e in events:
        d = e.detail if isinstance(e.detail, dict) else {}
        out.append(
            OperatorAction(
                e.at,
                e.run_id or "",
                e.dossier_code or "",
                str(d.get("actor", "")),
                str(d.get("action", "")),
                str(d.get("target", "")),
                str(d.get("outcome", "")),
            )
        )
    return out


def quarantine_status(engine: Engine, quarantine_id: int) -> str | None:
    with Session(engine) as s:
        rec = s.get(Quarantine, quarantine_id)
        return rec.status if rec else None


@dataclass(frozen=True)
class Watchlists:
    as_of_stuck: datetime
    as_of_late: datetime
    stuck: list[WatchItem]
    late: list[WatchItem]
    needs_person: list[NeedsPerson]
    near_due_working_days: int = DEFAULT_NEAR_DUE_WORKING_DAYS
    revoked_returned: list[RevokedReturned] = field(default_factory=list)


def watchlists(
    engine: Engine, settings: CalendarConfig | None = None, limit: int = 300
) -> Watchlists:
    """Stuck uses lienthong's own clock (state_changed_at); late and quarantined-near-due use the
    portal's now (due dates), counted in working days on the configured calendar."""
    settings = settings or CalendarConfig()
    within, calendar = settings.near_due_working_days, settings.calendar
    now = datetime.now(UTC)
    with Session(engine) as s:
        portal = portal_now(s) or now
        return Watchlists(
            now,
            portal,
            stuck_links(s, now, limit=limit),
            late_links(s, portal, within, calendar, limit=limit),
            needs_person(s, portal, within, calendar)[:limit],
            within,
            revoked_after_return(s, limit),
        )
