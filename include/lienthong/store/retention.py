"""Keep what a quarantine record holds about a dossier only while a step needs it (Decree 13/2023).

A quarantine record stores the item as it arrived so an operator can see what was wrong. The
portal adapter already strips applicants' identities before storing, but the rest of the dossier
(and records written by older versions, which kept everything) is still more than the link
needs once the record is resolved, or once it has waited longer than the retention period: a
replay reads the item again from its source by the keys kept here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lienthong.domain.states import QuarantineStatus
from lienthong.store.schema import Quarantine

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
