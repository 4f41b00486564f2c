"""Which agencies sync to the national portal, and when a sync counts as late: Variable
``lienthong_national_sync`` (JSON), validated here. Not set: every agency, late after 30 minutes."""

from __future__ import annotations

import json
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field, ValidationError

NATIONAL_SYNC_VARIABLE = "lienthong_national_sync"
DEFAULT_LATE_MINUTES = 30


class _ConfigShape(BaseModel):
    model_config = ConfigDict(extra="forbid")
    agencies: list[str] | None = Field(
        None, description="agency codes that sync; omitted or null = all"
    )
    late_after_minutes: int = Field(DEFAULT_LATE_MINUTES, ge=1, le=7 * 24 * 60)


@dataclass(frozen=True)
class NationalSyncConfig:
    agencies: frozenset[str] | None = None  # None: every agency
    late_after_minutes: int = DEFAULT_LATE_MINUTES

    def syncs(self, agency_code: str) -> bool:
        return self.agencies is None or agency_code in self.agencies


class InvalidNationalConfig(ValueError):
    pass


def config_from_variable(value: str | None) -> NationalSyncConfig:
    """The Variable's settings; a malformed value raises (a guessed scope would sync the wrong
    agencies)."""
    if value in (None, ""):
        return NationalSyncConfig()
    try:
        shape = _ConfigShape.model_validate(json.loads(value))
    except (ValueError, ValidationError) as exc:
        raise InvalidNationalConfig(
            f"Variable {NATIONAL_SYNC_VARIABLE} is not valid: {exc}"
        ) from None
    return NationalSyncConfig(
        agencies=frozenset(shape.agencies) if shape.agencies is not None else None,
        late_after_minutes=shape.late_after_minutes,
    )
