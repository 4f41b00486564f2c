"""Read-side queries for the dashboard: figures, series, one dossier's timeline, quarantine, watchlists.

Periods are calendar days in Vietnam time (UTC+7), the officials' own calendar; the store keeps UTC.
Everything returned is plain data, already masked, so templates never see raw personal data.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from lienthong.domain.masking import mask_text
from lienthong.domain.states import STATE_LABELS_VI
from lienthong.reconcile.watchlists import WatchItem, late_links, portal_now, stuck_links
from lienthong.store.schema import BypassDocument, DossierLink, DossierTimeSavings, LinkEvent, Quarantine

VN_TZ = timezone(timedelta(hours=7))
ATTACHED_STATES = ("attached", "returned")


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
    """The range of dossiers received in the store (today when it is empty): the default period."""
    with Session(engine) as s:
        lo, hi = s.execute(select(func.min(DossierLink.received_at), func.max(DossierLink.received_at))).one()
        lo2, hi2 = s.execute(select(func.min(DossierTimeSavings.attached_at),
                                    func.max(DossierTimeSavings.attached_at))).one()
    stamps = [v for v in (lo, hi, lo2, hi2) if v is not None]
    if not stamps:
        today = datetime.now(VN_TZ).date()
        return Period(today, today)
    return Period(local_date(min(stamps)), local_date(max(stamps)))


@dataclass
class Headline:
    dossiers_received: int = 0
    decision_dossiers: int = 0
    results_attached: int = 0
    hours_saved: float = 0.0
    money_saved_vnd: int = 0
    attached_pct: float | None = None
    on_time_pct: float | None = None
    bypass_documents: int = 0
    quarantine_open: int = 0
    timeliness: dict[str, int] = field(default_factory=dict)


def headline(engine: Engine, period: Period) -> Headline:
    """Measured figures: dossiers received in the period, savings of results attached in it."""
    h = Headline()
    with Session(engine) as s:
        in_period = (DossierLink.received_at >= period.start) & (DossierLink.received_at < period.end)
        h.dossiers_received = s.scalar(select(func.count()).select_from(DossierLink).where(in_period)) or 0
        decision = in_period & (DossierLink.result_kind == "decision")
        h.decision_dossiers = s.scalar(select(func.count()).select_from(DossierLink).where(decision)) or 0
        h.results_attached = s.scalar(select(func.count()).select_from(DossierLink).where(
            decision, DossierLink.attached_at.is_not(None))) or 0
        saved = (DossierTimeSavings.attached_at >= period.start) & (DossierTimeSavings.attached_at < period.end)
        minutes, money = s.execute(select(func.coalesce(func.sum(DossierTimeSavings.minutes_saved), 0),
                                          func.coalesce(func.sum(DossierTimeSavings.cost_saved_vnd), 0))
                                   .where(saved)).one()
        h.hours_saved, h.money_saved_vnd = int(minutes) / 60, int(money)
        h.timeliness = {k: n for k, n in s.execute(
            select(DossierTimeSavings.timeliness, func.count()).where(saved, DossierTimeSavings.timeliness
                                                                       .is_not(None))
            .group_by(DossierTimeSavings.timeliness))}
        h.bypass_documents = s.scalar(select(func.count()).select_from(BypassDocument).where(
            func.coalesce(BypassDocument.promulgation_date, BypassDocument.found_at) >= period.start,
            func.coalesce(BypassDocument.promulgation_date, BypassDocument.found_at) < period.end)) or 0
        h.quarantine_open = s.scalar(select(func.count()).select_from(Quarantine)
                                     .where(Quarantine.status == "open")) or 0
    if h.decision_dossiers:
        h.attached_pct = 100 * h.results_attached / h.decision_dossiers
    judged = sum(h.timeliness.values())
    if judged:
        h.on_time_pct = 100 * (judged - h.timeliness.get("late", 0)) / judged
    return h


@dataclass(frozen=True)
class Series:
    """Dossiers received and money saved per key (month ``YYYY-MM`` or agency name)."""

    keys: list[str]
    dossiers: list[int]
    money_vnd: list[int]
    hours: list[float]


def _series(received: Counter[str], minutes: Counter[str], money: Counter[str], keys: list[str]) -> Series:
    return Series(keys, [received[k] for k in keys], [money[k] for k in keys], [minutes[k] / 60 for k in keys])


def by_month(engine: Engine, period: Period) -> Series:
    received, minutes, money = _grouped(engine, period, lambda at, _agency: at.astimezone(VN_TZ).strftime("%Y-%m"))
    return _series(received, minutes, money, sorted(set(received) | set(money)))


def by_agency(engine: Engine, period: Period, top: int = 12) -> Series:
    received, minutes, money = _grouped(engine, period, lambda _at, agency: agency)
    keys = sorted(set(received) | set(money), key=lambda k: (-received[k], k))[:top]
    return _series(received, minutes, money, keys)


def _grouped(engine: Engine, period: Period, key) -> tuple[Counter[str], Counter[str], Counter[str]]:
    """Grouping in Python keeps months in Vietnam time and works the same on SQLite and PostgreSQL."""
    received: Counter[str] = Counter()
    minutes: Counter[str] = Counter()
    money: Counter[str] = Counter()
    with Session(engine) as s:
        for at, agency in s.execute(select(DossierLink.received_at, DossierLink.agency_name).where(
                DossierLink.received_at >= period.start, DossierLink.received_at < period.end)):
            received[key(at, agency)] += 1
        for at, agency, mins, vnd in s.execute(select(
                DossierTimeSavings.attached_at, DossierTimeSavings.agency_name, DossierTimeSavings.minutes_saved,
                DossierTimeSavings.cost_saved_vnd).where(DossierTimeSavings.attached_at >= period.start,
                                                         DossierTimeSavings.attached_at < period.end)):
            k = key(at, agency)
            minutes[k] += mins
            money[k] += vnd
    return received, minutes, money


@dataclass(frozen=True)
class TimelineRow:
    at: datetime
    run_id: str
    task_id: str
    kind: str
    from_label: str
    to_label: str
    detail: list[tuple[str, str]]


@dataclass(frozen=True)
class DossierView:
    code: str
    summary: dict[str, Any]
    events: list[TimelineRow]
    quarantine: list[dict[str, Any]]


def _masked_detail(detail: Any) -> list[tuple[str, str]]:
    """Flatten an event's detail to (key, value) strings with any ID- or phone-like number masked."""
    if not detail:
        return []
    if not isinstance(detail, dict):
        detail = {"": detail}
    return [(mask_text(str(k)), mask_text(v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)))
            for k, v in detail.items()]


def state_label(state: str | None) -> str:
    return STATE_LABELS_VI.get(state or "", state or "")


def dossier_view(engine: Engine, code: str) -> DossierView | None:
    """One dossier's story: its link record and every provenance event, oldest first."""
    code = code.strip()
    with Session(engine) as s:
        link = s.scalar(select(DossierLink).where(DossierLink.dossier_code == code))
        events = list(s.scalars(select(LinkEvent).where(LinkEvent.dossier_code == code)
                                .order_by(LinkEvent.at, LinkEvent.id)))
        quarantined = list(s.scalars(select(Quarantine).where(Quarantine.dossier_code == code)))
    if link is None and not events:
        return None
    summary: dict[str, Any] = {}
    if link is not None:
        summary = {
            "agency": link.agency_name, "procedure": f"{link.procedure_code} — {link.procedure_name}",
            "state": state_label(link.state), "portal_status": link.portal_status,
            "received_at": link.received_at, "due_at": link.due_at, "transferred_at": link.transferred_at,
            "signed_at": link.signed_at, "issued_at": link.issued_at, "attached_at": link.attached_at,
            "finished_at": link.finished_at, "doc_code_notation": link.doc_code_notation,
            "last_error": mask_text(link.last_error) if link.last_error else None,
        }
    rows = [TimelineRow(e.at, e.run_id or "", e.task_id or "", e.kind, state_label(e.from_state),
                        state_label(e.to_state), _masked_detail(e.detail)) for e in events]
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


def quarantine_list(engine: Engine, status: str | None = "open", limit: int = 500) -> list[QuarantineRow]:
    with Session(engine) as s:
        q = select(Quarantine).order_by(Quarantine.last_seen_at.desc()).limit(limit)
        if status:
            q = q.where(Quarantine.status == status)
        recs = list(s.scalars(q))
    return [QuarantineRow(r.id, r.source, r.dossier_code or "", r.reason_code, r.reason_vi,
                          mask_text(r.detail or "")[:400], r.occurrences, r.first_seen_at, r.last_seen_at, r.status,
                          mask_text(r.resolution or "")) for r in recs]


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


def watchlists(engine: Engine, limit: int = 300) -> Watchlists:
    """Stuck uses lienthong's own clock (state_changed_at); late uses the portal's now (due dates)."""
    now = datetime.now(timezone.utc)
    with Session(engine) as s:
        portal = portal_now(s) or now
        return Watchlists(now, portal, stuck_links(s, now, limit=limit), late_links(s, portal, limit=limit))


def group_count(items: list[WatchItem]) -> dict[str, int]:
    out: dict[str, int] = defaultdict(int)
    for item in items:
        out[item.kind] += 1
    return dict(out)
