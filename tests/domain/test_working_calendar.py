"""Working days as the law counts them: Tết, the 30/4-1/5 break, the government's swaps and what a
province announces on top (extra days off, make-up Saturdays)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from lienthong.domain.working_calendar import VIETNAM, WorkingCalendar, local_day, public_holiday


def test_tet_2023_is_seven_days_off():
    """Tết Quý Mão: Friday 20 to Thursday 26 January 2023 off; work resumes Friday 27."""
    for day in range(20, 27):
        assert not VIETNAM.is_working_day(date(2023, 1, day)), day
    assert VIETNAM.is_working_day(date(2023, 1, 19)) and VIETNAM.is_working_day(date(2023, 1, 27))
    assert public_holiday(date(2023, 1, 22)) == "Tết Nguyên Đán"
    # Due "one working day after Thursday 19 January": Friday 27, not Friday 20.
    assert VIETNAM.add_working_days(date(2023, 1, 19), 1) == date(2023, 1, 27)
    # A dossier due on the 19th and finished on the 27th is one working day late, not six.
    assert VIETNAM.working_days_between(date(2023, 1, 19), date(2023, 1, 27)) == 1


def test_the_30_april_1_may_break_of_2023():
    """29 April (Hùng Kings, a Saturday) to 3 May 2023 off, the Saturday's day given on Tuesday 2
    and the Sunday's on Wednesday 3."""
    assert [VIETNAM.is_working_day(date(2023, 4, d)) for d in (28, 29, 30)] == [True, False, False]
    assert [VIETNAM.is_working_day(date(2023, 5, d)) for d in (1, 2, 3, 4)] == [
        False,
        False,
        False,
        True,
    ]
    assert VIETNAM.add_working_days(date(2023, 4, 28), 1) == date(2023, 5, 4)
    assert VIETNAM.add_working_days(date(2023, 4, 27), 2) == date(2023, 5, 4)


def test_a_swapped_saturday_is_worked():
    """2024: Monday 29 April off in exchange for Saturday 4 May, which is worked."""
    assert not VIETNAM.is_working_day(date(2024, 4, 29))
    assert VIETNAM.is_working_day(date(2024, 5, 4))
    assert VIETNAM.add_working_days(date(2024, 5, 3), 1) == date(2024, 5, 4)


def test_what_a_province_announces_on_top():
    extra = WorkingCalendar(
        extra_days_off=frozenset({date(2026, 12, 7)}), make_up_days=frozenset({date(2026, 12, 12)})
    )
    assert VIETNAM.is_working_day(date(2026, 12, 7)) and not extra.is_working_day(date(2026, 12, 7))
    assert not VIETNAM.is_working_day(date(2026, 12, 12)) and extra.is_working_day(
        date(2026, 12, 12)
    )
    # Friday 4 + 1 working day: Monday 7 by law, Tuesday 8 with the 7th off.
    assert VIETNAM.add_working_days(date(2026, 12, 4), 1) == date(2026, 12, 7)
    assert extra.add_working_days(date(2026, 12, 4), 1) == date(2026, 12, 8)


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (date(2026, 12, 4), date(2026, 12, 4), 0),  # the same day
        (date(2026, 12, 4), date(2026, 12, 5), 0),  # a Saturday after a Friday: no working day
        (date(2026, 12, 4), date(2026, 12, 7), 1),  # Friday -> Monday
        (date(2026, 12, 7), date(2026, 12, 4), -1),  # backwards: due Monday, today Friday
        (date(2026, 12, 1), date(2026, 12, 15), 10),
    ],
)
def test_working_days_between(start, end, expected):
    assert VIETNAM.working_days_between(start, end) == expected


def test_a_date_is_read_in_vietnam():
    """17:30 UTC on 4 December is already 5 December in Hà Nội."""
    assert local_day(datetime(2026, 12, 4, 17, 30, tzinfo=UTC)) == date(2026, 12, 5)
    assert local_day(datetime(2026, 12, 4, 17, 30)) == date(2026, 12, 5)  # naive = UTC (store)
