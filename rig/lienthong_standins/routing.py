"""Generate the demo's routing configuration (``demo_routing.yaml``) from the stand-in district's
catalogue, so the committed sample and the stand-ins cannot drift apart. The product ships no
routing: a deployment writes its own into the Variable ``lienthong_routing``.

Run ``python -m lienthong_standins.routing`` to rewrite the file after changing the catalogue.
"""

from __future__ import annotations

from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from lienthong.pipeline.routing import RoutingConfig, parse_routing
from lienthong_standins.district import (
    AGENCIES,
    AGENCY_BY_CODE,
    COMMUNES,
    DEPARTMENTS,
    DISTRICT,
    DOCUMENT_TYPES,
    NEW_COMMUNES,
    OFFICES,
    OLD_LAST_DAY,
    PARENT,
    PROCEDURES,
    PROVINCE,
    PROVINCE_UNITS,
    REORGANISED,
    SUCCESSOR,
    Agency,
    Procedure,
    handler_for,
    offered_by_on,
    signer_for,
)
from lienthong_standins.scenarios import PROVINCE_SCENARIOS

ROUTING_PATH = Path(__file__).with_name("demo_routing.yaml")
PROVINCE_ROUTING_PATH = Path(__file__).with_name("province_routing.yaml")
#: The parent unit the province's iOffice files the communes' documents under (a zero segment
#: covers every ``000.40.xx`` commune).
COMMUNES_PARENT = "000.40.00.H36"

HEADER = """\
# Routing of portal dossiers to iOffice, per procedure (national procedure code).
# GENERATED from lienthong_standins/district.py by `python -m lienthong_standins.routing`;
# a test checks that both agree. The demo loads it into the Variable `lienthong_routing`; a real
# deployment writes its own there (same shape, its own units and accounts).
#   minutes_saved (optional, per procedure) overrides the Variable
#                 lienthong_minutes_saved_per_dossier.
#   result_kind: decision = the result is a decision/certificate issued through iOffice;
#                direct   = the result is signed directly on the filed papers (portal only).
#   units: per portal agency code, the iOffice unit that drafts, the handler who submits
#          for signature (NguoiTrinhKy) and the intended signer (NguoiKy).
#   agencies: the district's portal agencies; a dossier of any other agency is quarantined
#             (unknown_agency). Leave it out to skip that check.
#   dossier_code_pattern (optional): a regular expression dossier codes must match; default the
#             national format <agency id>-<yyMMdd>-<sequence>.
"""


def _unit_routes(p: Procedure, offered_by: tuple[str, ...]) -> dict[str, Any]:
    units: dict[str, Any] = {}
    for code in offered_by:
        agency = AGENCY_BY_CODE[code]
        units[code] = {
            "ioffice_unit": {"code": agency.code, "name": agency.name},
            "handler": handler_for(p, agency).as_dict(),
            "signer": signer_for(p, agency).as_dict(),
        }
    return units


def _procedures(on: date | None) -> dict[str, Any]:
    procedures: dict[str, Any] = {}
    for p in PROCEDURES:
        entry: dict[str, Any] = {"name": p.name, "result_kind": p.result_kind}
        if p.result_kind == "decision":
            assert p.document_type is not None
            entry["document_type"] = {
                "code": p.document_type,
                "name": DOCUMENT_TYPES[p.document_type],
            }
            entry["units"] = _unit_routes(p, p.offered_by if on is None else offered_by_on(p, on))
        procedures[p.code] = entry
    return procedures


def routing_config() -> dict[str, Any]:
    """The demo district's routing (2022) as plain data (what demo_routing.yaml holds)."""
    return {
        "district": {"code": DISTRICT.code, "name": DISTRICT.name},
        "procedures": _procedures(None),
        "agencies": {a.code: a.name for a in (DISTRICT, *AGENCIES)},
    }


def _history(a: Agency, kind: str) -> dict[str, Any]:
    entry: dict[str, Any] = {"code": a.code, "name": a.name, "kind": kind}
    if a.code in PARENT:
        entry["parent"] = PARENT[a.code]
    if a.code in SUCCESSOR:
        entry["valid_to"] = OLD_LAST_DAY
        entry["successors"] = [SUCCESSOR[a.code]]
    elif a.kind == "commune":
        entry["valid_from"] = REORGANISED
    return entry


def _ioffice_parent(a: Agency) -> dict[str, Any]:
    """The province's iOffice lists departments' packages under the province, communes' under the
    communes' parent unit (``maDonViCha``)."""
    return {"ioffice_parent_unit": COMMUNES_PARENT if a.kind == "commune" else PROVINCE.code}


def province_routing_config() -> dict[str, Any]:
    """The province of 2026: today's units routed, the district's units kept as history."""
    units = [
        {**_history(PROVINCE, "province"), "ioffice_parent_unit": PROVINCE.code},
        *({**_history(d, "department"), **_ioffice_parent(d)} for d in DEPARTMENTS),
        *({**_history(c, "commune"), **_ioffice_parent(c)} for c in NEW_COMMUNES),
        _history(DISTRICT, "district"),
        *(_history(o, "district_office") for o in OFFICES),
        *(_history(c, "commune") for c in COMMUNES),
    ]
    return {
        "district": {"code": PROVINCE.code, "name": PROVINCE.name},
        "procedures": _procedures(REORGANISED),
        "agencies": {a.code: a.name for a in (PROVINCE, *PROVINCE_UNITS)},
        "units": units,
    }


@cache
def demo_routing() -> RoutingConfig:
    """The demo district's routing, as the pipeline reads it (tests, harness, devstack)."""
    return parse_routing(ROUTING_PATH.read_text(encoding="utf-8"))


@cache
def province_routing() -> RoutingConfig:
    """The province of 2026's routing, with the district's units as history."""
    return parse_routing(PROVINCE_ROUTING_PATH.read_text(encoding="utf-8"))


def routing_path(scenario: str) -> Path:
    """The routing file a scenario's units need: the province's or the demo district's."""
    return PROVINCE_ROUTING_PATH if scenario in PROVINCE_SCENARIOS else ROUTING_PATH


def routing_for(scenario: str) -> RoutingConfig:
    return province_routing() if scenario in PROVINCE_SCENARIOS else demo_routing()


PROVINCE_HEADER = """\
# The province of 2026 (scenarios reorg-2025 and province-week): today's departments and communes
# are routed; the district of 2022 and its offices and communes are kept under `units`, with the
# day they ended (valid_to) and who took over (successors), so their dossiers are routed and
# reported under today's units. Per unit, `ioffice_parent_unit` is the parent unit the province's
# iOffice lists its documents under (maDonViCha); `ioffice_conn_id` (not used here) would send the
# unit to another iOffice. GENERATED by `python -m lienthong_standins.routing`.
"""


def render(province: bool = False) -> str:
    data = province_routing_config() if province else routing_config()
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=120)
    return (PROVINCE_HEADER if province else HEADER) + text


def main() -> None:
    ROUTING_PATH.write_text(render(), encoding="utf-8")
    PROVINCE_ROUTING_PATH.write_text(render(province=True), encoding="utf-8")
    print(f"wrote {ROUTING_PATH} and {PROVINCE_ROUTING_PATH}")


if __name__ == "__main__":
    main()
