"""Office working time (Vietnamese state offices: Mon-Fri 07:30-11:30, 13:30-17:00).

Processing deadlines count working days, and the simulated one-stop desk only works
in office hours, so both generation and the desk need this arithmetic.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from lienthong_standins.clock import VN_TZ

PERIODS: tuple[tuple[time, time], ...] = ((time(7, 30), time(11, 30)), (time(13, 30), time(17, 0)))
#: Public holidays of 2022 on weekdays (observed days off).
HOLIDAYS_2022: frozenset[date] = frozenset(
    [date(2022, 1, 3)]
    + [date(2022, 1, 31) + timedelta(days=i) for i in range(5)]  # Tết Nguyên đán
    + [date(2022, 4, 11), date(2022, 5, 2), date(2022, 5, 3), date(2022, 9, 1), date(2022, 9, 2)]
    + [date(2023, 1, 2)]
)


def is_working_day(d: date) -> bool:
    return d.weekday() < 5 and d not in HOLIDAYS_2022


def working_days(start: date, end: date) -> list[date]:
    """Working days in ``[start, end)``."""
    out, d = [], start
    while d < end:
        if is_working_day(d):
            out.append(d)
        d += timedelta(days=1)
    return out


def add_working_days(start: datetime, days: int) -> datetime:
    """The deadline ``days`` working days after ``start``, at the same time of day."""
    d = start
    remaining = max(days, 0)
    while remaining > 0:
        d += timedelta(days=1)
        if is_working_day(d.date()):
            remaining -= 1
    return d


def add_work_minutes(start: datetime, minutes: float) -> datetime:
    """``start`` moved forward by ``minutes`` of office time (nights, weekends, holidays
    skipped)."""
    cur = start.astimezone(VN_TZ)
    left = timedelta(minutes=max(minutes, 0.0))
    for _ in range(3660):  # bounded: at most ten years of days
        day = cur.date()
        if is_working_day(day):
            for begin, end in PERIODS:
                p_start = datetime.combine(day, begin, VN_TZ)
                p_end = datetime.combine(day, end, VN_TZ)
                if cur >= p_end:
                    continue
                cur = max(cur, p_start)
                room = p_end - cur
                if left <= room:
                    return cur + left
                left -= room
                cur = p_end
        cur = datetime.combine(day + timedelta(days=1), time(0, 0), VN_TZ)
    raise ValueError("work-time span too long")
