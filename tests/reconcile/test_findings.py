"""Reconciliation finds each kind of divergence created on the stand-ins, and repairs what is
safe."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from lienthong.clients.portal_shapes import to_dossier
from lienthong.pipeline import results
from lienthong.pipeline.routing import route_for
from lienthong.reconcile.findings import reconcile, summarize
from lienthong.store.schema import BypassDocument, DossierLink, ReconcileFinding
from lienthong_standins.portal.store import SearchFilters
from tests.pipeline.invariants import check
from tests.pipeline.test_flow import CTX, HOUR, run_intake

pytestmark = pytest.mark.scenario(
    "burst-150"
)  # each finding needs some dossiers, not the demo's 300

DAY = date(2022, 12, 1)


def test_reconciliation_finds_and_repairs(standins, res):
    standins.advance(10 * HOUR)
    # not_linked: staff pushed a dossier to iOffice by hand before lienthong met it.
    every = standins.portal_store.search(SearchFilters(), 0, 1000, False)[0]
    manual = next(
        to_dossier(d)
        for d in every
        if res.routing.procedures[d["procedure"]["code"]].result_kind.value == "decision"
    )
    res.ioffice.push(
        manual, route_for(res.routing, manual.procedure_code, manual.agency_code), datetime.now(UTC)
    )
    run_intake(res)  # links everything, including the manual one (adopted via "already exists")
    with res.session() as session:
        session.execute(
            DossierLink.__table__.delete().where(DossierLink.dossier_code == manual.code)
        )
    standins.advance(30 * HOUR)
    # resolved_not_closed / issued_not_attached: packages acknowledged by someone else, never
    # processed.
    ids = res.ioffice.pending_doc_ids()
    issued = [i for i in ids if res.ioffice.get_package(i).outcome == "01"][:4]
    assert len(issued) == 4
    for doc_id in issued:
        res.ioffice.acknowledge(doc_id, "03")
    closed_by_hand = res.ioffice.get_package(issued[0]).dossier_code
    with res.session() as session:
        link = session.scalar(select(DossierLink).where(DossierLink.dossier_code == closed_by_hand))
    res.portal.set_status_once(link.dossier_id, 9)  # the desk closed it without the result
    results.process_packages(res, CTX)

    found = reconcile(res, CTX, DAY, DAY + timedelta(days=5))
    counts = summarize(found)
    assert counts["resolved_not_closed"] == 3 and counts["resolved_not_closed_repaired"] == 3
    assert counts["issued_not_attached"] == 1 and counts["issued_not_attached_repaired"] == 1
    assert counts["bypass"] >= 1
    with res.session() as session:
        assert session.scalar(select(func.count()).select_from(BypassDocument)) == counts["bypass"]
        assert session.scalar(select(func.count()).select_from(ReconcileFinding)) == len(found)
    if manual.code in {f.dossier_code for f in found if f.kind == "not_linked"}:
        assert counts["not_linked_repaired"] >= 1
    check(standins, res.engine)

    again = summarize(reconcile(res, CTX, DAY, DAY + timedelta(days=5)))
    assert "resolved_not_closed" not in again and "issued_not_attached" not in again


def test_late_and_stuck_are_found(standins, res):
    standins.advance(10 * HOUR)
    run_intake(res)
    standins.advance(20 * 24 * HOUR)  # nobody processes results for weeks
    run_intake(res)  # the store learns the portal's "now"
    found = reconcile(res, CTX, DAY, DAY, repair=False, now=datetime.now(UTC) + timedelta(days=30))
    counts = summarize(found)
    assert counts.get("overdue", 0) > 0
    assert counts.get("stuck", 0) > 0
    assert all(f.detail.get("due_at") for f in found if f.kind == "overdue")
