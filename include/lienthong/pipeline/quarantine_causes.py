"""Why an item was quarantined, and what may make it valid again: the one table of transient
and permanent causes, and digests of the configuration permanent causes depend on."""

from __future__ import annotations

import hashlib
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lienthong.pipeline.resources import Resources


class Recheck(StrEnum):
    """What may make a quarantined item valid again."""

    TIMER = "timer"  # time: the source may serve it correctly later
    ROUTING = "routing"  # the routing configuration (Variable ``lienthong_routing``)
    TRUST_ROOTS = "trust_roots"  # the trust roots in connection ``lienthong_ioffice``


# reason_code -> what re-checks it. The one table of transient and permanent causes (README).
RECHECK_BY_REASON: dict[str, frozenset[Recheck]] = {
    # Portal dossiers read malformed: an upstream glitch that usually passes.
    "missing_field": frozenset({Recheck.TIMER}),
    "invalid_field": frozenset({Recheck.TIMER}),
    "broken_date": frozenset({Recheck.TIMER}),
    # A procedure code the routing does not know: a glitch, or a procedure to add to the routing.
    "unknown_procedure": frozenset({Recheck.TIMER, Recheck.ROUTING}),
    "wrong_type": frozenset({Recheck.TIMER}),
    "unknown_status": frozenset({Recheck.TIMER}),
    "future_date": frozenset({Recheck.TIMER}),
    "due_before_received": frozenset({Recheck.TIMER}),
    "bad_dossier_code": frozenset({Recheck.TIMER}),
    "too_long": frozenset({Recheck.TIMER}),
    "control_characters": frozenset({Recheck.TIMER}),
    "markup_in_text": frozenset({Recheck.TIMER}),
    "code_changed": frozenset({Recheck.TIMER}),
    # An agency outside the district: a glitch, or an agency to add to the routing.
    "unknown_agency": frozenset({Recheck.TIMER, Recheck.ROUTING}),
    # Result packages whose envelope is broken: the sender can send it again.
    "unknown_outcome": frozenset({Recheck.TIMER}),
    "code_mismatch": frozenset({Recheck.TIMER}),
    "invalid_base64": frozenset({Recheck.TIMER}),
    "no_file": frozenset({Recheck.TIMER}),
    "many_files": frozenset({Recheck.TIMER}),
    "unsafe_file_name": frozenset({Recheck.TIMER}),
    "wrong_extension": frozenset({Recheck.TIMER}),
    "empty_file": frozenset({Recheck.TIMER}),
    # A package too large or too deeply nested to read: the sender can send a sane one again.
    "oversized_package": frozenset({Recheck.TIMER}),
    "too_deep": frozenset({Recheck.TIMER}),
    # Result files that a re-download or a re-issue by the sender can fix.
    "unsigned": frozenset({Recheck.TIMER}),
    "tampered": frozenset({Recheck.TIMER}),
    "invalid_signature": frozenset({Recheck.TIMER}),
    "not_entire_file": frozenset({Recheck.TIMER}),
    "not_pdf": frozenset({Recheck.TIMER}),
    "oversized": frozenset({Recheck.TIMER}),
    "invalid": frozenset({Recheck.TIMER}),
    "expired_certificate": frozenset({Recheck.TIMER}),
    "revoked_certificate": frozenset({Recheck.TIMER}),
    # The CA's CRL is stale (published late): a fresh CRL settles it, no person needed.
    "revocation_unavailable": frozenset({Recheck.TIMER}),
    "modified_after_signing": frozenset({Recheck.TIMER}),
    "encrypted": frozenset({Recheck.TIMER}),
    # Signature validation past its time cap: a busy worker's slowness passes; a hostile file costs
    # at most the cap per re-check (pipeline/verify_result.py).
    "verify_timeout": frozenset({Recheck.TIMER}),
    # Only a person can fix these: the routing, or the trust roots (a signer no trust root vouches
    # for stays so whatever the CRL says).
    "no_route": frozenset({Recheck.ROUTING}),
    "not_routed": frozenset({Recheck.ROUTING}),
    "untrusted": frozenset({Recheck.TRUST_ROOTS}),
    "no_trust_roots": frozenset({Recheck.TRUST_ROOTS}),
    # Signed by someone the routing does not name as the unit's signer: a re-issue, or a routing
    # change.
    "wrong_signer": frozenset({Recheck.TIMER, Recheck.ROUTING}),
    # Records and steps the national portal refused: the local data must change (a later snapshot
    # that is accepted resolves a refused record by itself); otherwise a person replays it.
    "national_missing_field": frozenset(),
    "national_unknown_dossier": frozenset(),
    "national_status_backwards": frozenset(),
    "national_too_long": frozenset(),
    "national_invalid_value": frozenset(),
    "national_refused": frozenset(),
}
UNKNOWN_REASON = frozenset({Recheck.TIMER})  # a reason added later is retried rather than forgotten


def rechecks(reason_code: str) -> frozenset[Recheck]:
    return RECHECK_BY_REASON.get(reason_code, UNKNOWN_REASON)


def config_kind(reason_code: str) -> Recheck | None:
    """The configuration whose change re-checks this reason, if any."""
    kinds = rechecks(reason_code) - {Recheck.TIMER}
    return next(iter(sorted(kinds)), None)


def fingerprints(resources: Resources) -> dict[Recheck, str]:
    """Digests of the configuration that permanent causes depend on."""
    routing = resources.routing.model_dump_json().encode()
    roots = (resources.ioffice.settings.trust_roots_pem or "").strip().encode()
    return {
        Recheck.ROUTING: hashlib.sha256(routing).hexdigest(),
        Recheck.TRUST_ROOTS: hashlib.sha256(roots).hexdigest(),
    }


def fingerprint_for(resources: Resources, reason_code: str) -> str | None:
    kind = config_kind(reason_code)
    return fingerprints(resources)[kind] if kind else None
