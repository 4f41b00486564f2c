"""Administrative units that change over time: validity dates and succession (pure).

Since 1 July 2025 Vietnam's local government has two tiers: districts were abolished and communes
merged, with new unit codes; provincial departments took over districts' offices. A dossier keeps
the unit it was received under; a unit that no longer exists is followed through its successors
(``successors``: the unit or units that took over from it, from the day after its ``valid_to``) to
the units of a given day, so a 2022 dossier of a merged commune is reported, and routed, under the
commune of today. A unit split between several successors maps to its first one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum


class UnitKind(StrEnum):
    PROVINCE = "province"
    DEPARTMENT = "department"  # a provincial department (sở, ban, ngành)
    DISTRICT = "district"  # abolished on 1 July 2025
    DISTRICT_OFFICE = "district_office"  # a district's office (phòng), until then
    COMMUNE = "commune"  # xã, phường, đặc khu
    OTHER = "other"


@dataclass(frozen=True)
class Unit:
    code: str
    name: str
    kind: UnitKind = UnitKind.OTHER
    parent: str | None = None
    valid_from: date | None = None  # None: since before anything the link reads
    valid_to: date | None = None  # the last day it existed; None: it still does
    successors: tuple[str, ...] = ()

    def valid_on(self, day: date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_to is None or day <= self.valid_to
        )


@dataclass(frozen=True)
class UnitRegistry:
    """Every unit a deployment knows, past and present, by code."""

    units: dict[str, Unit] = field(default_factory=dict)

    @classmethod
    def of(cls, units: Iterable[Unit]) -> UnitRegistry:
        return cls({u.code: u for u in units})

    def get(self, code: str) -> Unit | None:
        return self.units.get(code)

    def successors_on(self, code: str, day: date) -> tuple[str, ...]:
        """The units valid on ``day`` that took over from ``code``, through every succession in
        between (in order, without repeats); ``code`` itself when it is valid then or unknown."""
        unit = self.units.get(code)
        if unit is None or unit.valid_on(day):
            return (code,)
        found: list[str] = []
        seen = {code}
        queue = list(unit.successors)
        while queue:
            current = queue.pop(0)
            if current in seen:
                continue
            seen.add(current)
            successor = self.units.get(current)
            if successor is None or successor.valid_on(day):
                found.append(current)
            else:
                queue.extend(successor.successors)
        return tuple(found)

    def today_unit(self, code: str, day: date) -> str:
        """The one unit ``code``'s dossiers count under on ``day`` (the first successor)."""
        successors = self.successors_on(code, day)
        return successors[0] if successors else code

    def name_of(self, code: str, default: str = "") -> str:
        unit = self.units.get(code)
        return unit.name if unit else default

    def ancestors(self, code: str) -> list[str]:
        """The parent chain (department or commune -> province), nearest first."""
        out: list[str] = []
        unit = self.units.get(code)
        while unit is not None and unit.parent and unit.parent not in out:
            out.append(unit.parent)
            unit = self.units.get(unit.parent)
        return out
