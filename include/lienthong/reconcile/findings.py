"""Reconciliation between iOffice, the portal and the store.

Findings (each recorded in ``reconcile_finding``):
* ``resolved_not_closed`` - issued in iOffice, the portal dossier not finished (the article's
  "overdue though resolved"); repaired by handling the document's package again;
* ``issued_not_attached`` - issued, the dossier finished on the portal but no result attached;
  repaired the same way (attach is idempotent on the number/notation);
* ``not_linked`` - iOffice has a document for a portal dossier lienthong never linked; adopted;
* ``bypass`` - a decision in iOffice with no portal dossier at all; reported, never invented;
* ``overdue`` / ``near_due`` / ``stuck`` - from the watch lists; reported and alerted;
* ``not_synced`` / ``synced_late`` / ``national_status_differs`` - the national record against the
  local one (:mod:`lienthong.reconcile.national_findings`), when the national client is configured.
A document whose result was quarantined is reported, not repaired: an operator replays it.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from lienthong.clients.ioffice import IssuedDocument
from lienthong.domain.masking import get_logger
from lienthong.domain.states import DONE_HANDLINGS, LinkState, PackageHandling
from lienthong.domain.vocabulary import DossierStatus
from lienthong.pipeline import results
from lienthong.pipeline.resources import Resources, qualified_doc_id
from lienthong.reconcile.finding_kinds import FINDING_LABELS_VI, Finding, FindingKind, repaired_key
from lienthong.reconcile.national_findings import national_findings
from lienthong.reconcile.watchlists import late_links, portal_now, stuck_links
from lienthong.store import ledger
from lienthong.store.schema import DossierLink, ReconcileFinding

log = get_logger(__name__)


def reconcile(
    resources: Resources,
    run: ledger.RunContext,
    date_from: date,
    date_to: date,
    *,
    repair: bool = True,
    as_of: datetime | None = None,
    now: datetime | None = None,
) -> list[Finding]:
    """Compare iOffice's issued documents of [date_from, date_to] with the portal and the store."""
    found = _documents(resources, run, date_from, date_to, repair)
    with resources.session() as session:
        as_of = as_of or portal_now(session) or datetime.now(UTC)
        cal = resources.calendar
        for item in late_links(session, as_of, cal.near_due_working_days, cal.calendar):
            found.append(
                Finding(
                    item.kind,
                    item.dossier_code,
                    item.ioffice_doc_id,
                    {
                        "state": item.state,
                        "due_at": item.due_at.isoformat() if item.due_at else None,
                        "agency": item.agency_code,
                    },
                )
            )
        for item in stuck_links(session, now or datetime.now(UTC)):
            found.append(
                Finding(
                    FindingKind.STUCK,
                    item.dossier_code,
                    item.ioffice_doc_id,
                    {
                        "state": item.state,
                        "since": item.since.isoformat(),
                        "agency": item.agency_code,
                    },
                )
            )
    if resources.national is not None:
        found.extend(
            national_findings(resources, date_from, date_to, as_of, run=run, repair=repair)
        )
    with resources.session() as session:
        _record(session, run, found)
    return found


def _documents(
    resources: Resources, run: ledger.RunContext, date_from: date, date_to: date, repair: bool
) -> list[Finding]:
    docs = [  # each iOffice's, with their ids as the links keep them
        replace(doc, doc_id=qualified_doc_id(doc.doc_id, conn_id))
        for conn_id in (None, *sorted(resources.routing.ioffice_conn_ids))
        for doc in resources.ioffice_by_conn(conn_id).issued_documents(date_from, date_to)
    ]
    codes = [doc.dossier_code for doc in docs if doc.dossier_code]
    with resources.session() as session:
        links = (
            {
                link.dossier_code: link
                for link in session.scalars(
                    select(DossierLink).where(DossierLink.dossier_code.in_(codes))
                )
            }
            if codes
            else {}
        )
    out: list[Finding] = []
    for doc in docs:
        link = links.get(doc.dossier_code)
        if link is not None:
            if link.attached_at is None:
                out.append(_unattached(resources, run, doc, link, repair))
            continue
        raw = resources.portal.find_by_code(doc.dossier_code) if doc.dossier_code else None
        out.append(
            _bypass(resources, run, doc)
            if raw is None
            else _not_linked(resources, run, doc, repair)
        )
    return out


def _unattached(
    resources: Resources,
    run: ledger.RunContext,
    doc: IssuedDocument,
    link: DossierLink,
    repair: bool,
) -> Finding:
    """Issued in iOffice, linked, but no result on the portal: repaired by handling the package
    again."""
    portal_status = resources.portal.progress(link.dossier_id).status
    kind = (
        FindingKind.RESOLVED_NOT_CLOSED
        if portal_status < DossierStatus.FINISHED
        else FindingKind.ISSUED_NOT_ATTACHED
    )
    finding = Finding(
        kind,
        doc.dossier_code,
        doc.doc_id,
        {**doc.meta(), "state": link.state, "portal_status": portal_status},
    )
    if link.state == LinkState.QUARANTINED:
        finding.repair_result = "quarantined: replay needed"
    elif repair:
        finding.repair_result = _repair(resources, run, doc.doc_id)
        finding.repaired = finding.repair_result in DONE_HANDLINGS
    return finding


def _bypass(resources: Resources, run: ledger.RunContext, doc: IssuedDocument) -> Finding:
    """A decision with no portal dossier at all: recorded and reported, never invented."""
    with resources.session() as session:
        ledger.record_bypass(session, run, doc, found_by="reconcile")
    return Finding(
        FindingKind.BYPASS,
        doc.dossier_code or None,
        doc.doc_id,
        {**doc.meta(), "subject": doc.subject},
    )


def _not_linked(
    resources: Resources, run: ledger.RunContext, doc: IssuedDocument, repair: bool
) -> Finding:
    finding = Finding(FindingKind.NOT_LINKED, doc.dossier_code, doc.doc_id, doc.meta())
    if repair:
        finding.repair_result = _repair(resources, run, doc.doc_id)
        finding.repaired = finding.repair_result in DONE_HANDLINGS | {PackageHandling.ADOPTED}
    return finding


def _repair(resources: Resources, run: ledger.RunContext, doc_id: str) -> str:
    try:
        return str(results.handle_package(resources, run, doc_id))
    except Exception as exc:  # noqa: BLE001 - reported in the finding; the next run tries again
        log.warning("repair of %s failed: %s", doc_id, type(exc).__name__)
        return f"failed: {type(exc).__name__}"


def _record(session, run: ledger.RunContext, found: list[Finding]) -> None:
    now = datetime.now(UTC)
    session.add_all(
        ReconcileFinding(
            run_id=run.run_id,
            found_at=now,
            kind=f.kind,
            dossier_code=f.dossier_code,
            ioffice_doc_id=f.ioffice_doc_id,
            detail=f.detail,
            repaired=f.repaired,
            repair_result=f.repair_result,
        )
        for f in found
    )


def summarize(found: list[Finding]) -> dict[str, int]:
    """Counts per kind, and per kind repaired (:func:`repaired_key`), with plain string keys."""
    out: dict[str, int] = {}
    for f in found:
        out[str(f.kind)] = out.get(f.kind, 0) + 1
        if f.repaired:
            out[repaired_key(f.kind)] = out.get(repaired_key(f.kind), 0) + 1
    return out


def summary_vi(counts: dict[str, int]) -> str:
    """One line per finding kind, for officials."""
    if not any(k in FINDING_LABELS_VI for k in counts):
        return "Không phát hiện sai lệch."
    lines = []
    for kind, label in FINDING_LABELS_VI.items():
        if counts.get(kind):
            repaired = counts.get(repaired_key(kind), 0)
            lines.append(
                f"{label}: {counts[kind]}" + (f" (đã xử lý {repaired})" if repaired else "")
            )
    return "\n".join(lines)


def default_window(today: date, days: int = 7) -> tuple[date, date]:
    return today - timedelta(days=days), today
