"""The simulated office: what happens to a document after it is pushed, and when.

Pure and seeded (seed + a stable key such as MaHoSo), so a scenario replays identically
and the store only has to materialize events whose planned time has passed. Durations
are counted in working time (Mon–Fri 07:30–11:30, 13:30–17:00, Asia/Ho_Chi_Minh) the
way an office works: median total about three working hours, from ~30 minutes to
about two working days.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Literal

from lienthong_standins.clock import VN_TZ

Outcome = Literal["issued", "signed_late", "rejected"]

WORK_PERIODS = ((time(7, 30), time(11, 30)), (time(13, 30), time(17, 0)))
P_REJECTED = 0.07
P_SIGNED_LATE = 0.08

REJECT_REASONS = (
    "Hồ sơ chưa đủ điều kiện giải quyết: thiếu giấy tờ chứng minh quyền sử dụng đất.",
    "Thông tin trong dự thảo không khớp với hồ sơ gốc, đề nghị bộ phận chuyên môn kiểm tra lại.",
    "Đề nghị bổ sung ý kiến thẩm định của phòng chuyên môn trước khi trình ký.",
    "Dự thảo chưa đúng thể thức văn bản theo Nghị định 30/2020/NĐ-CP.",
)


@dataclass(frozen=True)
class Plan:
    """The office's planned handling of one document; times are absolute (VN time)."""

    outcome: Outcome
    drafted_at: datetime  # handler finished the draft
    submitted_at: datetime  # handler submitted it to the leader
    decided_at: datetime  # leader signed (issued/signed_late) or rejected
    issued_at: datetime | None  # clerk issued with number/notation; None when rejected
    reject_reason: str = ""


def _lognormal_minutes(
    rng: random.Random, median: float, sigma: float, lo: float, hi: float
) -> float:
    return min(hi, max(lo, median * math.exp(rng.gauss(0.0, sigma))))


def next_working_moment(t: datetime) -> datetime:
    """``t`` if it falls in working time, else the start of the next working period."""
    t = t.astimezone(VN_TZ)
    while True:
        if t.weekday() < 5:
            for start, end in WORK_PERIODS:
                s = t.replace(hour=start.hour, minute=start.minute, second=0, microsecond=0)
                e = t.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)
                if t < s:
                    return s
                if t < e:
                    return t
        t = (t + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)


def add_working_minutes(t: datetime, minutes: float) -> datetime:
    """The moment ``minutes`` of working time after ``t``."""
    remaining = timedelta(minutes=minutes)
    t = next_working_moment(t)
    while True:
        end = max(
            t.replace(hour=e.hour, minute=e.minute, second=0, microsecond=0)
            for s, e in WORK_PERIODS
            if t >= t.replace(hour=s.hour, minute=s.minute, second=0, microsecond=0)
        )
        if t + remaining <= end:
            return t + remaining
        remaining -= end - t
        t = next_working_moment(end)


def plan_document(seed: int, key: str, received_at: datetime, *, bypass: bool = False) -> Plan:
    """Draw the outcome and the durations of each stage for one document.

    Documents that never came from the portal (``bypass``) are internal papers that
    always end up issued.
    """
    rng = random.Random(f"ioffice:{seed}:{key}")
    roll = rng.random()
    outcome: Outcome = (
        "issued"
        if bypass
        else "rejected"
        if roll < P_REJECTED
        else "signed_late"
        if roll < P_REJECTED + P_SIGNED_LATE
        else "issued"
    )
    draft = _lognormal_minutes(rng, 50, 0.8, 10, 480)
    submit = _lognormal_minutes(rng, 5, 0.5, 1, 30)
    review = _lognormal_minutes(rng, 70, 0.9, 10, 420)
    clerk = _lognormal_minutes(rng, 25, 0.6, 5, 120)
    drafted = add_working_minutes(received_at, draft)
    submitted = add_working_minutes(drafted, submit)
    decided = add_working_minutes(submitted, review)
    if outcome == "rejected":
        return Plan(outcome, drafted, submitted, decided, None, rng.choice(REJECT_REASONS))
    if outcome == "signed_late":
        # Signed, then left waiting for a number for 1–5 working days.
        clerk = rng.uniform(1, 5) * 7.5 * 60
    return Plan(outcome, drafted, submitted, decided, add_working_minutes(decided, clerk))
