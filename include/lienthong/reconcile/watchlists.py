"""Stuck and late links (pure queries): what operators must see before it becomes overdue.

"Now" for due dates is the portal's now, as its HTTP Date header told the last pull (in
production that is the present; against the stand-ins it follows their simulated clock).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from lienthong.domain.states import LinkState
from lienthong.domain.working_calendar import (
    DEFAULT_NEAR_DUE_WORKING_DAYS,
    VIETNAM,
    WorkingCalendar,
    local_day,
)
from lienthong.pipeline.deadlines import deadlines_of, near_due, waiting_links
from lienthong.store.schema import DossierLink, IntakeCursor, ResultVersion

# How long a link may rest in a state before it counts as stuck.
STUCK_AFTER: dict[str, timedelta] = {
    LinkState.SEEN.value: timedelta(hours=2),
    LinkState.TRANSFERRED.value: timedelta(days=5),
    LinkState.SIGNED.value: timedelta(days=2),
    LinkState.ISSUED.value: timedelta(hours=2),
    LinkState.REJECTED.value: timedelta(days=3),
    LinkState.QUARANTINED.value: timedelta(days=1),
}


WATCH_LABELS_VI: dict[str, str] = {
    "stuck": "Nằm quá lâu ở một trạng thái",
    "near_due": "Sắp đến hạn trả",
    "overdue": "Đã quá hạn",
}


@dataclass(frozen=True)
class WatchItem:
    dossier_code: str
    agency_code: str
    agency_name: str
    procedure_code: str
    procedure_name: str
    state: str
    since: datetime
    due_at: datetime | None
    kind: str  # stuck | near_due | overdue
    ioffice_doc_id: str | None
    stage: str | None = None  # where a decision waits (pipeline.deadlines.Stage)
    working_days_left: int | None = None  # negative: working days late
    extended: bool = False


def portal_now(session: Session) -> datetime | None:
    """The portal's clock at the last pull, else its latest update lienthong has seen."""
    clock = session.get(IntakeCursor, "portal_clock")
    if clock is not None:
        return clock.updated_at
    return session.scalar(select(func.max(DossierLink.portal_updated_at)))


def _item(link: DossierLink, kind: str) -> WatchItem:
    return WatchItem(
        link.dossier_code,
        link.agency_code,
        link.agency_name,
        link.procedure_code,
        link.procedure_name,
        link.state,
        link.state_changed_at,
        link.due_at,
        kind,
        link.ioffice_doc_id,
    )


def stuck_links(
    session: Session,
    as_of: datetime,
    stuck_after: dict[str, timedelta] | None = None,
    limit: int = 1000,
) -> list[WatchItem]:
    """Links resting in one state longer than that state's threshold, oldest first.

    ``state_changed_at`` is lienthong's own clock; ``as_of`` defaults (in callers) to the real now.
    """
    rules = stuck_after or STUCK_AFTER
    out: list[WatchItem] = []
    for state, after in rules.items():
        rows = session.scalars(
            select(DossierLink)
            .where(DossierLink.state == state, DossierLink.state_changed_at < as_of - after)
            .order_by(DossierLink.state_changed_at)
            .limit(limit)
        )
        out += [_item(link, "stuck") for link in rows]
    return sorted(out, key=lambda i: i.since)[:limit]


def late_links(
    session: Session,
    as_of: datetime,
    within: int = DEFAULT_NEAR_DUE_WORKING_DAYS,
    calendar: WorkingCalendar = VIETNAM,
    limit: int = 1000,
) -> list[WatchItem]:
    """Decision dossiers still waiting on the link (a signature, an issue, an attachment) whose
    latest agreed date (NgayHenTra, after extensions) is past (``overdue``) or within ``within``
    working days (``near_due``), most urgent first."""
    links = {link.dossier_code: link for link in waiting_links(session)}
    deadlines = deadlines_of(session, list(links.values()), local_day(as_of), calendar)
    due = near_due(deadlines, within)[:limit]
    return [
        replace(
            _item(links[d.dossier_code], "overdue" if d.overdue else "near_due"),
            stage=d.stage,
            working_days_left=d.working_days_left,
            extended=d.extended,
        )
        for d in due
    ]


@dataclass(frozen=True)
class RevokedReturned:
    """A decision revoked after the citizen was handed it: only a person can put this right."""

    dossier_code: str
    agency_name: str
    procedure_name: str
    code_notation: str | None
    revoked_at: datetime
    reason: str | None


def revoked_after_return(session: Session, limit: int = 1000) -> list[RevokedReturned]:
    """Revoked decisions of dossiers already returned (at revocation, or returned since without a
    new decision), newest first."""
    rows = session.execute(
        select(ResultVersion, DossierLink)
        .join(DossierLink, DossierLink.dossier_code == ResultVersion.dossier_code)
        .where(
            ResultVersion.revoked_at.is_not(None),
            or_(
                ResultVersion.revoked_after_return.is_(True),
                and_(DossierLink.state == LinkState.REVOKED, DossierLink.portal_status == 10),
            ),
        )
        .order_by(ResultVersion.revoked_at.desc())
        .limit(limit)
    ).all()
    return [
        RevokedReturned(
            v.dossier_code,
            link.agency_name,
            link.procedure_name,
            v.code_notation,
            v.revoked_at,
            v.change_reason,
        )
        for v, link in rows
    ]
