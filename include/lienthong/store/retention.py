"""Keep what a quarantine record holds about a dossier only while a step needs it (Decree 13/2023).

A quarantine record stores the item as it arrived so an operator can see what was wrong. The
portal adapter already strips applicants' identities before storing, but the rest of the dossier
(and records written by older versions, which kept everything) is still more than the link
needs once the record is resolved, or once it has waited longer than the retention period: a
replay reads the item again from its source by the keys kept here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lienthong.domain.states import QuarantineStatus
from lienthong.store.schema import (
    BypassDocument,
    DossierExtension,
    DossierLink,
    LinkEvent,
    NationalSyncItem,
    Quarantine,
    ReconcileFinding,
    ResultVersion,
)

# What a replay, the self-healing re-checks and an auditor need to find the item again.
KEPT_KEYS = ("dossier_id", "doc_id", "dossier_code", "outcome", "code_notation", "sha256")
PURGED_MARK = "payload_purged_at"
DEFAULT_RETENTION_DAYS = 90


def minimal_payload(payload: dict[str, Any] | None, now: datetime) -> dict[str, Any]:
    """The payload reduced to the lookup keys, stamped with when the rest was removed."""
    payload = payload or {}
    if PURGED_MARK in payload:
        return payload
    kept = {key: payload[key] for key in KEPT_KEYS if payload.get(key) not in (None, "")}
    return {**kept, PURGED_MARK: now.isoformat()}


def is_purged(payload: dict[str, Any] | None) -> bool:
    return PURGED_MARK in (payload or {})


@dataclass(frozen=True)
class PurgeReport:
    resolved: int  # resolved records whose payload was still whole (older versions, or a crash)
    expired: int  # open records older than the retention period
    retention_days: int

    @property
    def total(self) -> int:
        return self.resolved + self.expired


def purge_payloads(session: Session, now: datetime, retention_days: int) -> PurgeReport:
    """Reduce every resolved record, and every open one first seen before the retention period,
    to :func:`minimal_payload`. Safe to repeat: purged records are left as they are."""
    if retention_days < 0:
        raise ValueError(f"retention period must be zero or more days, not {retention_days}")
    cutoff = now - timedelta(days=retention_days)
    counts = {"resolved": 0, "expired": 0}
    for rec in session.scalars(select(Quarantine)):
        resolved = rec.status != QuarantineStatus.OPEN
        if is_purged(rec.payload) or not (resolved or _aware(rec.first_seen_at) < cutoff):
            continue
        rec.payload = minimal_payload(rec.payload, now)
        counts["resolved" if resolved else "expired"] += 1
    return PurgeReport(counts["resolved"], counts["expired"], retention_days)


def _aware(value: datetime) -> datetime:
    """SQLite hands back naive UTC timestamps; PostgreSQL aware ones."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


# -- everything else the record of processing lists (docs/personal-data.md) ----------------------

REMOVED_VI = "[đã xoá]"
# Events whose detail carries text from another system (a decision's subject, file names, a
# remote error); the audit trail (``operator_action``) is never touched: append-only, kept for
# accountability.
THINNED_EVENT_KINDS = (
    "package_trace",
    "push_failed",
    "package_error",
    "replaced_before_attach",
    "replaced_result_revoked",
)
SETTLED_OUTBOX_STATES = ("sent", "superseded", "refused")


@dataclass(frozen=True)
class ThinReport:
    """How many rows each kind of thinning changed (counts only: reports read none of it)."""

    link_subjects: int = 0
    link_errors: int = 0
    bypass_subjects: int = 0
    findings: int = 0
    events: int = 0
    outbox_bodies: int = 0
    change_reasons: int = 0  # extensions' and corrected decisions' reasons (free text)

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


def error_kind(text: str | None) -> str | None:
    """A kept error text reduced to its kind and status (``RemoteRefused (status 409)``)."""
    if not text or text == REMOVED_VI:
        return text
    return text.split(":", 1)[0][:120]


def _thin_detail(detail: Any) -> Any:
    """An event's or finding's detail with its free text from other systems removed: subjects
    and file names go, an error keeps its kind, counts and identifiers stay."""
    if not isinstance(detail, dict):
        return detail
    out = dict(detail)
    if out.get("subject") not in (None, "", REMOVED_VI):
        out["subject"] = REMOVED_VI
    if isinstance(out.get("error"), str):
        out["error"] = error_kind(out["error"])
    if isinstance(out.get("files"), list):
        out["files"] = [
            {k: v for k, v in f.items() if k != "name"} if isinstance(f, dict) else REMOVED_VI
            for f in out["files"]
        ]
    return out


def thin_personal_data(
    session: Session,
    now: datetime,
    retention_days: int,
    settled_body: Callable[[dict[str, Any]], dict[str, Any]],
) -> ThinReport:
    """After the retention period, thin every free text that may name a citizen: decision subjects
    (links, bypass documents, reconciliation findings, package events), kept error texts, and the
    national outbox's settled record bodies (``settled_body``: the national adapter's allowlist).
    Rows, counts, states, dates and identifiers stay, so every report reads the same. Safe to
    repeat: thinned values are left as they are."""
    if retention_days < 0:
        raise ValueError(f"retention period must be zero or more days, not {retention_days}")
    cutoff = now - timedelta(days=retention_days)
    counts = dict.fromkeys(ThinReport().as_dict(), 0)
    for link in session.scalars(
        select(DossierLink).where(
            DossierLink.state_changed_at <= cutoff,
            (DossierLink.doc_subject.is_not(None)) | (DossierLink.last_error.is_not(None)),
        )
    ):
        if link.doc_subject not in (None, REMOVED_VI):
            link.doc_subject = REMOVED_VI
            counts["link_subjects"] += 1
        if link.last_error and error_kind(link.last_error) != link.last_error:
            link.last_error = error_kind(link.last_error)
            counts["link_errors"] += 1
    for doc in session.scalars(
        select(BypassDocument).where(
            BypassDocument.found_at <= cutoff,
            BypassDocument.doc_subject.is_not(None),
            BypassDocument.doc_subject != REMOVED_VI,
        )
    ):
        doc.doc_subject = REMOVED_VI
        counts["bypass_subjects"] += 1
    for finding in session.scalars(
        select(ReconcileFinding).where(ReconcileFinding.found_at <= cutoff)
    ):
        thinned = _thin_detail(finding.detail)
        if thinned != finding.detail:
            finding.detail = thinned
            counts["findings"] += 1
    for event in session.scalars(
        select(LinkEvent).where(LinkEvent.at <= cutoff, LinkEvent.kind.in_(THINNED_EVENT_KINDS))
    ):
        thinned = _thin_detail(event.detail)
        if thinned != event.detail:
            event.detail = thinned
            counts["events"] += 1
    for item in session.scalars(
        select(NationalSyncItem).where(
            NationalSyncItem.kind == "record", NationalSyncItem.state.in_(SETTLED_OUTBOX_STATES)
        )
    ):
        thinned = settled_body(item.body or {})
        if thinned != item.body:
            item.body = thinned
            counts["outbox_bodies"] += 1
    for ext in session.scalars(
        select(DossierExtension).where(
            DossierExtension.seen_at <= cutoff, DossierExtension.reason != REMOVED_VI
        )
    ):
        ext.reason = REMOVED_VI
        counts["change_reasons"] += 1
    for version in session.scalars(
        select(ResultVersion).where(
            ResultVersion.change_reason.is_not(None), ResultVersion.change_reason != REMOVED_VI
        )
    ):
        when = version.revoked_at or version.replaced_at or version.attached_at
        if when is not None and when <= cutoff:
            version.change_reason = REMOVED_VI
            counts["change_reasons"] += 1
    return ThinReport(**counts)
