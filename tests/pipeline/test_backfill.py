"""Backfill makes a window with missed dossiers whole (and a second run changes nothing); a decision
iOffice issues for a dossier the link skipped (pushed there by hand) is quarantined, never
attached."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from lienthong.clients.portal_shapes import to_dossier
from lienthong.pipeline import backfill, results
from lienthong.pipeline.routing import Route, route_for
from lienthong.store import ledger as store
from lienthong.store.schema import DossierLink, Quarantine
from lienthong_standins.portal.store import SearchFilters

from .invariants import check
from .test_flow import CTX, HOUR, run_intake

pytestmark = pytest.mark.scenario(
    "burst-150"
)  # each window needs some dossiers, not the demo's 300

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
    every = standins.portal_store.search(SearchFilters(), 0, 1000, False)[0]
    agency = every[0]["agency"]["code"]
    expected = {d["code"] for d in every if d["agency"]["code"] == agency}
    backfill.backfill(res, CTX, backfill.backfill_window(DAY, DAY, agencies=(agency,)))
    with res.session() as session:
        assert set(session.scalars(select(DossierLink.dossier_code))) == expected
    codes = tuple(d["code"] for d in every if d["agency"]["code"] != agency)[:3]
    backfill.backfill(res, CTX, backfill.backfill_window(DAY, DAY, codes=codes))
    assert count_links(res) == len(expected) + 3


def test_a_decision_for_a_skipped_dossier_is_quarantined_not_attached(standins, res):
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
