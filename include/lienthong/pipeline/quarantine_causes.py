"""Why an item was quarantined, and what may make it valid again: the one table of transient
and permanent causes, and digests of the configuration permanent causes depend on."""

from __future__ import annotations

import hashlib
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from lienthong.domain.problem import Cause
from lienthong.pipeline.outcomes import quarantined_metric
from lienthong.store import ledger
from lienthong.store.schema import Quarantine

if TYPE_CHECKING:
    from lienthong.pipeline.resources import Resources


class Recheck(StrEnum):
    """What may make a quarantined item valid again."""

    TIMER = "timer"  # time: the source may serve it correctly later
    ROUTING = "routing"  # the routing configuration (Variable ``lienthong_routing``)
    TRUST_ROOTS = "trust_roots"  # the trust roots in connection ``lienthong_ioffice``


_TIMER = frozenset({Recheck.TIMER})
_TIMER_OR_ROUTING = frozenset({Recheck.TIMER, Recheck.ROUTING})
_PERSON: frozenset[Recheck] = frozenset()  # nothing re-checks it: a person replays it


def _each(reason_codes: str, rechecked_by: frozenset[Recheck]) -> dict[str, frozenset[Recheck]]:
    return dict.fromkeys(reason_codes.split(), rechecked_by)


# reason_code -> what re-checks it. The one table of transient and permanent causes.
RECHECK_BY_REASON: dict[str, frozenset[Recheck]] = {
    # Portal dossiers read malformed: an upstream glitch that usually passes.
    **_each("missing_field invalid_field broken_date wrong_type unknown_status", _TIMER),
    **_each("future_date due_before_received bad_dossier_code too_long code_changed", _TIMER),
    **_each("control_characters markup_in_text", _TIMER),
    # A linked dossier's agreed date moved earlier: the portal must correct it (a re-read settles).
    **_each("due_moved_back", _TIMER),
    # A procedure or agency the routing does not know: a glitch, or one to add to the routing.
    **_each("unknown_procedure unknown_agency", _TIMER_OR_ROUTING),
    # Result packages whose envelope is broken: the sender can send it again.
    **_each("unknown_outcome code_mismatch invalid_base64 no_file many_files", _TIMER),
    **_each("unsafe_file_name wrong_extension empty_file", _TIMER),
    # A package too large or too deeply nested to read: the sender can send a sane one again.
    **_each("oversized_package too_deep", _TIMER),
    # Result files that a re-download or a re-issue by the sender can fix.
    **_each("unsigned tampered invalid_signature not_entire_file not_pdf oversized", _TIMER),
    **_each("invalid expired_certificate revoked_certificate modified_after_signing", _TIMER),
    **_each("encrypted", _TIMER),
    # The CA's CRL is stale (published late): a fresh CRL settles it, no person needed.
    **_each("revocation_unavailable", _TIMER),
    # Signature validation past its time cap: a busy worker's slowness passes; a hostile file costs
    # at most the cap per re-check (pipeline/verify_result.py).
    **_each("verify_timeout", _TIMER),
    # Only a person can fix these: the routing, or the trust roots (a signer no trust root vouches
    # for stays so whatever the CRL says).
    **_each("no_route not_routed", frozenset({Recheck.ROUTING})),
    **_each("untrusted no_trust_roots", frozenset({Recheck.TRUST_ROOTS})),
    # Signed by someone the routing does not name as the unit's signer: a re-issue, or a routing
    # change.
    **_each("wrong_signer", _TIMER_OR_ROUTING),
    # Corrections after issuance: a replacement naming a document that is not the dossier's (the
    # original may still be on its way), and a revocation of a decision never attached (a person
    # checks the dossier).
    **_each("replaces_unknown", _TIMER),
    **_each("revoked_unattached", _PERSON),
    # Records and steps the national portal refused: the local data must change (a later snapshot
    # that is accepted resolves a refused record by itself); otherwise a person replays it.
    **_each("national_missing_field national_unknown_dossier national_status_backwards", _PERSON),
    **_each("national_too_long national_invalid_value national_refused", _PERSON),
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
    clients = [
        resources.ioffice,
        *(resources.other_ioffices[c] for c in sorted(resources.other_ioffices)),
    ]
    roots = b"\n".join((c.settings.trust_roots_pem or "").strip().encode() for c in clients)
    return {
        Recheck.ROUTING: hashlib.sha256(routing).hexdigest(),
        Recheck.TRUST_ROOTS: hashlib.sha256(roots).hexdigest(),
    }


def fingerprint_for(resources: Resources, reason_code: str) -> str | None:
    kind = config_kind(reason_code)
    return fingerprints(resources)[kind] if kind else None


def quarantine_item(
    resources: Resources,
    session: Session,
    run: ledger.RunContext,
    cause: Cause,
    *,
    source: str,
    key: str,
    code: str | None,
    payload: dict[str, Any],
) -> Quarantine:
    """Quarantine an item and count it. The record carries the digest of the configuration its
    cause depends on (a change there re-checks it); each cause has its own metric."""
    rec = ledger.quarantine(
        session,
        run,
        cause,
        source=source,
        key=key,
        code=code,
        payload=payload,
        fingerprint=fingerprint_for(resources, cause.reason_code),
    )
    resources.metrics.incr(quarantined_metric(source, cause.reason_code))
    return rec
