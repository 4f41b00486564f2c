"""The link record's explicit state machine (pure).

seen -> transferred -> signed -> issued -> attached -> returned, with the
branches rejected, skipped and quarantined. Every move is checked here so that
a retried or replayed step can never push a dossier backwards by accident.
"""

from __future__ import annotations

from enum import StrEnum


class LinkState(StrEnum):
    SEEN = "seen"
    TRANSFERRED = "transferred"
    SIGNED = "signed"
    ISSUED = "issued"
    ATTACHED = "attached"
    RETURNED = "returned"
    REJECTED = "rejected"
    SKIPPED = "skipped"
    QUARANTINED = "quarantined"
    REVOKED = "revoked"  # the attached decision was revoked: the dossier waits for a new one


STATE_LABELS_VI: dict[str, str] = {
    "seen": "Đã nhận từ Một cửa",
    "transferred": "Đã chuyển sang iOffice",
    "signed": "Đã ký số, chờ phát hành",
    "issued": "Đã phát hành",
    "attached": "Đã gắn kết quả",
    "returned": "Đã trả kết quả",
    "rejected": "Bị trả lại",
    "skipped": "Không cần liên thông",
    "quarantined": "Cách ly",
    "revoked": "Quyết định đã bị thu hồi",
}

_S = LinkState
ALLOWED: dict[LinkState, frozenset[LinkState]] = {
    _S.SEEN: frozenset({_S.TRANSFERRED, _S.SKIPPED, _S.QUARANTINED}),
    _S.TRANSFERRED: frozenset({_S.SIGNED, _S.ISSUED, _S.REJECTED, _S.QUARANTINED}),
    _S.SIGNED: frozenset({_S.ISSUED, _S.REJECTED, _S.QUARANTINED}),
    _S.ISSUED: frozenset({_S.ATTACHED, _S.QUARANTINED}),
    _S.ATTACHED: frozenset({_S.RETURNED, _S.REVOKED}),
    _S.REVOKED: frozenset({_S.ATTACHED}),  # a replacing decision attached
    _S.REJECTED: frozenset({_S.TRANSFERRED, _S.SIGNED, _S.ISSUED}),
    _S.QUARANTINED: frozenset({_S.SEEN, _S.TRANSFERRED, _S.SIGNED, _S.ISSUED, _S.SKIPPED}),
    _S.SKIPPED: frozenset({_S.RETURNED}),
    _S.RETURNED: frozenset(),
}
ORDER = [_S.SEEN, _S.TRANSFERRED, _S.SIGNED, _S.ISSUED, _S.ATTACHED, _S.RETURNED]


class IllegalTransition(ValueError):
    pass


def check_transition(current: LinkState | str, target: LinkState | str) -> LinkState:
    """Return ``target`` if the move is allowed, else raise :class:`IllegalTransition`."""
    cur, tgt = LinkState(current), LinkState(target)
    if tgt not in ALLOWED[cur]:
        raise IllegalTransition(f"link cannot move from {cur} to {tgt}")
    return tgt


def is_at_or_past(current: LinkState | str, target: LinkState | str) -> bool:
    """True when ``current`` is ``target`` or later on the main line (a repeat is a no-op)."""
    cur, tgt = LinkState(current), LinkState(target)
    if cur == tgt:
        return True
    if cur in ORDER and tgt in ORDER:
        return ORDER.index(cur) > ORDER.index(tgt)
    return False


class QuarantineSource(StrEnum):
    """Where a quarantined item came from, hence how it is read again."""

    PORTAL_DOSSIER = "portal_dossier"
    IOFFICE_PACKAGE = "ioffice_package"
    NATIONAL_SYNC = "national_sync"  # a record or step the national portal refused


class QuarantineStatus(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


class PackageHandling(StrEnum):
    """What handling one iOffice result package did."""

    ATTACHED = "attached"
    ALREADY_DONE = "already_done"
    QUARANTINED = "quarantined"
    SIGNED = "signed"
    REJECTED = "rejected"
    TRACED = "traced"
    BYPASS = "bypass"
    ADOPTED = "adopted"
    REPLACED = "replaced"  # a corrected decision took the attached one's place
    REVOKED = "revoked"  # the attached decision was taken off the dossier
    BUSY = (
        "busy"  # another process holds the package or its dossier: it stays pending for a later run
    )
    ERROR = "error"


DONE_HANDLINGS = frozenset({PackageHandling.ATTACHED, PackageHandling.ALREADY_DONE})


class ReplayResult(StrEnum):
    """What reading a quarantined dossier again did."""

    LINKED = "linked"
    STILL_INVALID = "still_invalid"
    NOT_FOUND = "not_found"
