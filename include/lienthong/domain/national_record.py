"""A dossier as the national public-service portal (DVCQG) records it, and the sync's pure rules.

Vendor-neutral: the portal adapter reads a :class:`NationalRecord` from the one-stop portal, the
DVCQG adapter writes it in the national wire format. The rules here (what to send next, which
unconfirmed steps the national side already holds, how the national side judges timeliness) are
plain functions so they are tested without a server.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from enum import StrEnum
from statistics import quantiles

from lienthong.domain.dossier import Step
from lienthong.domain.timeliness import timeliness


@dataclass(frozen=True)
class ResultPaper:
    """A result paper listed on the national record (``DanhSachGiayToKetQua``)."""

    name: str
    notation: str
    file_id: str
    url: str


@dataclass(frozen=True)
class NationalRecord:
    """What the national record of one dossier holds, as the local (provincial) portal knows it."""

    code: str
    agency_code: str
    agency_name: str
    procedure_code: str
    procedure_name: str
    sector_code: str
    sector_name: str
    applicant_name: str
    applicant_type: int | None
    applicant_id_number: str | None
    applicant_email: str | None
    applicant_phone: str | None
    summary: str
    channel: int | None
    status: int
    received_at: datetime
    due_at: datetime | None
    finished_at: datetime | None
    returned_at: datetime | None
    updated_at: datetime
    filed_documents: tuple[str, ...] = ()
    results: tuple[ResultPaper, ...] = ()
    steps: tuple[Step, ...] = field(default=(), compare=False)

    def fingerprint(self) -> str:
        """Digest of the record's fields (steps excluded: they are sent on their own)."""
        data = asdict(self)
        data.pop("steps")
        data.pop(
            "updated_at"
        )  # a touch that changed nothing the national record holds is no change
        return hashlib.sha256(
            json.dumps(data, sort_keys=True, default=str, ensure_ascii=False).encode()
        ).hexdigest()


class ItemKind(StrEnum):
    RECORD = "record"
    STEP = "step"


class ItemState(StrEnum):
    """An outbox item's life: queued, handed to the network, confirmed, refused or replaced."""

    PENDING = "pending"
    SENDING = "sending"  # sent, answer not recorded yet: settled against the national side first
    SENT = "sent"
    REFUSED = "refused"
    SUPERSEDED = "superseded"


class Outcome(StrEnum):
    """What the national side answered for one item."""

    OK = "ok"
    REFUSED = "refused"


@dataclass(frozen=True)
class ItemResult:
    outcome: Outcome
    reason_code: str = ""
    message: str = ""
    recreated: bool = False  # an update found the dossier gone nationally and created it again


@dataclass(frozen=True)
class NationalHolding:
    """What the national side holds for one dossier (read back for settling and reconciliation)."""

    code: str
    status: int
    timeliness: str
    record_digest: str
    step_digests: tuple[str, ...]
    received_at: datetime | None = None
    due_at: datetime | None = None
    finished_at: datetime | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True)
class PlannedItem:
    kind: ItemKind
    key: str
    local_at: datetime
    step: Step | None = None


def step_key(index: int, step: Step) -> str:
    """A local step's stable identity: the portal's own id for it, else its position (steps are
    only ever appended)."""
    return f"step:{step.ref or f'#{index}'}"


def plan_items(
    record: NationalRecord, last_fingerprint: str | None, queued_steps: set[str]
) -> list[PlannedItem]:
    """What a newly observed local state adds to the dossier's outbox, in the order to send it.

    A record snapshot when the record differs from the last one queued (the first one creates the
    national record), then each step not queued before, in the local order."""
    out: list[PlannedItem] = []
    fingerprint = record.fingerprint()
    if fingerprint != last_fingerprint:
        out.append(PlannedItem(ItemKind.RECORD, fingerprint, record.updated_at))
    for index, step in enumerate(record.steps):
        key = step_key(index, step)
        if key not in queued_steps:
            out.append(PlannedItem(ItemKind.STEP, key, step.at, step))
    return out


def settle_unconfirmed(
    held: Iterable[str], confirmed: Iterable[str], unconfirmed: Sequence[str]
) -> list[bool]:
    """For steps sent without a recorded answer (a crash, a lost response): which the national side
    holds. ``held`` are the national step digests, ``confirmed`` those already known sent; each
    unconfirmed step is held when a held copy is left over after the confirmed ones."""
    left = Counter(held)
    left.subtract(Counter(confirmed))
    out = []
    for digest in unconfirmed:
        if left[digest] > 0:
            left[digest] -= 1
            out.append(True)
        else:
            out.append(False)
    return out


RECEIVED_EXCLUDED = frozenset({1, 3})
FINISHED = frozenset({9, 10})


def national_timeliness(
    status: int, finished_at: datetime | None, returned_at: datetime | None, due_at: datetime | None
) -> str:
    """How the national dashboards class a dossier: not_received / received / on_time / late.

    Finished dossiers (9, 10) are late when the date they were finished (else returned) is after
    the due date, by the same date rule as the local reports."""
    if status in RECEIVED_EXCLUDED:
        return "not_received"
    if status not in FINISHED:
        return "received"
    return "late" if timeliness(finished_at or returned_at, due_at) == "late" else "on_time"


def record_timeliness(record: NationalRecord) -> str:
    return national_timeliness(record.status, record.finished_at, record.returned_at, record.due_at)


def lag_percentiles(lags_seconds: Sequence[float]) -> tuple[float | None, float | None]:
    """Median and 95th percentile of sync lags (inclusive method: exact on small samples)."""
    if not lags_seconds:
        return None, None
    if len(lags_seconds) == 1:
        return float(lags_seconds[0]), float(lags_seconds[0])
    cuts = quantiles(sorted(lags_seconds), n=100, method="inclusive")
    return cuts[49], cuts[94]
