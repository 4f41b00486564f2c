"""Generate the demo's routing configuration (``demo_routing.yaml``) from the stand-in district's
catalogue, so the committed sample and the stand-ins cannot drift apart. The product ships no
routing: a deployment writes its own into the Variable ``lienthong_routing``.

Run ``python -m lienthong_standins.routing`` to rewrite the file after changing the catalogue.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

from lienthong.pipeline.routing import RoutingConfig, parse_routing
from lienthong_standins.district import (
    AGENCY_BY_CODE,
    DISTRICT,
    DOCUMENT_TYPES,
    PROCEDURES,
    handler_for,
    signer_for,
)

ROUTING_PATH = Path(__file__).with_name("demo_routing.yaml")

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


def routing_config() -> dict[str, Any]:
    """The routing configuration as plain data (what routing.yaml holds)."""
    procedures: dict[str, Any] = {}
    for p in PROCEDURES:
        entry: dict[str, Any] = {"name": p.name, "result_kind": p.result_kind}
        if p.result_kind == "decision":
            assert p.document_type is not None
            entry["document_type"] = {
                "code": p.document_type,
                "name": DOCUMENT_TYPES[p.document_type],
            }
            units: dict[str, Any] = {}
            for code in p.offered_by:
                agency = AGENCY_BY_CODE[code]
                units[code] = {
                    "ioffice_unit": {"code": agency.code, "name": agency.name},
                    "handler": handler_for(p, agency).as_dict(),
                    "signer": signer_for(p, agency).as_dict(),
                }
            entry["units"] = units
        procedures[p.code] = entry
    return {
        "district": {"code": DISTRICT.code, "name": DISTRICT.name},
        "procedures": procedures,
        "agencies": {
            DISTRICT.code: DISTRICT.name,
            **{a.code: a.name for a in AGENCY_BY_CODE.values()},
        },
    }


@cache
def demo_routing() -> RoutingConfig:
    """The demo district's routing, as the pipeline reads it (tests, harness, devstack)."""
    return parse_routing(ROUTING_PATH.read_text(encoding="utf-8"))


def render() -> str:
    return HEADER + yaml.safe_dump(routing_config(), allow_unicode=True, sort_keys=False, width=120)


def main() -> None:
    ROUTING_PATH.parent.mkdir(parents=True, exist_ok=True)
    ROUTING_PATH.write_text(render(), encoding="utf-8")
    print(f"wrote {ROUTING_PATH}")


if __name__ == "__main__":
    main()
