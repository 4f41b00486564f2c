"""Signed results: read iOffice packages, verify, attach to the portal, finish, log savings, ack.

Order per issued package (each step safe to repeat):
verify -> record ``issued`` -> attach (skipped if the portal already has this
number/notation) -> status 9 with its step (skipped if already 9) -> record
``attached`` + the savings row (one transaction; the row's key is the dossier
code) -> acknowledge. A crash before the acknowledgement only means the package
is delivered again, and every step above then finds its work done.
"""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import select

from lienthong.clients.http import is_transient
from lienthong.clients.ioffice import Package
from lienthong.clients.portal_shapes import parse_portal_datetime, to_dossier
from lienthong.domain.masking import get_logger
from lienthong.domain.states import LinkState, is_at_or_past
from lienthong.domain.vocabulary import (
    STEP_FINISHED_VI,
    STEP_REJECTED_VI,
    STEP_SIGNED_VI,
    AckStatus,
    DossierStatus,
    PackageOutcome,
)
from lienthong.pipeline.payloads import dossier_id_from_correlation, step_record
from lienthong.pipeline.quarantine_causes import fingerprint_for
from lienthong.pipeline.resources import Resources
from lienthong.pipeline.verify_result import verify_signed_pdf
from lienthong.store import links as store
from lienthong.store.schema import DossierLink

log = get_logger(__name__)


def pending_doc_ids(res: Resources, top: int = 500) -> list[str]:
    """Pending packages, each document once even when delivered twice."""
    seen: dict[str, None] = {}
    for item in res.ioffice.list_pending(top=top):
        doc_id = str(item.get("MaVanBan") or "")
        if doc_id:
            seen.setdefault(doc_id, None)
    return list(seen)


def process_packages(res: Resources, ctx: store.RunContext, doc_ids: list[str] | None = None) -> dict[str, int]:
    """Handle every pending package (or the given ones); one bad package never stops the rest."""
    ids = pending_doc_ids(res) if doc_ids is None else list(dict.fromkeys(doc_ids))
    counts: Counter[str] = Counter(packages=len(ids))

    def one(doc_id: str) -> str:
        try:
            return handle_package(res, ctx, doc_id)
        except Exception as exc:
            log.warning("package %s not processed (%s); it stays pending", doc_id, type(exc).__name__)
            with res.session() as session:
                store.add_event(session, ctx, None, "package_error",
                                detail={"MaVanBan": doc_id, "error": f"{type(exc).__name__}: {exc}"[:500],
                                        "transient": is_transient(exc)})
            return "error"

    with ThreadPoolExecutor(max_workers=res.concurrency) as pool:
        counts.update(pool.map(one, ids))
    return dict(counts)


def _find_link(session, pkg: Package) -> DossierLink | None:
    link = session.scalar(select(DossierLink).where(DossierLink.ioffice_doc_id == pkg.doc_id))
    if link is None and pkg.dossier_code:
        link = session.scalar(select(DossierLink).where(DossierLink.dossier_code == pkg.dossier_code))
    if link is None and (dossier_id := dossier_id_from_correlation(pkg.correlation)):
        link = session.scalar(select(DossierLink).where(DossierLink.dossier_id == dossier_id))
    return link


def handle_package(res: Resources, ctx: store.RunContext, doc_id: str) -> str:
    pkg = res.ioffice.get_package(doc_id)
    with res.session() as session:
        link = _find_link(session, pkg)
        if link is None:
            outcome = _unlinked(res, session, ctx, pkg)
            if outcome != "adopted":
                res.ioffice.acknowledge(doc_id, AckStatus.PROCESSED)
                return outcome
            link = _find_link(session, pkg)
    assert link is not None
    if pkg.outcome == PackageOutcome.ISSUED:
        result = _issued(res, ctx, link, pkg)
    elif pkg.outcome == PackageOutcome.SIGNED_NOT_ISSUED:
        result = _signed(res, ctx, link, pkg)
    elif pkg.outcome == PackageOutcome.REJECTED:
        result = _rejected(res, ctx, link, pkg)
    else:
        with res.session() as session:
            store.add_event(session, ctx, link.dossier_code, "package_trace", detail=pkg.meta())
        result = "traced"
    res.ioffice.acknowledge(doc_id, AckStatus.FAILED if result == "quarantined" else AckStatus.PROCESSED)
    return result


def _unlinked(res: Resources, session, ctx: store.RunContext, pkg: Package) -> str:
    """A package for no known link: a bypass (no portal dossier), or a dossier intake has not met yet."""
    raw = res.portal.find_by_code(pkg.dossier_code) if pkg.dossier_code else None
    if raw is None:
        store.record_bypass(session, ctx, doc_id=pkg.doc_id, found_by="package", agency_code=pkg.unit_code,
                            agency_name=pkg.unit_name, doc_code_notation=pkg.code_notation or None,
                            doc_type=pkg.doc_type or None, doc_subject=pkg.subject[:500] or None,
                            promulgation_date=pkg.promulgated_on)
        return "bypass"
    d = to_dossier(raw, res.routing.known_procedures)
    link = store.new_link(session, ctx, d, res.routing.procedures[d.procedure_code].result_kind.value)
    store.move(session, ctx, link, LinkState.TRANSFERRED, ioffice_doc_id=pkg.doc_id,
               transferred_at=datetime.now(timezone.utc), detail={"MaVanBan": pkg.doc_id, "adopted": True})
    session.flush()
    return "adopted"


def _doc_fields(pkg: Package) -> dict[str, Any]:
    return {"doc_code_notation": pkg.code_notation, "doc_type": pkg.doc_type, "doc_subject": pkg.subject[:500],
            "doc_signer": pkg.signer, "doc_promulgation_date": pkg.promulgated_on}


def _issued(res: Resources, ctx: store.RunContext, link: DossierLink, pkg: Package) -> str:
    if is_at_or_past(link.state, LinkState.ATTACHED):
        return "already_done"
    content = pkg.files[0].content if pkg.files else b""
    verdict = verify_signed_pdf(content, res.ioffice.s.trust_roots_pem, res.ioffice.s.max_result_bytes)
    if verdict.ok and link.state == LinkState.SKIPPED.value:
        # A decision for a dossier whose procedure is not routed to iOffice (pushed by hand, or the
        # routing changed): an operator decides; it is never attached on a guess.
        verdict = replace(verdict, ok=False, reason_code="not_routed",
                          message_vi="Có văn bản iOffice cho hồ sơ không thuộc diện liên thông theo cấu hình",
                          detail=f"link state {link.state}; procedure {link.procedure_code}")
    if not verdict.ok:
        with res.session() as session:
            link = session.get(DossierLink, link.id)
            store.quarantine(session, ctx, source="ioffice_package", key=pkg.doc_id, code=link.dossier_code,
                             reason_code=verdict.reason_code or "invalid", reason_vi=verdict.message_vi or "",
                             detail=verdict.detail, payload={**pkg.meta(), "dossier_id": link.dossier_id,
                                                             "sha256": verdict.sha256},
                             fingerprint=fingerprint_for(res, verdict.reason_code or "invalid"))
            if link.state not in (LinkState.QUARANTINED.value, LinkState.SKIPPED.value):
                store.move(session, ctx, link, LinkState.QUARANTINED,
                           detail={"reason": verdict.reason_code, "MaVanBan": pkg.doc_id})
        log.warning("result of %s refused: %s", link.dossier_code, verdict.reason_code)
        return "quarantined"
    with res.session() as session:
        link = session.get(DossierLink, link.id)
        if link.state != LinkState.ISSUED.value:
            store.move(session, ctx, link, LinkState.ISSUED, issued_at=pkg.promulgated_on,
                       signed_at=link.signed_at or pkg.signed_on, result_sha256=verdict.sha256,
                       detail={"MaVanBan": pkg.doc_id, "SoKyHieu": pkg.code_notation, "sha256": verdict.sha256},
                       **_doc_fields(pkg))
    document = {"codeNotation": pkg.code_notation, "documentType": pkg.doc_type, "subject": pkg.subject,
                "signer": pkg.signer, "promulgationDate": pkg.promulgated_on.isoformat() if pkg.promulgated_on
                else None, "sha256": verdict.sha256}
    file_id, attached_now = res.portal.attach_result_once(link.dossier_id, pkg.files[0].name, content, document)
    now = datetime.now(timezone.utc)
    step = step_record(link.dossier_code, STEP_FINISHED_VI.format(code=pkg.code_notation), DossierStatus.FINISHED,
                       now, person=pkg.signer or "Hệ thống liên thông", title=pkg.signer_title or "Lãnh đạo",
                       unit=pkg.unit_name, due=link.due_at)
    res.portal.set_status_once(link.dossier_id, DossierStatus.FINISHED, step, beyond=(DossierStatus.RETURNED,))
    raw = res.portal.get_dossier(link.dossier_id)
    finished = raw.get("completedDate")
    with res.session() as session:
        link = session.get(DossierLink, link.id)
        store.move(session, ctx, link, LinkState.ATTACHED, attached_at=now, result_file_id=file_id,
                   portal_status=int(raw.get("dossierStatus", {}).get("id", DossierStatus.FINISHED)),
                   finished_at=parse_portal_datetime(finished) if finished else now,
                   detail={"file_id": file_id, "attached_now": attached_now, "status": int(DossierStatus.FINISHED)})
        store.record_savings(session, ctx, link, res.minutes_saved(link.procedure_code),
                             res.savings.cost_per_hour_vnd)
        store.resolve_quarantine(session, ctx, source="ioffice_package", key=pkg.doc_id,
                                 resolution="verified and attached")
    return "attached"


def _signed(res: Resources, ctx: store.RunContext, link: DossierLink, pkg: Package) -> str:
    if link.state not in (LinkState.TRANSFERRED.value, LinkState.REJECTED.value):
        return "already_done"
    step = step_record(link.dossier_code, STEP_SIGNED_VI, DossierStatus.PROCESSING, datetime.now(timezone.utc),
                       person=pkg.signer or "Lãnh đạo", title=pkg.signer_title, unit=pkg.unit_name, due=link.due_at)
    res.portal.add_step_once(link.dossier_id, step)
    with res.session() as session:
        link = session.get(DossierLink, link.id)
        store.move(session, ctx, link, LinkState.SIGNED, signed_at=pkg.signed_on,
                   detail={"MaVanBan": pkg.doc_id, "LoaiKetQua": pkg.outcome}, **_doc_fields(pkg))
    return "signed"


def _rejected(res: Resources, ctx: store.RunContext, link: DossierLink, pkg: Package) -> str:
    if link.state not in (LinkState.TRANSFERRED.value, LinkState.SIGNED.value):
        return "already_done"
    step = step_record(link.dossier_code, STEP_REJECTED_VI, DossierStatus.PROCESSING, datetime.now(timezone.utc),
                       person=pkg.signer or "Lãnh đạo", title=pkg.signer_title, unit=pkg.unit_name, due=link.due_at)
    res.portal.add_step_once(link.dossier_id, step)
    with res.session() as session:
        link = session.get(DossierLink, link.id)
        store.move(session, ctx, link, LinkState.REJECTED, detail={"MaVanBan": pkg.doc_id, "LoaiKetQua": "03"})
    return "rejected"
