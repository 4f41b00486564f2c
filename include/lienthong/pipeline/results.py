"""Signed results: read iOffice packages, verify, attach to the portal, finish, log savings, ack.

Order per issued package (each step safe to repeat):
Each package is handled by one process at a time (its claim), and its dossier's portal writes by
one process at a time (the dossier's claim, shared with intake and the repairs).
envelope checks (:mod:`.package_checks`) -> verify -> record ``issued`` -> attach
(skipped if the portal already has this number/notation) -> status 9 with its step
(skipped if already 9) -> record ``attached`` + the savings row (one transaction; the
row's key is the dossier code) -> acknowledge, always after the record committed. A crash before the
acknowledgement only means the package
is delivered again, and every step above then finds its work done. A package refused by
the envelope checks or the verification is quarantined (acknowledged as failed), never
attached; the rest of the batch goes on.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from lienthong.clients.http import is_transient
from lienthong.clients.ioffice import Package
from lienthong.clients.portal_shapes import to_dossier
from lienthong.domain.dossier import ResultDocument, Step
from lienthong.domain.masking import error_text, get_logger
from lienthong.domain.problem import Problem
from lienthong.domain.states import LinkState, PackageHandling, QuarantineSource, is_at_or_past
from lienthong.domain.vocabulary import (
    STEP_FINISHED_VI,
    STEP_REJECTED_VI,
    STEP_SIGNED_VI,
    AckStatus,
    DossierStatus,
    PackageOutcome,
)
from lienthong.pipeline import corrections
from lienthong.pipeline.intake import LINKS_LOCK, dossier_claim
from lienthong.pipeline.metrics import timed
from lienthong.pipeline.outcomes import PackageCount
from lienthong.pipeline.package_checks import (
    LinkIdentity,
    PackageProblem,
    check_package,
    unreadable_problem,
)
from lienthong.pipeline.quarantine_causes import quarantine_item
from lienthong.pipeline.resources import Resources, qualified_doc_id
from lienthong.pipeline.routing import NoRoute, route_for
from lienthong.pipeline.verify_result import ExpectedSigner, Verdict, verify_signed_pdf
from lienthong.store import claims, ledger
from lienthong.store.schema import DossierLink

log = get_logger(__name__)
NOT_ROUTED_VI = "Có văn bản iOffice cho hồ sơ không thuộc diện liên thông theo cấu hình"


def process_packages(
    resources: Resources, run: ledger.RunContext, doc_ids: list[str] | None = None
) -> dict[PackageCount | PackageHandling, int]:
    """Handle every pending package (or the given ones); one bad package never stops the rest."""
    ids = list(dict.fromkeys(pending_packages(resources) if doc_ids is None else doc_ids))
    counts: Counter[PackageCount | PackageHandling] = Counter({PackageCount.PACKAGES: len(ids)})

    def one(doc_id: str) -> PackageHandling:
        try:
            return handle_package(resources, run, doc_id)
        except Exception as exc:  # noqa: BLE001 - one bad package never stops the rest
            log.warning(
                "package %s not processed (%s); it stays pending", doc_id, type(exc).__name__
            )
            with resources.session() as session:
                ledger.add_event(
                    session,
                    run,
                    None,
                    "package_error",
                    detail={
                        "doc_id": doc_id,
                        "error": error_text(exc),
                        "transient": is_transient(exc),
                    },
                )
            return PackageHandling.ERROR

    with ThreadPoolExecutor(max_workers=resources.concurrency) as pool:
        counts.update(pool.map(one, ids))
    return dict(counts)


def pending_packages(resources: Resources) -> list[str]:
    """The (qualified) document id of every pending package, on each iOffice and under each
    parent unit the routing places units under; a document listed under two parents once."""
    found: list[str] = []
    for target in resources.routing.ioffice_targets:
        client = resources.ioffice_by_conn(target.conn_id)
        found += [
            qualified_doc_id(d, target.conn_id)
            for d in client.pending_doc_ids(parent_unit=target.parent)
        ]
    return list(dict.fromkeys(found))


def _find_link(session: Session, pkg: Package) -> DossierLink | None:
    link = session.scalar(select(DossierLink).where(DossierLink.ioffice_doc_id == pkg.doc_id))
    if link is None and pkg.dossier_code:
        link = session.scalar(
            select(DossierLink).where(DossierLink.dossier_code == pkg.dossier_code)
        )
    if link is None and pkg.dossier_id:
        link = session.scalar(select(DossierLink).where(DossierLink.dossier_id == pkg.dossier_id))
    return link


def package_claim(doc_id: str) -> str:
    return f"ioffice-package:{doc_id}"


def handle_package(resources: Resources, run: ledger.RunContext, doc_id: str) -> PackageHandling:
    """One package (``doc_id`` qualified by its iOffice: :func:`qualified_doc_id`), by one process
    at a time (its claim), acknowledged on its iOffice only after its record committed."""
    source, raw_id = resources.split_doc_id(doc_id)
    with claims.held(resources.engine, package_claim(doc_id), resources.claim_ttl) as lease:
        if lease is None:
            return PackageHandling.BUSY
        handled = _handle(resources, run, doc_id, source, raw_id)
        if handled != PackageHandling.BUSY:
            resources.ioffice_by_conn(source).acknowledge(
                raw_id,
                AckStatus.FAILED if handled == PackageHandling.QUARANTINED else AckStatus.PROCESSED,
            )
        return handled


def _handle(
    resources: Resources, run: ledger.RunContext, doc_id: str, source: str | None, raw_id: str
) -> PackageHandling:
    read = resources.ioffice_by_conn(source).get_package(raw_id)
    pkg = replace(  # its ids as the links keep them, unique across iOffice instances
        read,
        doc_id=doc_id,
        replaces=qualified_doc_id(read.replaces, source) if read.replaces else "",
        source=source,
    )
    with resources.session() as session:
        link = _find_link(session, pkg)
    if link is None:
        raw = resources.portal.find_by_code(pkg.dossier_code) if pkg.dossier_code else None
        with resources.session() as session:  # committed before the acknowledgement
            claims.xact_lock(session, LINKS_LOCK)
            link = _find_link(session, pkg)
            if link is None:
                handled = _unlinked(resources, session, run, pkg, raw)
                if handled != PackageHandling.ADOPTED:
                    return handled
                link = _find_link(session, pkg)
    assert link is not None
    with claims.held(
        resources.engine, dossier_claim(link.dossier_id), resources.claim_ttl
    ) as lease:
        if lease is None:
            return PackageHandling.BUSY
        with (
            resources.session() as session
        ):  # what the claim's last holder left, not what was read before
            link = session.get(DossierLink, link.id)
        return _handle_linked(resources, run, link, pkg)


def _handle_linked(
    resources: Resources, run: ledger.RunContext, link: DossierLink, pkg: Package
) -> PackageHandling:
    if pkg.outcome == PackageOutcome.REVOKED and not pkg.unreadable:
        return corrections.revoke(resources, run, link, pkg)
    if pkg.replaces and pkg.outcome == PackageOutcome.ISSUED and not pkg.unreadable:
        return _replacement(resources, run, link, pkg)
    if not is_at_or_past(link.state, LinkState.ATTACHED):
        problem = check_package(
            pkg, LinkIdentity(link.dossier_code, link.dossier_id, link.ioffice_doc_id)
        )
        if problem is not None:
            _refuse(resources, run, link, pkg, _problem_verdict(pkg, problem))
            return PackageHandling.QUARANTINED
    if pkg.outcome == PackageOutcome.ISSUED:
        return _issued(resources, run, link, pkg)
    if pkg.outcome == PackageOutcome.SIGNED_NOT_ISSUED:
        return _signed(resources, run, link, pkg)
    if pkg.outcome == PackageOutcome.REJECTED:
        return _rejected(resources, run, link, pkg)
    with resources.session() as session:
        ledger.add_event(session, run, link.dossier_code, "package_trace", detail=pkg.meta())
    return PackageHandling.TRACED


def _replacement(
    resources: Resources, run: ledger.RunContext, link: DossierLink, pkg: Package
) -> PackageHandling:
    """An issued decision naming the one it replaces. Before anything reached the portal it is
    simply the dossier's decision; after, it takes the attached one's place once verified (an
    unverified one is refused and the attached result stays)."""
    if link.ioffice_doc_id == pkg.doc_id and link.state == LinkState.ATTACHED:
        return PackageHandling.ALREADY_DONE
    if link.ioffice_doc_id not in (pkg.replaces, pkg.doc_id):
        return corrections.refuse(
            resources, run, link, pkg, corrections.replaces_unknown(pkg, link)
        )
    if not is_at_or_past(link.state, LinkState.ATTACHED) and link.state != LinkState.REVOKED:
        with resources.session() as session:
            link = session.get(DossierLink, link.id)
            row = corrections.version(session, link, pkg.replaces)
            row.replaced_by, row.change_reason = pkg.doc_id, pkg.change_reason[:1000] or None
            link.ioffice_doc_id = pkg.doc_id
            ledger.add_event(
                session, run, link.dossier_code, "replaced_before_attach", detail=pkg.meta()
            )
        return _issued(resources, run, link, replace(pkg, replaces=""))
    problem = check_package(pkg, LinkIdentity(link.dossier_code, link.dossier_id, pkg.doc_id))
    if problem is not None:
        return corrections.refuse(resources, run, link, pkg, problem)
    verdict = _verdict(resources, link, pkg)
    if not verdict.ok:
        why = Problem(verdict.reason_code or "invalid", verdict.message_vi or "", verdict.detail)
        return corrections.refuse(resources, run, link, pkg, why)
    file_id, _ = _attach(resources, link, pkg, verdict)
    return corrections.replace(resources, run, link, pkg, verdict, file_id)


def _unlinked(
    resources: Resources,
    session: Session,
    run: ledger.RunContext,
    pkg: Package,
    raw: dict[str, Any] | None,
) -> PackageHandling:
    """A package for no known link: a bypass (no portal dossier), or a dossier intake has not met
    yet (adopted,
    unless the package contradicts itself about which dossier it is for). ``raw``: the portal's
    dossier
    with the package's code, if any."""
    unreadable = unreadable_problem(pkg)
    if unreadable is not None:  # too large or too deep to read: neither a dossier nor a bypass
        _quarantine_unlinked(resources, session, run, pkg, unreadable)
        return PackageHandling.QUARANTINED
    if raw is None:
        ledger.record_bypass(session, run, pkg, found_by="package")
        return PackageHandling.BYPASS
    dossier = to_dossier(raw, resources.routing.known_procedures)
    problem = check_package(pkg, LinkIdentity(dossier.code, dossier.id, None))
    if problem is not None and problem.reason_code == "code_mismatch":
        # Its correlation names another dossier than its code: adopting either could attach to the
        # wrong one.
        _quarantine_unlinked(resources, session, run, pkg, problem)
        return PackageHandling.QUARANTINED
    link = ledger.new_link(
        session, run, dossier, resources.routing.procedures[dossier.procedure_code].result_kind
    )
    ledger.move(
        session,
        run,
        link,
        LinkState.TRANSFERRED,
        ioffice_doc_id=pkg.doc_id,
        transferred_at=datetime.now(UTC),
        detail={"doc_id": pkg.doc_id, "adopted": True},
    )
    session.flush()
    return PackageHandling.ADOPTED


def _quarantine_unlinked(
    resources: Resources,
    session: Session,
    run: ledger.RunContext,
    pkg: Package,
    problem: PackageProblem,
) -> None:
    """Quarantine a package that no link takes (no dossier code on the record)."""
    quarantine_item(
        resources,
        session,
        run,
        problem,
        source=QuarantineSource.IOFFICE_PACKAGE,
        key=pkg.doc_id,
        code=None,
        payload=pkg.meta(),
    )
    log.warning("package %s not adopted: %s", pkg.doc_id, problem.reason_code)


def _doc_fields(pkg: Package) -> dict[str, Any]:
    return {
        "doc_code_notation": pkg.code_notation,
        "doc_type": pkg.doc_type,
        "doc_subject": pkg.subject[:500],
        "doc_signer": pkg.signer,
        "doc_promulgation_date": pkg.promulgated_on,
    }


def _issued(
    resources: Resources, run: ledger.RunContext, link: DossierLink, pkg: Package
) -> PackageHandling:
    """Verify, record, attach, finish, count the savings: each step finds its work done on a
    repeat."""
    if is_at_or_past(link.state, LinkState.ATTACHED):
        return PackageHandling.ALREADY_DONE
    verdict = _verdict(resources, link, pkg)
    if not verdict.ok:
        _refuse(resources, run, link, pkg, verdict)
        return PackageHandling.QUARANTINED
    _record_issued(resources, run, link, pkg, verdict)
    file_id, attached_now = _attach(resources, link, pkg, verdict)
    now = datetime.now(UTC)
    with resources.session() as session:
        at = ledger.step_time(session, f"finished:{pkg.doc_id}", now)
    step = Step(
        link.dossier_code,
        STEP_FINISHED_VI.format(code=pkg.code_notation),
        DossierStatus.FINISHED,
        at,
        person=pkg.signer or "Hệ thống liên thông",
        title=pkg.signer_title or "Lãnh đạo",
        unit=pkg.unit_name,
        due=link.due_at,
    )
    resources.portal.set_status_once(
        link.dossier_id, DossierStatus.FINISHED, step, beyond=(DossierStatus.RETURNED,)
    )
    _record_attached(resources, run, link, pkg, file_id, attached_now, now)
    return PackageHandling.ATTACHED


def _attach(
    resources: Resources, link: DossierLink, pkg: Package, verdict: Verdict
) -> tuple[str, bool]:
    """Attach the package's verified file as the dossier's result, unless it is there already."""
    document = ResultDocument(
        code_notation=pkg.code_notation,
        doc_type=pkg.doc_type,
        subject=pkg.subject,
        signer=pkg.signer,
        promulgated_on=pkg.promulgated_on,
        sha256=verdict.sha256 or "",
    )
    file = pkg.files[0]
    with timed(resources.metrics, "attach_seconds"):
        return resources.portal.attach_result_once(
            link.dossier_id, file.name, file.content, document
        )


def _problem_verdict(pkg: Package, problem: PackageProblem) -> Verdict:
    content = pkg.files[0].content if pkg.files else b""
    return Verdict(
        False,
        hashlib.sha256(content).hexdigest(),
        len(content),
        problem.reason_code,
        problem.message_vi,
        problem.detail,
    )


def _expected_signer(resources: Resources, link: DossierLink) -> ExpectedSigner | None:
    """The signer the dossier was sent to be signed by; for a link transferred before that was
    recorded, the one the routing names (None when it names none)."""
    if link.routed_signer_uid:
        return ExpectedSigner(link.routed_signer_uid, link.routed_signer_name or "")
    return _routing_signer(resources, link)


def _routing_signer(resources: Resources, link: DossierLink) -> ExpectedSigner | None:
    """The signer today's routing names for the link's procedure and agency."""
    try:
        route = route_for(resources.routing, link.procedure_code, link.agency_code)
    except (KeyError, NoRoute):
        return None
    if route is None:
        return None
    signer = route.unit.signer
    return ExpectedSigner(signer.certificate_uid or signer.account, signer.name)


def _verdict(resources: Resources, link: DossierLink, pkg: Package) -> Verdict:
    """The signed PDF's verification; a decision for a dossier the routing does not link is refused
    too:
    an operator decides, it is never attached on a guess. The CRL, when configured, must be had
    (:class:`~lienthong.clients.ioffice.RevocationUnavailable` otherwise: the package stays
    pending)."""
    content = pkg.files[0].content if pkg.files else b""
    source = resources.ioffice_by_conn(pkg.source)
    settings = source.settings
    crls = source.crls()

    def verify(signer: ExpectedSigner | None) -> Verdict:
        with timed(resources.metrics, "verify_seconds"):
            return verify_signed_pdf(
                content,
                settings.trust_roots_pem,
                settings.max_result_bytes,
                crls=crls,
                expected_signer=signer,
            )

    asked = _expected_signer(resources, link)
    verdict = verify(asked)
    if verdict.reason_code == "wrong_signer":  # the routing corrected since: its signer counts
        current = _routing_signer(resources, link)
        if current is not None and current != asked:
            verdict = verify(current)
    if verdict.ok and link.state == LinkState.SKIPPED:
        return replace(
            verdict,
            ok=False,
            reason_code="not_routed",
            message_vi=NOT_ROUTED_VI,
            detail=f"link state {link.state}; procedure {link.procedure_code}",
        )
    return verdict


def _refuse(
    resources: Resources, run: ledger.RunContext, link: DossierLink, pkg: Package, verdict: Verdict
) -> None:
    """Quarantine the package against its dossier. The link itself is set aside only when the
    package is
    its own: a package that merely names a dossier whose document is another must not stop that
    one."""
    reason = verdict.reason_code or "invalid"
    with resources.session() as session:
        link = session.get(DossierLink, link.id)
        quarantine_item(
            resources,
            session,
            run,
            Problem(reason, verdict.message_vi or "", verdict.detail),
            source=QuarantineSource.IOFFICE_PACKAGE,
            key=pkg.doc_id,
            code=link.dossier_code,
            payload={**pkg.meta(), "dossier_id": link.dossier_id, "sha256": verdict.sha256},
        )
        owned = link.ioffice_doc_id in (None, pkg.doc_id)
        if owned and link.state not in (LinkState.QUARANTINED, LinkState.SKIPPED):
            ledger.move(
                session,
                run,
                link,
                LinkState.QUARANTINED,
                detail={"reason": reason, "doc_id": pkg.doc_id},
            )
    log.warning("result of %s refused: %s", link.dossier_code, reason)


def _record_issued(
    resources: Resources, run: ledger.RunContext, link: DossierLink, pkg: Package, verdict: Verdict
) -> None:
    with resources.session() as session:
        link = session.get(DossierLink, link.id)
        if link.state != LinkState.ISSUED:
            ledger.move(
                session,
                run,
                link,
                LinkState.ISSUED,
                issued_at=pkg.promulgated_on,
                signed_at=link.signed_at or pkg.signed_on,
                result_sha256=verdict.sha256,
                detail={
                    "doc_id": pkg.doc_id,
                    "code_notation": pkg.code_notation,
                    "sha256": verdict.sha256,
                },
                **_doc_fields(pkg),
            )


def _record_attached(
    resources: Resources,
    run: ledger.RunContext,
    link: DossierLink,
    pkg: Package,
    file_id: str,
    attached_now: bool,
    now: datetime,
) -> None:
    """The attachment, the savings row and the quarantine's resolution, in one transaction."""
    progress = resources.portal.progress(link.dossier_id)
    with resources.session() as session:
        link = session.get(DossierLink, link.id)
        ledger.move(
            session,
            run,
            link,
            LinkState.ATTACHED,
            attached_at=now,
            result_file_id=file_id,
            portal_status=progress.status or int(DossierStatus.FINISHED),
            finished_at=progress.finished_at or now,
            detail={
                "file_id": file_id,
                "attached_now": attached_now,
                "status": int(DossierStatus.FINISHED),
            },
        )
        ledger.record_savings(
            session,
            run,
            link,
            resources.minutes_saved(link.procedure_code),
            resources.savings.cost_per_hour_vnd,
        )
        corrections.version(session, link, pkg.doc_id)  # the first version of the result
        ledger.resolve_quarantine(
            session,
            run,
            source=QuarantineSource.IOFFICE_PACKAGE,
            key=pkg.doc_id,
            resolution="verified and attached",
        )


class _StepMove(NamedTuple):
    """What an outcome that is not an issue does: the step it writes on the portal, the state the
    link moves to, and the states it may move from (any other means it was already done)."""

    content: str
    target: LinkState
    from_states: tuple[LinkState, ...]


_SIGNING = _StepMove(STEP_SIGNED_VI, LinkState.SIGNED, (LinkState.TRANSFERRED, LinkState.REJECTED))
_REJECTION = _StepMove(
    STEP_REJECTED_VI, LinkState.REJECTED, (LinkState.TRANSFERRED, LinkState.SIGNED)
)


def _signed(
    resources: Resources, run: ledger.RunContext, link: DossierLink, pkg: Package
) -> PackageHandling:
    """Signed, not yet issued: a step on the portal, the signature on the link."""
    fields = {"signed_at": pkg.signed_on, **_doc_fields(pkg)}
    moved = _step_and_move(resources, run, link, pkg, _SIGNING, **fields)
    return PackageHandling.SIGNED if moved else PackageHandling.ALREADY_DONE


def _rejected(
    resources: Resources, run: ledger.RunContext, link: DossierLink, pkg: Package
) -> PackageHandling:
    """The leader sent the draft back: a step on the portal; the link waits for the next outcome."""
    moved = _step_and_move(resources, run, link, pkg, _REJECTION)
    return PackageHandling.REJECTED if moved else PackageHandling.ALREADY_DONE


def _step_and_move(
    resources: Resources,
    run: ledger.RunContext,
    link: DossierLink,
    pkg: Package,
    move: _StepMove,
    **fields: Any,
) -> bool:
    content, target, from_states = move
    if link.state not in from_states:
        return False
    with (
        resources.session() as session
    ):  # one time per (package, link state): a repeat is recognised
        at = ledger.step_time(session, f"{target}:{pkg.doc_id}:{link.state_changed_at.isoformat()}")
    step = Step(
        link.dossier_code,
        content,
        DossierStatus.PROCESSING,
        at,
        person=pkg.signer or "Lãnh đạo",
        title=pkg.signer_title,
        unit=pkg.unit_name,
        due=link.due_at,
    )
    resources.portal.add_step_once(link.dossier_id, step)
    with resources.session() as session:
        link = session.get(DossierLink, link.id)
        detail = {"doc_id": pkg.doc_id, "outcome": pkg.outcome}
        ledger.move(session, run, link, target, detail=detail, **fields)
    return True
