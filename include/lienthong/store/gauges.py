"""Levels of the link at a moment, for gauges: what waits where, and for how long."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lienthong.domain.states import LinkState, QuarantineSource, QuarantineStatus
from lienthong.store.schema import DossierLink, Quarantine

WAITING_FOR_ISSUE = (LinkState.TRANSFERRED, LinkState.SIGNED, LinkState.REJECTED)


def link_levels(session: Session, now: datetime) -> dict[str, float]:
    """``links.<state>`` counts, ``quarantine_open.<source>``, and the age in seconds of the oldest
    link transferred to iOffice and not issued yet (0 when none waits)."""
    levels: dict[str, float] = {f"links.{state}": 0 for state in LinkState}
    for state, n in session.execute(
        select(DossierLink.state, func.count()).group_by(DossierLink.state)
    ):
        levels[f"links.{state}"] = n
    for source in QuarantineSource:
        levels[f"quarantine_open.{source}"] = 0
    for source, n in session.execute(
        select(Quarantine.source, func.count())
        .where(Quarantine.status == QuarantineStatus.OPEN)
        .group_by(Quarantine.source)
    ):
        levels[f"quarantine_open.{source}"] = n
    oldest = session.scalar(
        select(func.min(DossierLink.transferred_at)).where(DossierLink.state.in_(WAITING_FOR_ISSUE))
    )
    if oldest is not None and oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=UTC)
    levels["oldest_transferred_not_issued_seconds"] = (
        max(0.0, (now - oldest).total_seconds()) if oldest else 0.0
    )
    return levels
