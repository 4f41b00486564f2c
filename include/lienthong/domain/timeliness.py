"""On-time rules of the national reports, and the savings arithmetic (pure)."""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

VN_TZ = ZoneInfo(
    "Asia/Ho_Chi_Minh"
)  # dates on dossiers, decisions and reports are Vietnamese dates


def timeliness(finished: datetime | None, due: datetime | None) -> str | None:
    """early / on_time / late by date of NgayKetThucXuLy against date of NgayHenTra.

    Late when the finishing date is after the due date; early when before; on time on the day.
    None when the dossier is not finished or has no due date.
    """
    if finished is None or due is None:
        return None
    f, d = finished.date(), due.date()
    if f > d:
        return "late"
    return "early" if f < d else "on_time"


def cost_saved_vnd(minutes_saved: int, cost_per_hour_vnd: int) -> int:
    """Money saved for one dossier, rounded half-up to whole dong."""
    value = Decimal(minutes_saved) * Decimal(cost_per_hour_vnd) / Decimal(60)
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))
