"""The reorganisation of 1 July 2025 end to end (scenario ``reorg-2025``).

Until 30 June the district's offices and communes receive dossiers and the link runs on the
district's routing; it is down from 26 June to 1 July, when the province's routing (today's units,
the district's kept as history) replaces it. Dossiers received before the boundary and read after
it are routed through their unit's successor; decisions sent to the district's leaders in June and
signed in July are checked against the signer they were sent to; the report reads both as received
and under today's units; the national portal gets the new units' codes.
"""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest
from sqlalchemy import select

from lienthong.dashboard.data import Period, overview
from lienthong.domain.states import LinkState
from lienthong.domain.timeliness import VN_TZ
from lienthong.store.district_totals import load_district_totals, parse_totals_csv
from lienthong.store.schema import DossierLink, Quarantine
from lienthong_devstack.reorganisation import (
    BACK_ON,
    DOWN_FROM,
    TODAY,
    report_of,
    run_reorganisation,
)
from lienthong_standins.district import PROVINCE_CODES, SUCCESSOR
from lienthong_standins.routing import province_routing
from tests.conftest import on_store

from .test_national_sync import national_records


@pytest.mark.scenario("reorg-2025")
@on_store("sqlite")
def test_dossiers_across_the_reorganisation(standins, nres):
    run_reorganisation(standins, nres)

    with nres.session() as session:
        links = list(session.scalars(select(DossierLink)))
        open_quarantine = session.scalars(
            select(Quarantine).where(Quarantine.status == "open")
        ).all()
    assert len(links) == 400
    assert [q.reason_code for q in open_quarantine] == []

    received = {link.dossier_code: link.received_at.astimezone(VN_TZ).date() for link in links}
    decisions = [link for link in links if link.result_kind == "decision"]
    old_units = [link for link in links if link.agency_code not in PROVINCE_CODES]
    assert old_units and all(received[x.dossier_code] < BACK_ON for x in old_units)
    assert all(
        received[x.dossier_code] >= BACK_ON for x in links if x.agency_code in PROVINCE_CODES
    )

    # Sent in June to the district's units, decided in July: attached, verified against the
    # district's leader the draft went to.
    in_flight = [
        x
        for x in decisions
        if x.routed_unit == x.agency_code
        and x.agency_code not in PROVINCE_CODES
        and x.attached_at is not None
        and x.attached_at.astimezone(VN_TZ).date() >= BACK_ON
    ]
    assert in_flight, "no decision crossed the boundary in flight"
    # Received by a unit that was gone when the link read it: routed through its successor.
    through_successor = [
        x
        for x in decisions
        if x.agency_code not in PROVINCE_CODES and x.routed_unit != x.agency_code
    ]
    assert through_successor
    assert all(x.routed_unit == SUCCESSOR[x.agency_code] for x in through_successor)
    assert all(
        DOWN_FROM <= received[x.dossier_code] < BACK_ON or x.transferred_at is not None
        for x in through_successor
    )
    # Every decision ended with its signed result on the portal, or sent back by its leader.
    states = Counter(x.state for x in decisions)
    assert set(states) <= {LinkState.ATTACHED, LinkState.RETURNED, LinkState.REJECTED}, states
    assert states[LinkState.RETURNED] + states[LinkState.ATTACHED] > 0.9 * len(decisions)

    # The report, as received and under today's units, over the units' own totals.
    assert load_district_totals(nres.engine, standins.data_dir / "unit_totals.csv") > 20
    loaded = parse_totals_csv(standins.data_dir / "unit_totals.csv")
    report = report_of(nres)
    as_received = report.by_agency.set_index("agency_code")
    today = report.by_agency_today.set_index("agency_code")
    assert set(as_received.index) - PROVINCE_CODES, "no old unit in the as-received view"
    assert set(today.index) <= PROVINCE_CODES
    assert as_received["dossiers_processed"].sum() == today["dossiers_processed"].sum() == 400
    for old in set(as_received.index) - PROVINCE_CODES:
        assert SUCCESSOR[old] in today.index
    unit_total = Counter()
    for unit, _, total in loaded:
        unit_total[unit] += total
    assert report.headline["district_total"] == sum(unit_total.values())
    for code, row in as_received.iterrows():
        assert row["district_total"] == unit_total[code]
    merged = Counter()
    for code, total in unit_total.items():
        merged[SUCCESSOR.get(code, code)] += total
    for code, row in today.iterrows():
        assert row["district_total"] == merged[code]
        assert row["portal_share_pct"] == pytest.approx(
            100 * row["dossiers_processed"] / merged[code], abs=0.05
        )

    # By parent unit: the district's offices and communes as received, the province's today.
    parents = report.by_parent.set_index("parent_name")["dossiers_processed"]
    parents_today = report.by_parent_today.set_index("parent_name")["dossiers_processed"]
    assert {
        "UBND huyện Hữu Lũng – phòng, ban cấp huyện",
        "UBND huyện Hữu Lũng – xã, phường, thị trấn, đặc khu",
    } <= set(parents.index)
    assert set(parents_today.index) <= {
        "UBND tỉnh Lạng Sơn – sở, ban, ngành",
        "UBND tỉnh Lạng Sơn – xã, phường, thị trấn, đặc khu",
    }
    assert parents.sum() == parents_today.sum() == 400
    # One merged commune: its own dossiers and those of the communes merged into it, both views.
    commune = "000.40.01.H36"
    merged_into = {commune} | {o for o, n in SUCCESSOR.items() if n == commune}
    one = report_of(nres, unit=commune)
    expected = sum(1 for x in links if x.agency_code in merged_into)
    assert one.headline["dossiers_processed"] == expected > 0
    assert set(one.by_agency["agency_code"]) <= merged_into
    assert list(one.by_agency_today["agency_code"]) == [commune]
    assert one.headline["district_total"] == merged[commune]

    # The dashboard's figures for that commune, under today's units: the same.
    view = overview(
        nres.engine,
        Period(date(2025, 6, 1), date(2025, 7, 31)),
        units=province_routing().registry,
        unit=commune,
        view="today",
        today=TODAY,
    )
    assert [u["agency_code"] for u in view.units] == [commune]
    assert view.headline["dossiers_processed"] == expected
    assert [p["parent_name"] for p in view.parents] == [
        "UBND tỉnh Lạng Sơn – xã, phường, thị trấn, đặc khu"
    ]
    assert view.national["dossiers_synced"] == expected

    # The national portal has every dossier, each under the unit that received it.
    national = national_records(standins)
    assert set(national) == {x.dossier_code for x in links}
    assert all(national[x.dossier_code]["HoSo"]["DonViXuLy"] == x.agency_code for x in links)
    new_codes = {x.agency_code for x in links if x.agency_code in PROVINCE_CODES}
    assert len(new_codes) >= 10
