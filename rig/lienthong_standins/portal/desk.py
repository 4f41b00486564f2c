"""The simulated one-stop desk: what happens on the portal without the link.

Dossiers whose result is signed directly on the filed papers (``direct``) are processed
by the desk itself, 2→4→9→10, within office hours; a seeded plan fixes when. Decision
dossiers get no plan: they wait for the link.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime
from typing import Any

from lienthong_standins.clock import VN_TZ
from lienthong_standins.district import (
    AGENCY_BY_CODE,
    DEPARTMENTS,
    OFFICES,
    PROCEDURE_BY_CODE,
    PROVINCE_CODES,
    STAFF,
    Agency,
    Official,
    Procedure,
    handler_for,
)
from lienthong_standins.portal.dossiers import step_record, to_ms, with_status
from lienthong_standins.portal.lifecycle import allowed
from lienthong_standins.worktime import add_work_minutes

WORKDAY_MINUTES = 450  # 07:30-11:30 + 13:30-17:00
Plan = list[tuple[int, int]]  # [(due ms, target status)], in order

_DESK_CONTENT = {
    4: "Chuyển xử lý hồ sơ",
    9: "Hoàn thành xử lý, chuyển Bộ phận Một cửa",
    10: "Trả kết quả cho công dân",
}


def receiver_for(agency: Agency) -> Official:
    """The one-stop desk officer who receives and returns the agency's dossiers."""
    if agency.kind == "commune":
        return STAFF[agency.code].handlers["tp"]
    # The district's one-stop desk (Văn phòng), or since 2025 the province's.
    desk = DEPARTMENTS[0] if agency.code in PROVINCE_CODES else OFFICES[0]
    return STAFF[desk.code].handlers["office"]


def desk_plan(rng: random.Random, accepted: datetime, procedure: Procedure) -> Plan:
    """When the desk moves a ``direct`` dossier on; empty for decision dossiers."""
    if procedure.result_kind != "direct":
        return []
    t4 = add_work_minutes(accepted, rng.uniform(3, 40))
    share = rng.uniform(1.05, 1.5) if rng.random() < 0.03 else rng.uniform(0.05, 0.7)
    t9 = add_work_minutes(t4, procedure.processing_days * WORKDAY_MINUTES * share)
    t10 = add_work_minutes(t9, rng.uniform(5, 240))
    return [(to_ms(t4), 4), (to_ms(t9), 9), (to_ms(t10), 10)]


def return_plan(dossier_id: str, finished_ms: int) -> Plan:
    """After the link finishes a decision dossier (9), the desk hands the result back (10),
    seeded."""
    rng = random.Random(f"return:{dossier_id}")
    finished = datetime.fromtimestamp(finished_ms / 1000, tz=VN_TZ)
    return [(to_ms(add_work_minutes(finished, rng.uniform(5, 240))), 10)]


def apply_due(
    doc: dict[str, Any], plan: Plan, now_ms: int, stamp: Callable[[int], int]
) -> tuple[dict[str, Any], Plan, bool]:
    """Apply every planned move due by ``now_ms``. Returns (doc, remaining plan, changed).

    A move the lifecycle no longer allows (someone else moved the dossier) cancels the plan.
    """
    changed = False
    procedure = PROCEDURE_BY_CODE[doc["procedure"]["code"]]
    agency = AGENCY_BY_CODE[doc["agency"]["code"]]
    due_ms = to_ms(datetime.fromisoformat(doc["dueDate"].replace("+0700", "+07:00")))
    while plan and plan[0][0] <= now_ms:
        at_ms, target = plan[0]
        status = doc["dossierStatus"]["id"]
        if not allowed(status, target):
            return doc, [], changed
        who = receiver_for(agency) if target == 10 else handler_for(procedure, agency)
        unit = "Bộ phận Một cửa" if target == 10 else agency.name
        step = step_record(
            official=who,
            unit=unit,
            content=_DESK_CONTENT[target],
            status=target,
            at_ms=at_ms,
            start_ms=at_ms,
            due_ms=due_ms,
        )
        doc = with_status(doc, target, at_ms, stamp(at_ms), must_attach=False, step=step)
        plan = plan[1:]
        changed = True
    return doc, plan, changed
