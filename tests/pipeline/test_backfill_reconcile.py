"""Backfill makes a window with missed dossiers whole (and a second run changes nothing);
reconciliation finds each kind of divergence created on the stand-ins, and repairs what is safe."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from lienthong.clients.portal_shapes import to_dossier
from lienthong.pipeline import backfill, results
from lienthong.pipeline.routing import route_for
from lienthong.reconcile.findings import reconcile, summarize
from lienthong.store import ledger as store
from lienthong.store.schema import BypassDocument, DossierLink, ReconcileFinding

from .invariants import check
from .test_flow import CTX, HOUR, run_intake

pytestmark = pytest.mark.scenario(
    "burst-150"
)  # each window or finding needs some dossiers, not the demo's 300

DAY = date(2022, 12, 1)


def count_links(res) -> int:
    with res.session() as session:
        return session.scalar(select(func.count()).select_from(DossierLink))


def test_backfill_makes_a_missed_window_whole_and_is_idempotent(standins, res):
    standins.advance(4 * HOUR)
    run_intake(res)
    before = count_links(res)
    # A lost interval: the cursor jumped ahead (clock skew, a bad manual fix), so the scheduled
    # intake never sees the dossiers received in between.
    with res.session() as session:
        store.set_cursor(
            session, CTX, "dossier_intake", datetime(2022, 12, 1, 16, tzinfo=UTC), "f" * 24
        )
    standins.advance(6 * HOUR)
    run_intake(res)
    visible = standins.portal_store.stats()["dossiers"]["visible"]
    missed = visible - count_links(res)
    assert before > 0 and missed > 50

    window = backfill.backfill_window(DAY, DAY)
    dry = backfill.backfill(res, CTX, window, dry_run=True)
    assert dry["missing"] == missed and count_links(res) == visible - missed
    assert "Chạy thử" in backfill.summary_vi(dry, True)

    done = backfill.backfill(res, CTX, window)
    assert done["new"] == missed
    assert count_links(res) == visible
    assert "bổ sung" in backfill.summary_vi(done, False)
    check(standins, res.engine)

    again = backfill.backfill(res, CTX, window)
    assert again.get("new", 0) == 0 and again.get("transferred", 0) == 0
    assert count_links(res) == visible
    check(standins, res.engine)


def test_backfill_by_agency_and_codes(standins, res):
    standins.advance(10 * HOUR)
    from lienthong_standins.portal.store import SearchFilters

    every = standins.portal_store.search(SearchFilters(), 0, 1000, False)[0]
    agency = every[0]["agency"]["code"]
    expected = {d["code"] for d in every if d["agency"]["code"] == agency}
    backfill.backfill(res, CTX, backfill.backfill_window(DAY, DAY, agencies=(agency,)))
    with res.session() as session:
        assert set(session.scalars(select(DossierLink.dossier_code))) == expected
    codes = tuple(d["code"] for d in every if d["agency"]["code"] != agency)[:3]
    backfill.backfill(res, CTX, backfill.backfill_window(DAY, DAY, codes=codes))
    assert count_links(res) == len(expected) + 3


def test_reconciliation_finds_and_repairs(standins, res):
    standins.advance(10 * HOUR)
    # not_linked: staff pushed a dossier to iOffice by hand before lienthong met it.
    from lienthong_standins.portal.store import SearchFilters

    every = standins.portal_store.search(SearchFilters(), 0, 1000, False)[0]
    manual = next(
        to_dossier(d)
        for d in every
        if res.routing.procedures[d["procedure"]["code"]].result_kind.value == "decision"
    )
    res.ioffice.push(
        manual,
        route_for(res.routing, manual.procedure_code, manual.agency_code),
        datetime.now(UTC),
    )
    run_intake(res)  # links everything, including the manual one (adopted via "already exists")
    with res.session() as session:
        session.execute(
            DossierLink.__table__.delete().where(DossierLink.dossier_code == manual.code)
        )
    standins.advance(30 * HOUR)
    # resolved_not_closed / issued_not_attached: packages acknowledged by someone else, never processed.
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
    found = reconcile(
        res, CTX, DAY, DAY, repair=False, now=datetime.now(UTC) + timedelta(days=30)
    )
    counts = summarize(found)
    assert counts.get("overdue", 0) > 0
    assert counts.get("stuck", 0) > 0
    assert all(f.detail.get("due_at") for f in found if f.kind == "overdue")


def test_a_decision_for_a_skipped_dossier_is_quarantined_not_attached(standins, res):
    from lienthong.pipeline.routing import Route
    from lienthong.store.schema import Quarantine

    standins.advance(10 * HOUR)
    run_intake(res)
    with res.session() as session:
        skipped = session.scalar(
            select(DossierLink).where(
                DossierLink.state == "skipped", DossierLink.portal_status == 4
            )
        )
    assert skipped is not None
    raw = standins.portal_store.get(skipped.dossier_id)
    d = to_dossier(raw)
    a_route = next(
        r
        for r in (
            route_for(res.routing, code, agency)
            for code, p in res.routing.procedures.items()
            if p.result_kind.value == "decision"
            for agency in p.units
        )
        if r is not None
    )
    res.ioffice.push(d, Route(a_route.procedure, a_route.unit), datetime.now(UTC))
    standins.advance(3 * 24 * HOUR)
    results.process_packages(res, CTX)
    results.process_packages(res, CTX)
    with res.session() as session:
        q = session.scalar(
            select(Quarantine).where(Quarantine.dossier_code == skipped.dossier_code)
        )
        state = session.scalar(select(DossierLink.state).where(DossierLink.id == skipped.id))
    portal = standins.portal_store.get(skipped.dossier_id)
    assert q is not None  # seeded: this document is issued
    assert q.reason_code == "not_routed" and state == "skipped"
    assert not portal.get("attachment")
