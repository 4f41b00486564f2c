"""Pure domain rules: link states, timeliness, savings arithmetic, masking."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from lienthong.domain.masking import mask_digits, mask_name, mask_text
from lienthong.domain.states import IllegalTransition, LinkState, check_transition, is_at_or_past
from lienthong.domain.timeliness import cost_saved_vnd, timeliness

VN = ZoneInfo("Asia/Ho_Chi_Minh")


def test_main_line_moves_forward_only():
    assert check_transition("seen", "transferred") == LinkState.TRANSFERRED
    assert check_transition("issued", "attached") == LinkState.ATTACHED
    with pytest.raises(IllegalTransition):
        check_transition("attached", "transferred")
    with pytest.raises(IllegalTransition):
        check_transition("seen", "attached")
    assert check_transition("quarantined", "issued") == LinkState.ISSUED


def test_repeat_is_recognised():
    assert is_at_or_past("attached", "issued")
    assert is_at_or_past("attached", "attached")
    assert not is_at_or_past("transferred", "issued")


@pytest.mark.parametrize(
    "finished,due,expected",
    [
        (datetime(2022, 5, 3, 16, tzinfo=VN), datetime(2022, 5, 4, 8, tzinfo=VN), "early"),
        (datetime(2022, 5, 4, 23, tzinfo=VN), datetime(2022, 5, 4, 8, tzinfo=VN), "on_time"),
        (datetime(2022, 5, 5, 0, 1, tzinfo=VN), datetime(2022, 5, 4, 17, tzinfo=VN), "late"),
        (None, datetime(2022, 5, 4, tzinfo=VN), None),
    ],
)
def test_timeliness_compares_dates_not_times(finished, due, expected):
    assert timeliness(finished, due) == expected


def test_article_arithmetic():
    assert cost_saved_vnd(30, 32_000) == 16_000
    assert 48_094 * cost_saved_vnd(30, 32_000) == 769_504_000
    assert cost_saved_vnd(25, 32_000) == 13_333


def test_masking():
    assert mask_digits("012345678901") == "*********901"
    assert mask_name("Nguyễn Văn An") == "N. V. A."
    masked = mask_text("call 0912345678 id 012345678901 code 000.30.20.H36-221201-0001")
    assert "0912345678" not in masked and "012345678901" not in masked
    assert "000.30.20.H36-221201-0001" in masked
