"""Stuck and late links (pure queries): what operators must see before it becomes overdue.

"Now" for due dates is the portal's now, as its HTTP Date header told the last pull (in
production that is the present; against the stand-ins it follows their simulated clock).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lienthong.domain.states import LinkState
from lienthong.store.schema import DossierLink, IntakeCursor

# How long a link may rest in a state before it counts as stuck.
STUCK_AFTER: dict[str, timedelta] = {
    LinkState.SEEN.value: timedelta(hours=2),
    LinkState.TRANSFERRED.value: timedelta(days=5),
    LinkState.SIGNED.value: timedelta(days=2),
    LinkState.ISSUED.value: timedelta(hours=2),
    LinkState.REJECTED.value: timedelta(days=3),
    LinkState.QUARANTINED.value: timedelta(days=1),
}
WAITING = (
    LinkState.SEEN.value,
    LinkState.TRANSFERRED.value,
    LinkState.SIGNED.value,
    LinkState.REJECTED.value,
    LinkState.ISSUED.value,
    LinkState.QUARANTINED.value,
)


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
    session: Session, as_of: datetime, horizon: timedelta = timedelta(days=1), limit: int = 1000
) -> list[WatchItem]:
    """Dossiers still waiting on the link (for a signature, an issue, an attachment) whose due date
    (NgayHenTra) is past (``overdue``) or within ``horizon`` (``near_due``), most urgent first."""
    rows = session.scalars(
        select(DossierLink)
        .where(
            DossierLink.state.in_(WAITING),
            DossierLink.result_kind == "decision",
            DossierLink.due_at.is_not(None),
            DossierLink.due_at < as_of + horizon,
        )
        .order_by(DossierLink.due_at)
        .limit(limit)
    )
    return [_item(link, "overdue" if link.due_at < as_of else "near_due") for link in rows]
