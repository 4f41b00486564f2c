"""Routing configuration: which procedures go to iOffice, to which unit, handler and signer.

Kept as configuration, never as code: the Airflow Variable ``lienthong_routing`` holds the YAML.
The product ships none (the demo's sample is generated from the stand-in district), so a
deployment that forgot it stops with an error naming the Variable instead of routing a
fictional district's procedures.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import NamedTuple

import yaml
from pydantic import BaseModel, ConfigDict, Field

from lienthong.domain.dossier_checks import NATIONAL_CODE_PATTERN
from lienthong.domain.timeliness import VN_TZ
from lienthong.domain.units import Unit as HistoricUnit
from lienthong.domain.units import UnitKind, UnitRegistry
from lienthong.domain.vocabulary import ResultKind

ROUTING_VARIABLE = "lienthong_routing"


class Person(BaseModel):
    name: str
    account: str  # the iOffice account (NguoiKy.TaiKhoan)
    title: str = ""
    # What the person's signing certificate carries in its UID attribute, when it is not the iOffice
    # account (real certificates often hold "CMND:…"/"CCCD:…" there); None = the account.
    certificate_uid: str | None = None


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


class UnitEntry(BaseModel):
    """A unit past or present (``units`` of the routing): code, name, kind, parent, validity and
    succession. Only needed where units changed; see ``domain/units.py``."""

    model_config = ConfigDict(extra="forbid")
    code: str
    name: str
    kind: UnitKind = UnitKind.OTHER
    parent: str | None = None
    valid_from: date | None = None
    valid_to: date | None = None  # the last day the unit existed
    successors: list[str] = Field(default_factory=list)
    # Where the unit's documents live in iOffice: the parent unit its packages are listed under
    # (maDonViCha; default: the Connection's ``parent_unit``) and, for a unit on another iOffice,
    # that iOffice's Connection (default: lienthong_ioffice).
    ioffice_parent_unit: str | None = None
    ioffice_conn_id: str | None = None

    def as_unit(self) -> HistoricUnit:
        return HistoricUnit(
            self.code,
            self.name,
            self.kind,
            self.parent,
            self.valid_from,
            self.valid_to,
            tuple(self.successors),
        )


class RoutingConfig(BaseModel):
    model_config = ConfigDict(extra="ignore")
    district: Unit
    procedures: dict[str, ProcedureRoute]
    # The district's portal agencies (code -> name); a dossier of another agency is quarantined.
    # Empty = no check (a deployment that has not listed them yet).
    agencies: dict[str, str] = Field(default_factory=dict)
    # Dossier codes outside this pattern are quarantined (default: the national format).
    dossier_code_pattern: str = NATIONAL_CODE_PATTERN

    # Units past and present, with their succession (the 1 July 2025 reorganisation); empty = none.
    units: list[UnitEntry] = Field(default_factory=list)

    @property
    def known_procedures(self) -> frozenset[str]:
        return frozenset(self.procedures)

    @property
    def registry(self) -> UnitRegistry:
        return UnitRegistry.of(u.as_unit() for u in self.units)

    def ioffice_target(self, unit_code: str) -> IOfficeTarget:
        """Which iOffice (Connection) and parent unit an iOffice unit's documents live under."""
        entry = next((u for u in self.units if u.code == unit_code), None)
        if entry is None:
            return IOfficeTarget()
        return IOfficeTarget(entry.ioffice_conn_id, entry.ioffice_parent_unit)

    @property
    def ioffice_targets(self) -> list[IOfficeTarget]:
        """Every distinct iOffice and parent unit a unit past or present lives under, and always
        the default one, in a stable order: what the result polling lists. Units no longer routed
        count too: decisions sent to them before a reorganisation still come back."""
        found = {IOfficeTarget()} | {
            IOfficeTarget(u.ioffice_conn_id, u.ioffice_parent_unit) for u in self.units
        }
        return sorted(found, key=lambda t: (t.conn_id or "", t.parent or ""))

    @property
    def ioffice_conn_ids(self) -> frozenset[str]:
        """The Connections of units on an iOffice other than the default one."""
        return frozenset(u.ioffice_conn_id for u in self.units if u.ioffice_conn_id)

    @property
    def known_agencies(self) -> frozenset[str]:
        """The agencies whose dossiers the link takes: those listed, and every unit past or present
        (a dossier received by a unit since merged is still this deployment's); empty = no check."""
        if not self.agencies:
            return frozenset()
        return frozenset(self.agencies) | {u.code for u in self.units}


class IOfficeTarget(NamedTuple):
    """An iOffice Connection (None: the default) and parent unit (None: the Connection's)."""

    conn_id: str | None = None
    parent: str | None = None


@dataclass(frozen=True)
class Route:
    procedure: ProcedureRoute
    unit: UnitRoute


class NoRoute(LookupError):
    """A decision procedure offered by an agency the configuration has no iOffice unit for."""


class RoutingNotConfigured(LookupError):
    """The Variable is missing, empty or not a valid routing: nothing can be routed safely."""


def parse_routing(text: str) -> RoutingConfig:
    return RoutingConfig.model_validate(yaml.safe_load(text))


def routing_from_variable(text: str | None) -> RoutingConfig:
    """The routing a task uses; an absent or unreadable Variable is an error that names it."""
    if not (text or "").strip():
        raise RoutingNotConfigured(
            f"Airflow Variable {ROUTING_VARIABLE!r} is not set: it must hold the routing YAML "
            "(procedures, iOffice units, handlers, signers); see README, Runbook"
        )
    try:
        return parse_routing(text or "")
    except (yaml.YAMLError, ValueError) as exc:
        raise RoutingNotConfigured(
            f"Airflow Variable {ROUTING_VARIABLE!r} is not a valid routing: {exc}"
        ) from exc


def route_for(
    cfg: RoutingConfig, procedure_code: str, agency_code: str, on: date | None = None
) -> Route | None:
    """None when the procedure's result is signed on the papers (portal only). An agency with no
    route of its own that no longer exists on ``on`` (default: today) is routed through its
    successors of that day: a dossier received by a merged commune goes to today's commune."""
    proc = cfg.procedures[procedure_code]
    if proc.result_kind != ResultKind.DECISION:
        return None
    unit = proc.units.get(agency_code)
    if unit is None and cfg.units:
        day = on or datetime.now(VN_TZ).date()
        successors = cfg.registry.successors_on(agency_code, day)
        unit = next((proc.units[c] for c in successors if c in proc.units), None)
    if unit is None:
        raise NoRoute(f"procedure {procedure_code} has no iOffice unit for agency {agency_code}")
    return Route(procedure=proc, unit=unit)
