"""The portal's clock (its HTTP ``Date``, "now" for due dates) moves by a bounded rule (issue 22):
a Date far ahead of the local clock is a broken server clock and is not taken, and a value once
wrong does not stay pinned: the next sane Date replaces it, backwards too."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest

from lienthong.pipeline.intake import PORTAL_CLOCK
from lienthong.reconcile.watchlists import portal_now
from lienthong.store import ledger
from tests.conftest import on_store

from .test_flow import CTX, HOUR, run_intake

pytestmark = [pytest.mark.scenario("burst-60"), on_store("sqlite")]
FAR_FUTURE = datetime(2100, 1, 1, tzinfo=UTC)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def clock(res) -> datetime:
    with res.session() as session:
        value = portal_now(session)
    assert value is not None
    return _aware(value)


def near(a: datetime, b: datetime) -> bool:
    return abs(a - b) < timedelta(minutes=1)


def test_a_far_future_date_does_not_pin_the_portal_clock(standins, res, caplog):
    standins.advance(10 * HOUR)
    run_intake(res)
    first = clock(res)
    assert near(first, standins.clock.now())

    standins.behaviour("portal", bogus_date=True)  # the portal's Date says 2100-01-01
    standins.advance(HOUR)
    with caplog.at_level(logging.WARNING):
        run_intake(res)
    assert clock(res) == first, "a Date far ahead of the local clock was taken"
    assert res.portal.server_time is not None and res.portal.server_time < FAR_FUTURE
    assert any("ahead of the local clock" in r.getMessage() for r in caplog.records)

    standins.behaviour("portal", bogus_date=False)
    run_intake(res)  # the next sane Date is taken
    assert near(clock(res), standins.clock.now()) and clock(res) > first


def test_a_clock_left_in_the_future_moves_back_to_the_next_sane_date(standins, res):
    with res.session() as session:  # as a bogus Date taken before the rule left it
        ledger.set_cursor(session, CTX, PORTAL_CLOCK, FAR_FUTURE, "")
    standins.advance(10 * HOUR)
    run_intake(res)
    assert near(clock(res), standins.clock.now())
