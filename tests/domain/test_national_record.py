"""The national sync's pure rules (``domain.national_record``): what to send, when a record is on
time, what an unsure send settles to; no server."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import pytest

from lienthong.domain.dossier import Step
from lienthong.domain.national_record import (
    ItemKind,
    NationalRecord,
    lag_percentiles,
    national_timeliness,
    plan_items,
    settle_unconfirmed,
    step_key,
)
from lienthong.domain.timeliness import VN_TZ
from lienthong.domain.vocabulary import DossierStatus


def vn(d: int, h: int = 9, m: int = 0) -> datetime:
    return datetime(2022, 12, d, h, m, tzinfo=VN_TZ)


def record(**changes) -> NationalRecord:
    base = NationalRecord(
        code="000.30.20.H36-221201-0001",
        agency_code="000.30.20.H36",
        agency_name="UBND xã Minh Sơn",
        procedure_code="2.000986",
        procedure_name="Đăng ký khai sinh",
        sector_code="G09",
        sector_name="Hộ tịch",
        applicant_name="Nguyễn Văn An",
        applicant_type=1,
        applicant_id_number="012345678901",
        applicant_email=None,
        applicant_phone="0912345678",
        summary="Nguyễn Văn An - khai sinh",
        channel=2,
        status=2,
        received_at=vn(1, 8),
        due_at=vn(5, 17),
        finished_at=None,
        returned_at=None,
        updated_at=vn(1, 8),
        steps=(
            Step(
                "000.30.20.H36-221201-0001",
                "Tiếp nhận hồ sơ",
                DossierStatus.ACCEPTED,
                vn(1, 8),
                person="Lê Thị Hoa",
                ref="t1",
            ),
        ),
    )
    return replace(base, **changes)


def test_plan_first_sight_then_only_what_changed():
    first = plan_items(record(), None, set())
    assert [p.kind for p in first] == [ItemKind.RECORD, ItemKind.STEP]
    fp = first[0].key
    # the same record touched again (only its update time moved): nothing new
    assert plan_items(record(updated_at=vn(1, 10)), fp, {"step:t1"}) == []
    moved = record(
        status=4,
        steps=record().steps
        + (Step(record().code, "Chuyển xử lý", DossierStatus.PROCESSING, vn(1, 10), ref="t2"),),
    )
    planned = plan_items(moved, fp, {"step:t1"})
    assert [(p.kind, p.key) for p in planned][1:] == [(ItemKind.STEP, "step:t2")]
    assert planned[0].kind == ItemKind.RECORD and planned[0].key != fp
    # a status that comes back to an earlier value is a change again (4 -> 5 -> 4)
    fp5 = record(status=5).fingerprint()
    assert plan_items(record(status=4), fp5, {"step:t1"})[0].kind == ItemKind.RECORD


def test_step_key_falls_back_to_position():
    step = record().steps[0]
    assert step_key(3, step) == "step:t1" and step_key(3, replace(step, ref=None)) == "step:#3"


def test_settle_counts_copies_not_just_presence():
    # the national side holds a, b, a; a and b were confirmed; two unsure copies of a and one of c
    assert settle_unconfirmed(["a", "b", "a"], ["a", "b"], ["a", "a", "c"]) == [True, False, False]
    assert settle_unconfirmed([], [], ["a"]) == [False]
    assert settle_unconfirmed(["x", "y"], [], ["x", "y"]) == [True, True]


@pytest.mark.parametrize(
    "status,finished,due,expected",
    [
        (1, None, vn(5), "not_received"),
        (3, None, vn(5), "not_received"),
        (4, None, vn(5), "received"),
        (9, vn(5, 16), vn(5, 8), "on_time"),  # same date, later hour: on time (date rule)
        (10, vn(6, 8), vn(5, 17), "late"),
        (9, vn(2), vn(5), "on_time"),
    ],
)
def test_national_timeliness_is_by_date(status, finished, due, expected):
    assert national_timeliness(status, finished, None, due) == expected


def test_lag_percentiles():
    assert lag_percentiles([]) == (None, None)
    assert lag_percentiles([60]) == (60.0, 60.0)
    p50, p95 = lag_percentiles(list(range(1, 101)))
    assert p50 == pytest.approx(50.5) and 95 < p95 < 96
