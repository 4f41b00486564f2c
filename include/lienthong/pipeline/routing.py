"""Routing configuration: which procedures go to iOffice, to which unit, handler and signer.

Kept as configuration (``config/routing.yaml``, or the Airflow Variable
``lienthong_routing`` holding the same YAML), never as code.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field

from lienthong.domain.vocabulary import ResultKind

DEFAULT_ROUTING = Path(__file__).resolve().parent.parent / "config" / "routing.yaml"


class Person(BaseModel):
    name: str
    account: str
    title: str = ""


class Unit(BaseModel):
    code: str
    name: str


class UnitRoute(BaseModel):
    ioffice_unit: Unit
    handler: Person
    signer: Person


class DocumentType(BaseModel):
    code: str
    name: str


class ProcedureRoute(BaseModel):
    model_config = ConfigDict(extra="ignore")
    name: str
    result_kind: ResultKind
    minutes_saved: int | None = Field(None, ge=0)
    document_type: DocumentType | None = None
    units: dict[str, UnitRoute] = Field(default_factory=dict)


class RoutingConfig(BaseModel):
    model_config = ConfigDict(extra="ignore")
    district: Unit
    defaults: dict[str, int] = Field(default_factory=lambda: {"minutes_saved": 30})
    procedures: dict[str, ProcedureRoute]

    def minutes_saved(self, procedure_code: str) -> int:
        proc = self.procedures.get(procedure_code)
        if proc is not None and proc.minutes_saved is not None:
            return proc.minutes_saved
        return int(self.defaults.get("minutes_saved", 30))

    @property
    def known_procedures(self) -> frozenset[str]:
        return frozenset(self.procedures)


@dataclass(frozen=True)
class Route:
    procedure: ProcedureRoute
    unit: UnitRoute


class NoRoute(LookupError):
    """A decision procedure offered by an agency the configuration has no iOffice unit for."""


def parse_routing(text: str) -> RoutingConfig:
    return RoutingConfig.model_validate(yaml.safe_load(text))


@cache
def default_routing() -> RoutingConfig:
    return parse_routing(DEFAULT_ROUTING.read_text(encoding="utf-8"))


def route_for(cfg: RoutingConfig, procedure_code: str, agency_code: str) -> Route | None:
    """None when the procedure's result is signed on the papers (portal only)."""
    proc = cfg.procedures[procedure_code]
    if proc.result_kind != ResultKind.DECISION:
        return None
    unit = proc.units.get(agency_code)
    if unit is None:
        raise NoRoute(f"procedure {procedure_code} has no iOffice unit for agency {agency_code}")
    return Route(procedure=proc, unit=unit)
