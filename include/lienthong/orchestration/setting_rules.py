"""The allowed range of each whole-number setting operators give the link: DAG params and
Variables.

One home for each rule: the DAG params' JSON schema is built from it (:func:`schema`, so the
trigger form refuses a bad value), and the task that reads the value checks it again (a run
triggered through the API, or a Variable, is not checked by any form). A value outside its range
stops the run with an error naming the setting, its value and the range: running on it could
do harm that shows only later (a negative overlap skips dossiers for good; a concurrency of 0
fails deep inside the first batch; a cost with a zero too many inflates every report).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class InvalidSetting(ValueError):
    """A setting's value is not a whole number within its range; the message names the setting."""


@dataclass(frozen=True)
class IntRange:
    """A whole-number setting and its inclusive bounds. ``name`` is how an operator finds it:
    ``DAG param overlap_minutes``, ``Variable lienthong_concurrency``."""

    name: str
    minimum: int
    maximum: int

    def parse(self, raw: Any, default: int | None = None) -> int:
        """``raw`` (a param's value, a Variable's text) as an int within the range; ``None`` or an
        empty text is ``default`` when one is given. Anything else is :class:`InvalidSetting`."""
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            if default is None:
                raise InvalidSetting(f"{self.name} is not set ({self._rule()})")
            return default
        value = _whole_number(raw)
        if value is None or not self.minimum <= value <= self.maximum:
            raise InvalidSetting(f"{self.name} is {raw!r}: it must be {self._rule()}")
        return value

    def schema(self) -> dict[str, Any]:
        """The JSON-schema keywords of the rule, for an Airflow ``Param``."""
        return {"type": "integer", "minimum": self.minimum, "maximum": self.maximum}

    def _rule(self) -> str:
        return f"a whole number from {self.minimum} to {self.maximum}"


def _whole_number(raw: Any) -> int | None:
    """``raw`` as an int when it is one exactly (``"30"``, ``30``, ``30.0``); ``True``,
    ``"3.5"`` and ``"abc"`` are not."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float):
        return int(raw) if raw.is_integer() else None
    if isinstance(raw, str):
        try:
            return int(raw.strip())
        except ValueError:
            return None
    return None


# How far back the portal is read again each run, for changes committed late there. Below 0 the
# window would start after the cursor and skip dossiers for good; past a day it only re-reads.
OVERLAP_MINUTES = IntRange("DAG param overlap_minutes", 0, 24 * 60)
