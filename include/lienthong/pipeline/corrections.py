"""Decisions corrected after issuance: a replacing decision takes the attached one's place on the
portal, a revoked one is taken off it; each with a step, and the history keeps every version's
file digest (``result_version``).

Every remote write reads before it writes (``attach_result_once``, ``withdraw_result_once``,
``add_step_once`` with a step time fixed once), and the store is updated last, in one
transaction, under the dossier's claim the caller holds: a run killed anywhere repeats the same
writes and finds them done. The savings row is never touched (one per dossier, ever). A revoked
decision whose dossier the citizen already has (returned) is not changed on the portal: it is
listed for a person, who must reach the citizen.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from lienthong.clients.ioffice import Package
from lienthong.domain.dossier import Step
from lienthong.domain.masking import get_logger
from lienthong.domain.problem import Problem
from lienthong.domain.states import LinkState, PackageHandling, QuarantineSource
from lienthong.domain.vocabulary import STEP_REPLACED_VI, STEP_REVOKED_VI, DossierStatus
from lienthong.pipeline.quarantine_causes import quarantine_item
from lienthong.pipeline.resources import Resources
from lienthong.pipeline.verify_result import Verdict
from lienthong.store import ledger
from lienthong.store.schema import DossierLink, ResultVersion

log = get_logger(__name__)


def version(session: Session, link: DossierLink, doc_id: str) -> ResultVersion:
    """The version row of ``doc_id`` for the link's dossier; made from the link when it is the
    link's current document and has none yet (attached before versions were kept)."""
    row = session.get(ResultVersion, (link.dossier_code, doc_id))
    if row is None:
        current = link.ioffice_doc_id == doc_id
        row = ResultVersion(
            dossier_code=link.dossier_code,
            ioffice_doc_id=doc_id,
            code_notation=link.doc_code_notation if current else None,
            sha256=link.result_sha256 if current else None,
            file_id=link.result_file_id if current else None,
            attached_at=link.attached_at if current else None,
            revoked_after_return=False,
        )
        session.add(row)
    return row


def replaces_unknown(pkg: Package, link: DossierLink) -> Problem:
    return Problem(
        "replaces_unknown",
        f"Văn bản {pkg.code_notation or pkg.doc_id} thay thế một văn bản không phải kết quả "
        "của hồ sơ này; không thay kết quả",
        f"package {pkg.doc_id} replaces {pkg.replaces!r}; the dossier's document is "
        f"{link.ioffice_doc_id!r}",
    )


def revoked_unattached(pkg: Package, link: DossierLink | None) -> Problem:
    return Problem(
        "revoked_unattached",
        f"Văn bản {pkg.code_notation or pkg.doc_id} bị thu hồi nhưng chưa từng được gắn làm kết "
        "quả trên Một cửa; cần người kiểm tra hồ sơ",
        f"revocation of {pkg.doc_id}, which no link has attached"
        + (f" (dossier {link.dossier_code} is {link.state})" if link else ""),
    )


def refuse(
    resources: Resources, run: ledger.RunContext, link: DossierLink, pkg: Package, why: Problem
) -> PackageHandling:
    """Quarantine a correction the link cannot apply; the dossier's result stays as it is."""
    payload = {**pkg.meta(), "replaces": pkg.replaces, "dossier_id": link.dossier_id}
    where = {"source": QuarantineSource.IOFFICE_PACKAGE, "key": pkg.doc_id}
    with resources.session() as session:
        quarantine_item(
            resources, session, run, why, **where, code=link.dossier_code, payload=payload
        )
    log.warning("correction %s of %s refused: %s", pkg.doc_id, link.dossier_code, why.reason_code)
    return PackageHandling.QUARANTINED


def replace(
    resources: Resources,
    run: ledger.RunContext,
    link: DossierLink,
    pkg: Package,
    verdict: Verdict,
    file_id: str,
) -> PackageHandling:
    """With the verified replacing decision attached (``file_id``), take the replaced one off the
    portal and say so with a step; then record both versions and point the link at the new
    document."""
    now = datetime.now(UTC)
    old_notation = link.doc_code_notation or ""
    if old_notation and old_notation != pkg.code_notation:
        resources.portal.withdraw_result_once(link.dossier_id, old_notation)
    with resources.session() as session:
        at = ledger.step_time(session, f"replaced:{pkg.doc_id}", now)
    text = STEP_REPLACED_VI.format(
        new=pkg.code_notation, old=old_notation or pkg.replaces, reason=pkg.change_reason or "—"
    )
    step = _step(link, text, at, pkg)
    resources.portal.add_step_once(link.dossier_id, step)
    with resources.session() as session:
        link = session.get(DossierLink, link.id)
        old = version(session, link, pkg.replaces)
        old.replaced_by, old.replaced_at = pkg.doc_id, old.replaced_at or now
        old.change_reason = pkg.change_reason[:1000] or old.change_reason
        new = version(session, link, pkg.doc_id)
        new.code_notation, new.sha256, new.file_id = pkg.code_notation, verdict.sha256, file_id
        new.attached_at = new.attached_at or now
        fields = {
            "ioffice_doc_id": pkg.doc_id,
            "result_sha256": verdict.sha256,
            "result_file_id": file_id,
            "doc_code_notation": pkg.code_notation,
            "doc_type": pkg.doc_type,
            "doc_subject": pkg.subject[:500],
            "doc_signer": pkg.signer,
            "doc_promulgation_date": pkg.promulgated_on,
        }
        detail = {"replaced": pkg.replaces, "by": pkg.doc_id, "sha256": verdict.sha256}
        if link.state == LinkState.REVOKED:
            ledger.move(session, run, link, LinkState.ATTACHED, detail=detail, **fields)
        else:
            for name, value in fields.items():
                setattr(link, name, value)
            ledger.add_event(session, run, link.dossier_code, "result_replaced", detail=detail)
        ledger.resolve_quarantine(
            session,
            run,
            source=QuarantineSource.IOFFICE_PACKAGE,
            key=pkg.doc_id,
            resolution="verified and put in place of the replaced result",
        )
    return PackageHandling.REPLACED


def revoke(
    resources: Resources, run: ledger.RunContext, link: DossierLink, pkg: Package
) -> PackageHandling:
    """Take a revoked decision off the dossier with a step, or list it for a person when the
    citizen already has it; an older, replaced version is only noted."""
    now = datetime.now(UTC)
    with resources.session() as session:
        known = session.get(ResultVersion, (link.dossier_code, pkg.doc_id))
        if link.ioffice_doc_id != pkg.doc_id:
            if known is None:
                return refuse(resources, run, link, pkg, revoked_unattached(pkg, link))
            known.revoked_at = known.revoked_at or now  # replaced already: nothing on the portal
            known.change_reason = pkg.change_reason[:1000] or known.change_reason
            ledger.add_event(
                session, run, link.dossier_code, "replaced_result_revoked", detail=pkg.meta()
            )
            return PackageHandling.TRACED
        if known is not None and known.revoked_at is not None:
            return PackageHandling.ALREADY_DONE
    if link.state not in (LinkState.ATTACHED, LinkState.RETURNED, LinkState.REVOKED):
        return refuse(resources, run, link, pkg, revoked_unattached(pkg, link))
    closed = link.state == LinkState.RETURNED or link.portal_status == DossierStatus.RETURNED
    if not closed:
        resources.portal.withdraw_result_once(link.dossier_id, link.doc_code_notation or "")
        with resources.session() as session:
            at = ledger.step_time(session, f"revoked:{pkg.doc_id}", now)
        text = STEP_REVOKED_VI.format(
            code=link.doc_code_notation or pkg.doc_id, reason=pkg.change_reason or "—"
        )
        resources.portal.add_step_once(link.dossier_id, _step(link, text, at, pkg))
    with resources.session() as session:
        link = session.get(DossierLink, link.id)
        row = version(session, link, pkg.doc_id)
        row.revoked_at, row.revoked_after_return = now, closed
        row.change_reason = pkg.change_reason[:1000] or None
        detail = {"doc_id": pkg.doc_id, "after_return": closed}
        if link.state == LinkState.ATTACHED:
            ledger.move(session, run, link, LinkState.REVOKED, detail=detail)
        else:
            ledger.add_event(session, run, link.dossier_code, "result_revoked", detail=detail)
    if closed:
        log.warning("decision %s of returned dossier %s revoked", pkg.doc_id, link.dossier_code)
    return PackageHandling.REVOKED


def _step(link: DossierLink, content: str, at: datetime, pkg: Package) -> Step:
    return Step(
        link.dossier_code,
        content,
        DossierStatus(link.portal_status),
        at,
        person=pkg.signer or "Hệ thống liên thông",
        title=pkg.signer_title or "Lãnh đạo",
        unit=pkg.unit_name,
        due=link.due_at,
    )
