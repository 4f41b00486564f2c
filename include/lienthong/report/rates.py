"""Rates as the reports print them: one rounding rule for every figure (half-up, as officials
round)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pandas as pd


def percent(part: int | float, whole: int | float | None, digits: int = 1) -> float | None:
    """part/whole in percent, rounded half-up to ``digits``; None when the whole is unknown or
    zero."""
    if whole is None or whole == 0 or pd.isna(whole):
        return None
    value = Decimal(str(part)) * 100 / Decimal(str(whole))
    return float(value.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP))
