"""Why an item cannot be taken: the one shape every quarantine cause has, whatever found it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class Cause(Protocol):
    """A stable reason code, the officials' text (Vietnamese) and the operators' detail."""

    @property
    def reason_code(self) -> str: ...

    @property
    def message_vi(self) -> str: ...

    @property
    def detail(self) -> str: ...


@dataclass(frozen=True)
class Problem:
    """A cause found by a check that returns rather than raises (packages, routing, refusals)."""

    reason_code: str
    message_vi: str
    detail: str
