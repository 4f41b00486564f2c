"""Store operations on link records, their event log, quarantine and savings.

Each function runs inside the caller's transaction (a ``Session``) so a step's
local effects commit together or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lienthong.domain.dossier import Dossier
from lienthong.domain.problem import Cause
from lienthong.domain.states import LinkState, QuarantineStatus, check_transition
from lienthong.domain.timeliness import cost_saved_vnd, timeliness
from lienthong.domain.vocabulary import DossierStatus
from lienthong.store.retention import minimal_payload
from lienthong.store.schema import (
    BypassDocument,
    DossierExtension,
    DossierLink,
    DossierTimeSavings,
    IntakeCursor,
    LinkEvent,
    PortalStepIntent,
    Quarantine,
)


@dataclass(frozen=True)
class RunContext:
    """Who is acting: recorded on every event for provenance."""

    run_id: str = "manual"
    task_id: str = "manual"


def utcnow() -> datetime:
    return datetime.now(UTC)


def add_event(
    session: Session,
    run: RunContext,
    code: str | None,
    kind: str,
    *,
    from_state: str | None = None,
    to_state: str | None = None,
    detail: dict[str, Any] | None = None,
    payload_hash: str | None = None,
) -> None:
    session.add(
        LinkEvent(
            dossier_code=code,
            at=utcnow(),
            run_id=run.run_id,
            task_id=run.task_id,
            kind=kind,
            from_state=from_state,
            to_state=to_state,
            detail=detail or {},
            payload_hash=payload_hash,
        )
    )


OPERATOR_ACTION = "operator_action"


def record_operator_action(
    session: Session,
    run: RunContext,
    *,
    actor: str,
    action: str,
    target: str,
    outcome: str,
    code: str | None = None,
    **extra: Any,
) -> None:
    """Audit trail of what a person did (or tried): one ``operator_action`` event in the event log.

    ``actor`` is the Airflow user name (never an applicant's identity); ``code`` puts the event on
    that dossier's timeline; ``extra`` holds technical identifiers only (e.g. ``quarantine_id``)."""
    detail = {"actor": actor, "action": action, "target": target, "outcome": outcome, **extra}
    add_event(session, run, code, OPERATOR_ACTION, detail=detail)


def record_quarantine_action(
    session: Session,
    run: RunContext,
    *,
    actor: str,
    action: str,
    quarantine_id: int,
    outcome: str,
    **extra: Any,
) -> None:
    """An operator action on a quarantine record, on its dossier's timeline when it has a
    dossier."""
    rec = session.get(Quarantine, quarantine_id)
    record_operator_action(
        session,
        run,
        actor=actor,
        action=action,
        target=f"quarantine#{quarantine_id}",
        outcome=outcome,
        code=rec.dossier_code if rec else None,
        quarantine_id=quarantine_id,
        **extra,
    )


def move(
    session: Session,
    run: RunContext,
    link: DossierLink,
    target: LinkState,
    *,
    detail: dict[str, Any] | None = None,
    **fields: Any,
) -> None:
    """Checked state transition + its provenance event, in the caller's transaction."""
    previous = link.state
    check_transition(previous, target)
    if target == LinkState.QUARANTINED:
        link.state_before_quarantine = previous
    link.state = target.value
    link.state_changed_at = utcnow()
    for name, value in fields.items():
        setattr(link, name, value)
    add_event(
        session,
        run,
        link.dossier_code,
        "transition",
        from_state=previous,
        to_state=target.value,
        detail=detail,
    )


def links_by_dossier_id(session: Session, ids: list[str]) -> dict[str, DossierLink]:
    found: dict[str, DossierLink] = {}
    for chunk_start in range(0, len(ids), 500):
        chunk = ids[chunk_start : chunk_start + 500]
        for link in session.scalars(select(DossierLink).where(DossierLink.dossier_id.in_(chunk))):
            found[link.dossier_id] = link
    return found


_UNIT_AND_PROCEDURE = "agency_code agency_name procedure_code procedure_name"


def _same_named(source: object, names: str) -> dict[str, Any]:
    """The fields a new row takes over, unchanged and under the same names, from its source."""
    return {name: getattr(source, name) for name in names.split()}


def new_link(
    session: Session, run: RunContext, dossier: Dossier, result_kind: str | None
) -> DossierLink:
    now = utcnow()
    link = DossierLink(
        dossier_id=dossier.id,
        dossier_code=dossier.code,
        **_same_named(dossier, _UNIT_AND_PROCEDURE),
        result_kind=result_kind,
        state=LinkState.SEEN.value,
        state_changed_at=now,
        portal_status=dossier.status,
        portal_updated_at=dossier.updated_at,
        portal_notified=False,
        payload_hash=dossier.payload_hash,
        **_same_named(dossier, "received_at due_at finished_at returned_at"),
        created_at=now,
    )
    session.add(link)
    add_event(
        session,
        run,
        dossier.code,
        "seen",
        to_state=LinkState.SEEN.value,
        detail={
            "portal_status": dossier.status,
            "procedure": dossier.procedure_code,
            "agency": dossier.agency_code,
        },
        payload_hash=dossier.payload_hash,
    )
    return link


def record_extension(
    session: Session, run: RunContext, link: DossierLink, new_due_at: datetime, reason: str
) -> bool:
    """Record that the dossier's deadline moved later (an extension); once per new date."""
    if session.get(DossierExtension, (link.dossier_code, new_due_at)) is not None:
        return False
    session.add(
        DossierExtension(
            dossier_code=link.dossier_code,
            new_due_at=new_due_at,
            previous_due_at=link.due_at,
            reason=reason[:1000],
            seen_at=utcnow(),
            run_id=run.run_id,
        )
    )
    detail = {"previous_due_at": link.due_at.isoformat() if link.due_at else None}
    add_event(
        session,
        run,
        link.dossier_code,
        "extended",
        detail={**detail, "new_due_at": new_due_at.isoformat()},
    )
    return True


def refresh_from_portal(
    session: Session, run: RunContext, link: DossierLink, dossier: Dossier
) -> bool:
    """Record a newer portal version of a known dossier; False when nothing changed."""
    if dossier.payload_hash == link.payload_hash:
        return False
    changed_status = dossier.status != link.portal_status
    detail: dict[str, Any] = {"portal_status": dossier.status}
    if changed_status:
        detail["previous_status"] = link.portal_status
    add_event(
        session,
        run,
        link.dossier_code,
        "portal_update",
        detail=detail,
        payload_hash=dossier.payload_hash,
    )
    link.portal_status = dossier.status
    link.portal_updated_at = dossier.updated_at
    link.payload_hash = dossier.payload_hash
    link.due_at = dossier.due_at
    link.finished_at = dossier.finished_at or link.finished_at
    link.returned_at = dossier.returned_at or link.returned_at
    if dossier.status == DossierStatus.RETURNED and link.state in (
        LinkState.ATTACHED,
        LinkState.SKIPPED,
    ):
        move(
            session,
            run,
            link,
            LinkState.RETURNED,
            detail={"portal_status": int(DossierStatus.RETURNED)},
        )
    return True


def quarantine(
    session: Session,
    run: RunContext,
    cause: Cause,
    *,
    source: str,
    key: str,
    code: str | None,
    payload: dict[str, Any],
    fingerprint: str | None = None,
) -> Quarantine:
    """Open (or re-see) a quarantine record; one per item, however often it is met.

    ``fingerprint``: the digest of the configuration a permanent cause depends on (routing, trust
    roots), so the record is re-checked when that configuration changes and not before."""
    reason_code, reason_vi, detail = cause.reason_code, cause.message_vi, cause.detail
    now = utcnow()
    event = {"source": source, "reason": reason_code, "detail": detail[:500]}
    rec = session.scalar(
        select(Quarantine).where(Quarantine.source == source, Quarantine.item_key == key)
    )
    if rec is None:
        rec = Quarantine(
            source=source,
            item_key=key,
            dossier_code=code,
            reason_code=reason_code,
            reason_vi=reason_vi,
            detail=detail,
            payload=payload,
            status=QuarantineStatus.OPEN,
            occurrences=1,
            first_seen_at=now,
            last_seen_at=now,
            run_id=run.run_id,
            heal_attempts=0,
            config_fingerprint=fingerprint,
        )
        session.add(rec)
        add_event(session, run, code, "quarantined", detail=event)
    else:
        if rec.status != QuarantineStatus.OPEN:
            add_event(session, run, code, "quarantined", detail={**event, "again": True})
            rec.heal_attempts, rec.next_heal_at, rec.alerted_for = 0, None, None  # a new episode
        if fingerprint is not None:
            rec.config_fingerprint = fingerprint
        rec.status = QuarantineStatus.OPEN
        rec.reason_code, rec.reason_vi, rec.detail, rec.payload = (
            reason_code,
            reason_vi,
            detail,
            payload,
        )
        rec.occurrences += 1
        rec.last_seen_at = now
        rec.run_id = run.run_id
        rec.resolved_at = None
    return rec


def resolve_quarantine(
    session: Session, run: RunContext, *, source: str, key: str, resolution: str
) -> bool:
    rec = session.scalar(
        select(Quarantine).where(
            Quarantine.source == source,
            Quarantine.item_key == key,
            Quarantine.status == QuarantineStatus.OPEN,
        )
    )
    if rec is None:
        return False
    rec.status = QuarantineStatus.RESOLVED
    rec.resolved_at = utcnow()
    rec.resolution = resolution
    rec.payload = minimal_payload(rec.payload, rec.resolved_at)  # resolved: no step needs the rest
    detail = {"source": source, "resolution": resolution}
    add_event(session, run, rec.dossier_code, "quarantine_resolved", detail=detail)
    return True


def record_savings(
    session: Session, run: RunContext, link: DossierLink, minutes_saved: int, cost_per_hour_vnd: int
) -> bool:
    """Insert the dossier's savings row; a second call for the same dossier does nothing."""
    if session.get(DossierTimeSavings, link.dossier_code) is not None:
        return False
    kind = timeliness(link.finished_at, link.due_at)
    session.add(
        DossierTimeSavings(
            **_same_named(link, f"dossier_code dossier_id {_UNIT_AND_PROCEDURE}"),
            **_same_named(
                link, "received_at transferred_at signed_at issued_at finished_at due_at"
            ),
            attached_at=link.attached_at or utcnow(),
            timeliness=kind,
            on_time=None if kind is None else kind != "late",
            minutes_saved=minutes_saved,
            cost_per_hour_vnd=cost_per_hour_vnd,
            cost_saved_vnd=cost_saved_vnd(minutes_saved, cost_per_hour_vnd),
            run_id=run.run_id,
            created_at=utcnow(),
        )
    )
    detail = {"minutes_saved": minutes_saved, "cost_per_hour_vnd": cost_per_hour_vnd}
    add_event(session, run, link.dossier_code, "savings_logged", detail=detail)
    return True


class IssuedPaper(Protocol):
    """What iOffice says of an issued document, as both a result package and a listing carry it."""

    doc_id: str
    unit_code: str
    unit_name: str
    code_notation: str
    doc_type: str
    subject: str
    promulgated_on: datetime | None


def record_bypass(session: Session, run: RunContext, doc: IssuedPaper, *, found_by: str) -> bool:
    """Record a decision issued with no portal dossier, once per document."""
    if session.get(BypassDocument, doc.doc_id) is not None:
        return False
    session.add(
        BypassDocument(
            ioffice_doc_id=doc.doc_id,
            found_at=utcnow(),
            found_by=found_by,
            agency_code=doc.unit_code,
            agency_name=doc.unit_name or None,
            doc_code_notation=doc.code_notation or None,
            doc_type=doc.doc_type or None,
            doc_subject=doc.subject[:500] or None,
            promulgation_date=doc.promulgated_on,
        )
    )
    detail = {"doc_id": doc.doc_id, "found_by": found_by, "code_notation": doc.code_notation}
    add_event(session, run, None, "bypass_found", detail=detail)
    return True


def get_cursor(session: Session, name: str) -> IntakeCursor | None:
    return session.get(IntakeCursor, name)


def set_cursor(
    session: Session, run: RunContext, name: str, updated_at: datetime, dossier_id: str
) -> None:
    cur = session.get(IntakeCursor, name)
    if cur is None:
        session.add(
            IntakeCursor(name=name, updated_at=updated_at, dossier_id=dossier_id, run_id=run.run_id)
        )
    elif (updated_at, dossier_id) > (cur.updated_at, cur.dossier_id):
        cur.updated_at, cur.dossier_id, cur.run_id = updated_at, dossier_id, run.run_id


def set_clock(session: Session, run: RunContext, name: str, at: datetime) -> None:
    """A remote system's clock as last read (a cursor row without a dossier). Unlike a cursor of
    work it follows the reading both ways: a value once wrong must not stay pinned."""
    cur = session.get(IntakeCursor, name)
    if cur is None:
        session.add(IntakeCursor(name=name, updated_at=at, dossier_id="", run_id=run.run_id))
    else:
        cur.updated_at, cur.dossier_id, cur.run_id = at, "", run.run_id


def count_by_state(session: Session) -> dict[str, int]:
    rows = session.execute(select(DossierLink.state, func.count()).group_by(DossierLink.state))
    return {state: n for state, n in rows}


def step_time(session: Session, key: str, now: datetime | None = None) -> datetime:
    """The time of the portal step ``key`` names: fixed when first asked, the same on every repeat,
    so
    a repeated write is recognised on the portal by (content, time). The portal keeps seconds."""
    key = key[:200]
    intent = session.get(PortalStepIntent, key)
    if intent is None:
        intent = PortalStepIntent(key=key, at=(now or utcnow()).replace(microsecond=0))
        session.add(intent)
        session.flush()
    return intent.at
