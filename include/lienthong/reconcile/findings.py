"""Reconciliation between iOffice, the portal and the store.

Findings (each recorded in ``reconcile_finding``):
* ``resolved_not_closed`` - issued in iOffice, the portal dossier not finished (the article's
  "overdue though resolved"); repaired by handling the document's package again;
* ``issued_not_attached`` - issued, the dossier finished on the portal but no result attached;
  repaired the same way (attach is idempotent on the number/notation);
* ``not_linked`` - iOffice has a document for a portal dossier lienthong never linked; adopted;
* ``bypass`` - a decision in iOffice with no portal dossier at all; reported, never invented;
* ``overdue`` / ``near_due`` / ``stuck`` - from the watch lists; reported and alerted.
A document whose result was quarantined is reported, not repaired: an operator replays it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import select

from lienthong.clients.ioffice import parse_vn_date
from lienthong.domain.masking import get_logger
from lienthong.domain.states import LinkState
from lienthong.pipeline import results
from lienthong.pipeline.resources import Resources
from lienthong.reconcile.watchlists import late_links, portal_now, stuck_links
from lienthong.store import links as store
from lienthong.store.schema import DossierLink, ReconcileFinding

log = get_logger(__name__)

KIND_LABELS_VI = {
    "resolved_not_closed": "Đã giải quyết trên iOffice nhưng chưa kết thúc trên Một cửa",
    "issued_not_attached": "Đã ban hành nhưng chưa gắn kết quả trên Một cửa",
    "not_linked": "Có văn bản trên iOffice nhưng hồ sơ chưa được liên thông",
    "bypass": "Văn bản trên iOffice không qua Một cửa",
    "overdue": "Quá hạn trả kết quả, đang chờ ký/ban hành",
    "near_due": "Sắp đến hạn trả kết quả, đang chờ ký/ban hành",
    "stuck": "Dừng quá lâu ở một bước",
}


@dataclass
class Finding:
    kind: str
    dossier_code: str | None
    ioffice_doc_id: str | None
    detail: dict[str, Any] = field(default_factory=dict)
    repaired: bool = False
    repair_result: str | None = None


def reconcile(res: Resources, ctx: store.RunContext, date_from: date, date_to: date, *, repair: bool = True,
              as_of: datetime | None = None, now: datetime | None = None) -> list[Finding]:
    """Compare iOffice's issued documents of [date_from, date_to] with the portal and the store."""
    found = _documents(res, ctx, date_from, date_to, repair)
    with res.session() as session:
        as_of = as_of or portal_now(session) or datetime.now(timezone.utc)
        for item in late_links(session, as_of):
            found.append(Finding(item.kind, item.dossier_code, item.ioffice_doc_id,
                                 {"state": item.state, "due_at": item.due_at.isoformat() if item.due_at else None,
                                  "agency": item.agency_code}))
        for item in stuck_links(session, now or datetime.now(timezone.utc)):
            found.append(Finding("stuck", item.dossier_code, item.ioffice_doc_id,
                                 {"state": item.state, "since": item.since.isoformat(), "agency": item.agency_code}))
        _record(session, ctx, found)
    return found


def _documents(res: Resources, ctx: store.RunContext, date_from: date, date_to: date, repair: bool) -> list[Finding]:
    start = datetime.combine(date_from, datetime.min.time())
    end = datetime.combine(date_to, datetime.min.time())
    docs = res.ioffice.list_documents(start, end)
    codes = [d.get("MaHoSo") for d in docs if d.get("MaHoSo")]
    with res.session() as session:
        links = {link.dossier_code: (link.state, link.attached_at is not None, link.dossier_id)
                 for link in session.scalars(select(DossierLink).where(DossierLink.dossier_code.in_(codes)))} \
            if codes else {}
    out: list[Finding] = []
    for doc in docs:
        doc_id, code = str(doc["MaVanBan"]), doc.get("MaHoSo") or ""
        meta = {"SoKyHieu": doc.get("SoKyHieu"), "NgayBanHanh": doc.get("NgayBanHanh"),
                "DonVi": (doc.get("DonVi") or {}).get("MaDinhDanh")}
        if code in links:
            state, attached, dossier_id = links[code]
            if attached:
                continue
            portal_status = int(res.portal.get_dossier(dossier_id).get("dossierStatus", {}).get("id", 0))
            kind = "resolved_not_closed" if portal_status < 9 else "issued_not_attached"
            finding = Finding(kind, code, doc_id, {**meta, "state": state, "portal_status": portal_status})
            if state == LinkState.QUARANTINED.value:
                finding.repair_result = "quarantined: replay needed"
            elif repair:
                finding.repair_result = _repair(res, ctx, doc_id)
                finding.repaired = finding.repair_result in ("attached", "already_done")
            out.append(finding)
            continue
        raw = res.portal.find_by_code(code) if code else None
        if raw is None:
            with res.session() as session:
                store.record_bypass(session, ctx, doc_id=doc_id, found_by="reconcile",
                                    agency_code=meta["DonVi"], agency_name=(doc.get("DonVi") or {}).get("Ten"),
                                    doc_code_notation=doc.get("SoKyHieu") or None,
                                    doc_type=doc.get("LoaiVanBan") or None,
                                    doc_subject=(doc.get("TrichYeu") or "")[:500] or None,
                                    promulgation_date=parse_vn_date(doc.get("NgayBanHanh")))
            out.append(Finding("bypass", code or None, doc_id, {**meta, "TrichYeu": doc.get("TrichYeu")}))
            continue
        finding = Finding("not_linked", code, doc_id, meta)
        if repair:
            finding.repair_result = _repair(res, ctx, doc_id)
            finding.repaired = finding.repair_result in ("attached", "already_done", "adopted")
        out.append(finding)
    return out


def _repair(res: Resources, ctx: store.RunContext, doc_id: str) -> str:
    try:
        return results.handle_package(res, ctx, doc_id)
    except Exception as exc:  # reported in the finding; the next run tries again
        log.warning("repair of %s failed: %s", doc_id, type(exc).__name__)
        return f"failed: {type(exc).__name__}"


def _record(session, ctx: store.RunContext, found: list[Finding]) -> None:
    now = datetime.now(timezone.utc)
    session.add_all(ReconcileFinding(run_id=ctx.run_id, found_at=now, kind=f.kind, dossier_code=f.dossier_code,
                                     ioffice_doc_id=f.ioffice_doc_id, detail=f.detail, repaired=f.repaired,
                                     repair_result=f.repair_result) for f in found)


def summarize(found: list[Finding]) -> dict[str, int]:
    out: dict[str, int] = {}
    for f in found:
        out[f.kind] = out.get(f.kind, 0) + 1
        if f.repaired:
            out[f"{f.kind}_repaired"] = out.get(f"{f.kind}_repaired", 0) + 1
    return out


def summary_vi(counts: dict[str, int]) -> str:
    """One line per finding kind, for officials."""
    if not any(k in KIND_LABELS_VI for k in counts):
        return "Không phát hiện sai lệch."
    lines = []
    for kind, label in KIND_LABELS_VI.items():
        if counts.get(kind):
            repaired = counts.get(f"{kind}_repaired", 0)
            lines.append(f"{label}: {counts[kind]}" + (f" (đã xử lý {repaired})" if repaired else ""))
    return "\n".join(lines)


def default_window(today: date, days: int = 7) -> tuple[date, date]:
    return today - timedelta(days=days), today
