"""Units that change over time (the 1 July 2025 reorganisation): succession to the units of a day,
routing of a dossier received by a unit that no longer exists, and the report's agencies as
received or under today's units."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from lienthong.domain.units import Unit, UnitKind, UnitRegistry
from lienthong.pipeline.routing import NoRoute, UnitEntry, route_for
from lienthong.report.figures import Inputs, Period, grouped, under_units
from lienthong_standins.routing import demo_routing

BEFORE, AFTER = date(2025, 6, 30), date(2025, 7, 1)
# Two communes merged into a new one; the district abolished, its finance office taken over by a
# provincial department; that department later renamed (a second succession).
UNITS = [
    Unit("000.00.30.H36", "UBND huyện Hữu Lũng", UnitKind.DISTRICT, None, None, BEFORE),
    Unit(
        "000.30.22.H36",
        "UBND xã Minh Sơn",
        UnitKind.COMMUNE,
        "000.00.30.H36",
        None,
        BEFORE,
        ("000.70.01.H36",),
    ),
    Unit(
        "000.30.23.H36",
        "UBND xã Hồ Sơn",
        UnitKind.COMMUNE,
        "000.00.30.H36",
        None,
        BEFORE,
        ("000.70.01.H36",),
    ),
    Unit("000.70.01.H36", "UBND xã Hữu Lũng", UnitKind.COMMUNE, "000.00.00.H36", AFTER),
    Unit(
        "000.30.07.H36",
        "Phòng Tài chính - Kế hoạch",
        UnitKind.DISTRICT_OFFICE,
        "000.00.30.H36",
        None,
        BEFORE,
        ("000.10.07.H36",),
    ),
    Unit(
        "000.10.07.H36",
        "Sở Tài chính (cũ)",
        UnitKind.DEPARTMENT,
        "000.00.00.H36",
        AFTER,
        date(2026, 3, 31),
        ("000.10.17.H36",),
    ),
    Unit("000.10.17.H36", "Sở Tài chính", UnitKind.DEPARTMENT, "000.00.00.H36", date(2026, 4, 1)),
]
REGISTRY = UnitRegistry.of(UNITS)


def test_succession_to_the_units_of_a_day():
    assert REGISTRY.successors_on("000.30.22.H36", BEFORE) == ("000.30.22.H36",)  # still existed
    assert REGISTRY.successors_on("000.30.22.H36", AFTER) == ("000.70.01.H36",)
    assert REGISTRY.today_unit("000.30.07.H36", date(2025, 12, 1)) == "000.10.07.H36"
    assert REGISTRY.today_unit("000.30.07.H36", date(2026, 12, 5)) == "000.10.17.H36"  # twice
    assert REGISTRY.today_unit("999.99.99.H36", AFTER) == "999.99.99.H36"  # unknown: itself
    assert REGISTRY.ancestors("000.70.01.H36") == ["000.00.00.H36"]


def test_a_dossier_of_an_abolished_unit_is_routed_through_its_successor():
    routing = demo_routing().model_copy(deep=True)
    routing.units = [UnitEntry(**{**u.__dict__, "successors": list(u.successors)}) for u in UNITS]
    procedure = next(code for code, p in routing.procedures.items() if "000.30.07.H36" in p.units)
    today_route = routing.procedures[procedure].units.pop("000.30.07.H36")
    routing.procedures[procedure].units["000.10.17.H36"] = today_route
    # Received in 2022 by the district's finance office, decided today by the department.
    assert route_for(routing, procedure, "000.30.07.H36", on=date(2026, 12, 5)).unit == today_route
    with pytest.raises(NoRoute):  # before the reorganisation the office existed, without a route
        route_for(routing, procedure, "000.30.07.H36", on=BEFORE)
    assert "000.30.07.H36" in routing.known_agencies or not routing.agencies


def _link(agency: str, name: str) -> dict:
    at = datetime(2022, 12, 1, 3, tzinfo=UTC)
    return {
        "dossier_code": f"{agency}-221201-0001",
        "agency_code": agency,
        "agency_name": name,
        "procedure_code": "1.000001",
        "procedure_name": "Thủ tục",
        "result_kind": "decision",
        "state": "attached",
        "portal_status": 9,
        "received_at": at,
        "due_at": at,
        "issued_at": at,
        "attached_at": at,
        "finished_at": at,
        "ever_rejected": False,
        "extended": False,
    }


def test_the_report_as_received_and_under_todays_units():
    inputs = Inputs(
        Period(date(2022, 12, 1), date(2022, 12, 31)),
        [_link("000.30.22.H36", "UBND xã Minh Sơn"), _link("000.30.23.H36", "UBND xã Hồ Sơn")],
        [],
        [],
        {},
    )
    received = grouped(inputs, "agency").set_index("agency_code")["dossiers_processed"].to_dict()
    assert received == {"000.30.22.H36": 1, "000.30.23.H36": 1}
    today = grouped(under_units(inputs, REGISTRY, date(2026, 12, 5)), "agency")
    assert today[["agency_code", "agency_name", "dossiers_processed"]].values.tolist() == [
        ["000.70.01.H36", "UBND xã Hữu Lũng", 2]
    ]
