"""The link over the demo day, plain Python against the stand-ins and a real store.

Each step also runs twice in a row: the second run must change nothing remote or local.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from lienthong.pipeline import intake, results
from lienthong.store.ledger import RunContext
from lienthong.store.schema import DossierLink, DossierTimeSavings, LinkEvent

from .invariants import check

CTX = RunContext("test", "flow")
HOUR = 3600


def run_intake(res):
    return intake.pull_and_link(
        res, CTX, intake.scheduled_window(res, timedelta(minutes=10)), advance_cursor=True
    )


def drive(standins, res, days: int = 4) -> None:
    """A working day of arrivals, then enough days for the office to finish (as the DAGs run)."""
    standins.advance(10 * HOUR)
    run_intake(res)
    intake.complete_pending(res, CTX)
    for _ in range(days * 3):
        standins.advance(8 * HOUR)
        results.process_packages(res, CTX)
        run_intake(res)
        intake.complete_pending(res, CTX)


def test_demo_day_links_exactly_once(standins, res):
    drive(standins, res)
    snap = check(standins, res.engine)
    visible = standins.portal_store.stats()
    assert snap.states["skipped"] + snap.states["returned"] > 100
    assert len(snap.attached_codes) > 80
    assert snap.states["transferred"] + snap.states["signed"] + snap.states["rejected"] >= 1
    # Nothing lost: every dossier visible on the portal has its link.
    with res.session() as session:
        assert (
            session.scalar(select(func.count()).select_from(DossierLink))
            == visible["dossiers"]["visible"]
        )
        row = session.scalar(select(DossierTimeSavings).limit(1))
        assert row.minutes_saved == 30 and row.cost_saved_vnd == 16_000
        assert row.timeliness in ("early", "on_time", "late")


@pytest.mark.scenario("burst-60")  # a mechanism, shown on a few dossiers
def test_each_step_twice_changes_nothing(standins, res):
    standins.advance(10 * HOUR)
    first = run_intake(res)
    assert first["transferred"] > 0
    again = run_intake(res)
    assert again.get("transferred", 0) == 0 and again.get("new", 0) == 0
    assert intake.complete_pending(res, CTX) == {}
    standins.advance(24 * HOUR)
    ids = res.ioffice.pending_doc_ids()
    assert ids
    done = results.process_packages(res, CTX, ids)
    assert done.get("attached", 0) > 0
    with res.session() as session:
        events_before = session.scalar(select(func.count()).select_from(LinkEvent))
    twice = results.process_packages(res, CTX, ids)  # the same packages delivered again
    assert twice.get("attached", 0) == 0
    assert set(twice) <= {"packages", "already_done"}
    with res.session() as session:
        assert session.scalar(select(func.count()).select_from(LinkEvent)) == events_before
    check(standins, res.engine)
