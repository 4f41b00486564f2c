"""What one linked dossier saves: the one home of the article's figures (0.5 h at 32,000 VND/h).

Deployments change them through the Variables ``lienthong_minutes_saved_per_dossier`` and
``lienthong_cost_per_hour_vnd``; a procedure's routing may override the minutes.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SavingsSettings:
    minutes_per_dossier: int = 30
    cost_per_hour_vnd: int = 32_000

    @property
    def hours_per_dossier(self) -> float:
        return self.minutes_per_dossier / 60


DEFAULT_SAVINGS = SavingsSettings()
