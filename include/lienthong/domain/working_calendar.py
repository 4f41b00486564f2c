"""Working days as Vietnamese law counts them: weekends, public holidays and Tết excluded.

Deadlines of administrative procedures are set in working days (ngày làm việc). The public holidays
and the government's yearly swaps (a weekday off, a Saturday worked in exchange) come from the
``holidays`` package's Vietnam calendar; what a province or the government announces on top of
it, too late for a library release, comes from configuration: extra days off and make-up days
(weekend days that are worked). Pure: no I/O beyond the library's tables.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import cache

import holidays

from lienthong.domain.timeliness import VN_TZ

DEFAULT_NEAR_DUE_WORKING_DAYS = 2  # alert this many working days before a due date
MAX_SCAN_DAYS = 3660  # ten years: no count of working days in a deadline reaches this far


@cache
def _vietnam(year: int) -> holidays.HolidayBase:
    return holidays.Vietnam(years=year, language="vi")


def public_holiday(day: date) -> str | None:
    """The holiday's Vietnamese name, or None on an ordinary day."""
    return _vietnam(day.year).get(day)


@dataclass(frozen=True)
class WorkingCalendar:
    """Vietnam's working days, with the configured extra days off and make-up days."""

    extra_days_off: frozenset[date] = field(default_factory=frozenset)
    make_up_days: frozenset[date] = field(default_factory=frozenset)

    def is_working_day(self, day: date) -> bool:
        if day in self.extra_days_off:
            return False
        if day in self.make_up_days or day in _vietnam(day.year).weekend_workdays:
            return True
        return day.weekday() < 5 and day not in _vietnam(day.year)

    def add_working_days(self, start: date, days: int) -> date:
        """The ``days``-th working day after ``start`` (``start`` itself when ``days`` is 0)."""
        day, left = start, days
        for _ in range(MAX_SCAN_DAYS):
            if left <= 0:
                return day
            day += timedelta(days=1)
            left -= self.is_working_day(day)
        raise ValueError(f"{days} working days after {start} is past the calendar's reach")

    def working_days_between(self, start: date, end: date) -> int:
        """Working days after ``start`` up to and including ``end``; negative when ``end`` is
        earlier. A dossier due on ``start`` and finished on ``end`` is this many working days late
        (0: finished on a day off after the due date, before the next working day)."""
        if end < start:
            return -self.working_days_between(end, start)
        if (end - start).days > MAX_SCAN_DAYS:
            raise ValueError(f"{start}..{end} is past the calendar's reach")
        return sum(
            self.is_working_day(start + timedelta(days=i)) for i in range(1, (end - start).days + 1)
        )


def local_day(at: datetime) -> date:
    """The Vietnamese date of an instant (naive instants are UTC, as the store keeps them)."""
    return (at if at.tzinfo else at.replace(tzinfo=UTC)).astimezone(VN_TZ).date()


VIETNAM = WorkingCalendar()  # the law's calendar with nothing announced on top
