"""What a run counts, as enums: the one table from an outcome to its metric name.

A run returns counts keyed by these members (they are strings, so XCom and logs show the plain
names). Metric names are derived here and nowhere else, so renaming an outcome is a change to this
file that the metric test and the generated configuration page see, never a silent new metric.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from enum import StrEnum

from lienthong.domain.national_record import ItemKind
from lienthong.domain.states import PackageHandling


class IntakeCount(StrEnum):
    """What an intake run (or the completion of pending links) did with the dossiers it read."""

    FETCHED = "fetched"
    NEW = "new"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    EXTENDED = "extended"  # a linked dossier's agreed date moved later
    QUARANTINED = "quarantined"
    SKIPPED = "skipped"
    SKIPPED_CLOSED = "skipped_closed"
    TRANSFERRED = "transferred"
    TRANSFERRED_EXISTING = "transferred_existing"
    PUSH_BUSY = "push_busy"
    PUSH_FAILED = "push_failed"
    PORTAL_NOTIFIED = "portal_notified"
    NOTIFY_BUSY = "notify_busy"
    NOTIFY_FAILED = "notify_failed"
    REFETCHED = "refetched"
    # a dry run (backfill preview) counts what it would do
    WOULD_QUARANTINE = "would_quarantine"
    MISSING = "missing"
    KNOWN = "known"


class PackageCount(StrEnum):
    """The total a results run found pending; each package's handling is a
    :class:`PackageHandling`."""

    PACKAGES = "packages"


class NationalCount(StrEnum):
    """What a national sync run observed, queued, sent, settled and re-read."""

    OBSERVED = "observed"
    NOT_CONFIGURED = "not_configured"
    UNREADABLE = "unreadable"
    DOSSIERS_NEW = "dossiers_new"
    RECORDS_QUEUED = "records_queued"
    STEPS_QUEUED = "steps_queued"
    RECORDS_SENT = "records_sent"
    STEPS_SENT = "steps_sent"
    RECORDS_REFUSED = "records_refused"
    STEPS_REFUSED = "steps_refused"
    STEPS_UNSURE = "steps_unsure"
    DOSSIERS_RECREATED = "dossiers_recreated"
    RECORDS_RESENT = "records_resent"
    STEPS_FOUND_HELD = "steps_found_held"
    STEPS_RESENT = "steps_resent"
    ROUNDS_REPEATED = "rounds_repeated"
    SEND_BUSY = "send_busy"
    UNREAD_GONE = "unread_gone"
    REREAD = "reread"
    REREAD_STILL_UNREADABLE = "reread_still_unreadable"
    RELOGINS = "relogins"


SENT: dict[ItemKind, NationalCount] = {
    ItemKind.RECORD: NationalCount.RECORDS_SENT,
    ItemKind.STEP: NationalCount.STEPS_SENT,
}
REFUSED: dict[ItemKind, NationalCount] = {
    ItemKind.RECORD: NationalCount.RECORDS_REFUSED,
    ItemKind.STEP: NationalCount.STEPS_REFUSED,
}

Outcome = IntakeCount | PackageCount | PackageHandling | NationalCount


class Family(StrEnum):
    """Which run reported the counts: the first part of each metric name."""

    INTAKE = "intake"
    PENDING = "pending"
    PACKAGES = "packages"
    NATIONAL = "national"


FAMILY_OUTCOMES: dict[Family, tuple[type[StrEnum], ...]] = {
    Family.INTAKE: (IntakeCount,),
    Family.PENDING: (IntakeCount,),
    Family.PACKAGES: (PackageCount, PackageHandling),
    Family.NATIONAL: (NationalCount,),
}

# Metrics a run emits beside its counts (the sink adds the ``lienthong.`` prefix).
AMBIGUOUS_NATIONAL_WRITES = "national.ambiguous_writes"


def metric_name(family: Family, outcome: StrEnum) -> str:
    """``<family>.<outcome>``; a key that is not one of the family's outcomes is a programming
    error, raised here rather than sent as a metric nobody watches."""
    if not isinstance(outcome, FAMILY_OUTCOMES[family]):
        raise TypeError(f"{outcome!r} is not an outcome of the {family} counts")
    return f"{family}.{outcome}"


def quarantined_metric(source: str, reason_code: str) -> str:
    """``quarantined.<source>.<reason>``: one counter per quarantine cause."""
    return f"quarantined.{source}.{reason_code}"


def all_metrics() -> Iterator[tuple[Family, StrEnum, str]]:
    """Every count metric a run can emit, for the docs and the completeness test."""
    for family, enums in FAMILY_OUTCOMES.items():
        for enum in enums:
            for outcome in enum:
                yield family, outcome, metric_name(family, outcome)


def plain(counts: Mapping[StrEnum, int]) -> dict[str, int]:
    """Counts with plain string keys, for XCom and logs (the values of the enum members)."""
    return {str(k): int(v) for k, v in counts.items()}
