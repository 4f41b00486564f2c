"""The portal's order among ties is not a guarantee: the scan and the intake cursor lose nothing and
repeat nothing when many dossiers share an ``updatedDate`` and come back in a new order on every
call."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from lienthong.clients.http import TransientHTTPError
from lienthong.clients.portal import PortalClient
from lienthong.pipeline import intake
from lienthong.store.ledger import RunContext
from lienthong.store.schema import DossierLink
from lienthong_standins.portal.store import SearchFilters
from tests.conftest import on_store

CTX = RunContext("test", "ties")
HOUR = 3600


def visible_ids(standins) -> set[str]:
    docs, _ = standins.portal_store.search(SearchFilters(), 0, 1_000_000, descending=False)
    return {d["id"] for d in docs}


def scan(res, page_size: int) -> Counter:
    client = PortalClient(replace(res.portal.settings, page_size=page_size))
    try:
        return Counter(raw["id"] for raw in client.iter_updated(intake.EPOCH))
    finally:
        client.close()


def tie_groups(standins) -> Counter:
    docs, _ = standins.portal_store.search(SearchFilters(), 0, 1_000_000, descending=False)
    return Counter(d["updatedDate"] for d in docs)


@on_store("sqlite")
@pytest.mark.parametrize(
    "tie_ms,page_size", [(600_000, 1), (600_000, 5), (1_800_000, 16), (3_600_000, 7)]
)
def test_one_scan_meets_every_dossier_once(standins, res, tie_ms, page_size):
    standins.advance(10 * HOUR)
    standins.behaviour("portal", tie_ms=tie_ms, shuffle_ties=True)
    groups = tie_groups(standins)
    assert max(groups.values()) > page_size, "the case must put a tie group across a page boundary"
    met = scan(res, page_size)
    expected = visible_ids(standins)
    assert set(met) == expected, f"lost {len(expected - set(met))} of {len(expected)}"
    assert max(met.values()) == 1, "a dossier was met twice in one scan"


@on_store("sqlite")
def test_intake_across_runs_and_an_outage_links_every_dossier_once(standins, res):
    """Scheduled runs with the stored cursor, a batch status change (many dossiers, one timestamp),
    and a catch-up after the portal was out for a day: every visible dossier has exactly one
    link."""
    standins.behaviour("portal", tie_ms=60_000, shuffle_ties=True)
    small = replace(res, portal=PortalClient(replace(res.portal.settings, page_size=4)))
    window = lambda: intake.scheduled_window(small, timedelta(0))  # noqa: E731 - no overlap: the cursor alone
    for _ in range(4):
        standins.advance(2 * HOUR)
        intake.pull_and_link(small, CTX, window(), advance_cursor=True)
    standins.faults("portal", [{"endpoint": "/pa/dossier/search", "kind": "5xx", "rate": 1.0}])
    standins.advance(24 * HOUR)  # the outage: the desk goes on moving dossiers
    with pytest.raises(TransientHTTPError, match="HTTP 503"):
        intake.pull_and_link(small, CTX, window(), advance_cursor=True)
    standins.faults("portal", [])
    intake.pull_and_link(small, CTX, window(), advance_cursor=True)
    intake.pull_and_link(
        small, CTX, window(), advance_cursor=True
    )  # and once more: nothing new, nothing twice
    with small.session() as session:
        links = Counter(session.scalars(select(DossierLink.dossier_id)))
        total = session.scalar(select(func.count()).select_from(DossierLink))
    expected = visible_ids(standins)
    assert set(links) == expected, f"lost {len(expected - set(links))} of {len(expected)}"
    assert total == len(expected) and max(links.values()) == 1
    small.portal.close()
