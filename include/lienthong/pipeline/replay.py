"""Replay a quarantined item: read it again from its source and run it through the same step.

The quarantine record keeps what is needed to find the item again (dossier id or
code, iOffice document id). A replay that still fails leaves the record open with
its new reason; one that succeeds resolves it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from lienthong.clients.http import RemoteRefused
from lienthong.domain.states import (
    DONE_HANDLINGS,
    LinkState,
    QuarantineSource,
    QuarantineStatus,
    ReplayResult,
)
from lienthong.pipeline import intake, national_sync, results
from lienthong.pipeline.resources import Resources
from lienthong.store import ledger
from lienthong.store.schema import DossierLink, Quarantine

RESOLVING = DONE_HANDLINGS | {ReplayResult.LINKED, "sent"}


@dataclass(frozen=True)
class ReplayOutcome:
    quarantine_id: int
    status: QuarantineStatus
    detail: str


def replay(resources: Resources, run: ledger.RunContext, quarantine_id: int) -> ReplayOutcome:
    with resources.session() as session:
        rec = session.get(Quarantine, quarantine_id)
        if rec is None:
            raise LookupError(f"no quarantine record {quarantine_id}")
        source, key, code, payload = (
            rec.source,
            rec.item_key,
            rec.dossier_code,
            dict(rec.payload or {}),
        )
        ledger.add_event(
            session, run, code, "replay_requested", detail={"quarantine_id": quarantine_id}
        )
    detail: str
    if source == QuarantineSource.IOFFICE_PACKAGE:
        detail = results.handle_package(resources, run, key)
    elif source == QuarantineSource.PORTAL_DOSSIER:
        detail = _replay_dossier(resources, run, key, code, payload)
    elif source == QuarantineSource.NATIONAL_SYNC:
        detail = national_sync.replay_item(resources, run, int(payload.get("item_id") or 0))
    else:
        raise ValueError(f"unknown quarantine source {source!r}")
    with resources.session() as session:
        rec = session.get(Quarantine, quarantine_id)
        status = QuarantineStatus(rec.status)
        if status == QuarantineStatus.OPEN and detail in RESOLVING:
            ledger.resolve_quarantine(
                session, run, source=source, key=key, resolution=f"replayed: {detail}"
            )
            status = QuarantineStatus.RESOLVED
    return ReplayOutcome(quarantine_id, status, str(detail))


def _replay_dossier(
    resources: Resources, run: ledger.RunContext, key: str, code: str | None, payload: dict
) -> ReplayResult:
    with resources.session() as session:
        link = session.scalar(select(DossierLink).where(DossierLink.dossier_id == key))
        if link is not None and link.state == LinkState.QUARANTINED:
            # Quarantined after it was linked (no route): its configuration may have been fixed.
            ledger.move(
                session,
                run,
                link,
                LinkState(link.state_before_quarantine or LinkState.SEEN),
                detail={"replay": True},
            )
    try:
        raw = resources.portal.get_dossier(key)
    except (
        RemoteRefused
    ) as exc:  # gone under that id (404): look it up by its code; outages propagate
        if exc.status != 404:
            raise
        raw = resources.portal.find_by_code(code) if code else None
    if raw is None:
        return ReplayResult.NOT_FOUND
    counts = intake.link_raw(resources, run, [raw])
    return ReplayResult.STILL_INVALID if counts.get("quarantined", 0) else ReplayResult.LINKED
