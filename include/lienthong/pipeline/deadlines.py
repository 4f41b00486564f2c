"""Legal deadlines of linked decision dossiers, on Vietnam's working calendar.

Each decision dossier the link carries has a due date: the latest date agreed with the citizen
(the portal's appointment date, moved by each extension). While the decision is still on its way,
the dossier waits at one stage: drafting, the leader's signature, issuance, or attachment to the
portal. :data:`DEFAULT_NEAR_DUE_WORKING_DAYS` working days before the due date (configurable in the
Variable ``lienthong_calendar``), the unit's handler and leader are told, once per dossier, stage
and agreed date: an alert row is written before it is sent and marked when it was, so a run that
dies after sending repeats at most the alerts it had not marked (each carries a stable ``key`` the
channel can use to drop a repeat).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from lienthong.domain.states import LinkState
from lienthong.domain.vocabulary import ResultKind
from lienthong.domain.working_calendar import (
    DEFAULT_NEAR_DUE_WORKING_DAYS,
    WorkingCalendar,
    local_day,
)
from lienthong.pipeline.routing import NoRoute, RoutingConfig, route_for
from lienthong.store.schema import DeadlineAlert, DossierExtension, DossierLink

CALENDAR_VARIABLE = "lienthong_calendar"


class CalendarConfig(BaseModel):
    """What a province adds to the law's calendar, and how early people are told."""

    model_config = ConfigDict(extra="forbid")
    extra_days_off: list[date] = Field(default_factory=list)  # announced days off on weekdays
    make_up_days: list[date] = Field(default_factory=list)  # weekend days worked in exchange
    near_due_working_days: int = Field(DEFAULT_NEAR_DUE_WORKING_DAYS, ge=0, le=30)

    @property
    def calendar(self) -> WorkingCalendar:
        return WorkingCalendar(frozenset(self.extra_days_off), frozenset(self.make_up_days))


class CalendarNotValid(ValueError):
    """The calendar Variable is set but unreadable: deadlines must not be counted on a guess."""


def calendar_from_variable(text: str | None) -> CalendarConfig:
    """The calendar settings; an unset Variable means the law's calendar and the defaults."""
    if not (text or "").strip():
        return CalendarConfig()
    try:
        return CalendarConfig.model_validate(yaml.safe_load(text or "") or {})
    except (yaml.YAMLError, ValidationError) as exc:
        raise CalendarNotValid(
            f"Airflow Variable {CALENDAR_VARIABLE!r} is not a valid calendar (extra_days_off, "
            f"make_up_days: lists of YYYY-MM-DD; near_due_working_days: 0-30): {exc}"
        ) from None


class Stage(StrEnum):
    """Where a decision dossier waits, and so who must act."""

    DRAFTING = "drafting"  # the handler drafts (or redrafts) the decision
    AWAITING_SIGNATURE = "awaiting_signature"  # the leader signs
    AWAITING_ISSUE = "awaiting_issue"  # the clerk numbers and issues it
    ISSUED_NOT_ATTACHED = "issued_not_attached"  # operators get it onto the portal


STAGE_OF_STATE: dict[str, Stage] = {
    LinkState.SEEN: Stage.DRAFTING,
    LinkState.REJECTED: Stage.DRAFTING,  # sent back to the drafter
    LinkState.TRANSFERRED: Stage.AWAITING_SIGNATURE,  # the draft is in iOffice, before the leader
    LinkState.SIGNED: Stage.AWAITING_ISSUE,
    LinkState.ISSUED: Stage.ISSUED_NOT_ATTACHED,
    LinkState.REVOKED: Stage.DRAFTING,  # its decision was revoked: a new one must be drafted
}
STAGE_LABELS_VI: dict[Stage, str] = {
    Stage.DRAFTING: "Đang dự thảo, chưa trình ký",
    Stage.AWAITING_SIGNATURE: "Chờ lãnh đạo ký số",
    Stage.AWAITING_ISSUE: "Đã ký, chờ phát hành",
    Stage.ISSUED_NOT_ATTACHED: "Đã phát hành, chưa gắn kết quả lên Một cửa",
}


@dataclass(frozen=True)
class Deadline:
    """One waiting decision dossier against its latest agreed date."""

    dossier_code: str
    agency_code: str
    agency_name: str
    procedure_code: str
    procedure_name: str
    stage: Stage
    due_at: datetime
    due_on: date
    working_days_left: int  # negative: this many working days late
    extended: bool

    overdue: bool  # the due date is past (late by date, as the national reports count)

    @property
    def days_late(self) -> int:
        return max(-self.working_days_left, 0)


def deadline_of(link: DossierLink, today: date, cal: WorkingCalendar, extended: bool) -> Deadline:
    """Pure: the link's stage and how many working days are left (or late) on ``today``."""
    due_on = local_day(link.due_at)
    return Deadline(
        link.dossier_code,
        link.agency_code,
        link.agency_name,
        link.procedure_code,
        link.procedure_name,
        STAGE_OF_STATE[link.state],
        link.due_at,
        due_on,
        cal.working_days_between(today, due_on),
        extended,
        due_on < today,
    )


def waiting_links(session: Session, limit: int = 5000) -> list[DossierLink]:
    """Every decision dossier still on its way to the portal, with a due date, soonest first."""
    return list(
        session.scalars(
            select(DossierLink)
            .where(
                DossierLink.state.in_(list(STAGE_OF_STATE)),
                DossierLink.result_kind == ResultKind.DECISION,
                DossierLink.due_at.is_not(None),
            )
            .order_by(DossierLink.due_at)
            .limit(limit)
        )
    )


def deadlines_of(
    session: Session, links: list[DossierLink], today: date, cal: WorkingCalendar
) -> list[Deadline]:
    extended = extended_codes(session, [link.dossier_code for link in links])
    return [deadline_of(link, today, cal, link.dossier_code in extended) for link in links]


def waiting_deadlines(
    session: Session, today: date, cal: WorkingCalendar, limit: int = 5000
) -> list[Deadline]:
    """Every decision dossier still on its way to the portal, most urgent first."""
    return deadlines_of(session, waiting_links(session, limit), today, cal)


def extended_codes(session: Session, codes: list[str]) -> set[str]:
    found: set[str] = set()
    for i in range(0, len(codes), 500):
        found |= set(
            session.scalars(
                select(DossierExtension.dossier_code).where(
                    DossierExtension.dossier_code.in_(codes[i : i + 500])
                )
            )
        )
    return found


def near_due(deadlines: list[Deadline], within: int) -> list[Deadline]:
    """Those at ``within`` working days of their date or closer, and those already past it."""
    return [d for d in deadlines if d.working_days_left <= within]


def recipients(routing: RoutingConfig, d: Deadline) -> list[str]:
    """The unit's handler and leader (iOffice accounts); none when the routing has no unit."""
    try:
        route = route_for(routing, d.procedure_code, d.agency_code)
    except NoRoute:
        return []
    if route is None:
        return []
    return sorted({route.unit.handler.account, route.unit.signer.account})


def open_alerts(
    session: Session, due: list[Deadline], routing: RoutingConfig, now: datetime
) -> list[DeadlineAlert]:
    """Write an alert row for each near-due dossier not yet told for its stage and date; return
    those not sent yet, most urgent first (a send that failed is tried again). An unsent alert
    whose dossier has moved on a stage, or whose date was extended, is not sent: it would be
    wrong by now."""
    pending = []
    for d in due:
        alert = session.get(DeadlineAlert, (d.dossier_code, d.stage.value, d.due_at))
        if alert is None:
            alert = DeadlineAlert(
                dossier_code=d.dossier_code,
                stage=d.stage.value,
                due_at=d.due_at,
                recipients=recipients(routing, d),
                working_days_left=d.working_days_left,
                created_at=now,
            )
            session.add(alert)
        if alert.sent_at is None:
            pending.append(alert)
    session.flush()
    return pending


def alert_key(alert: DeadlineAlert) -> str:
    return f"deadline:{alert.dossier_code}:{alert.stage}:{local_day(alert.due_at).isoformat()}"


def alert_text_vi(alert: DeadlineAlert) -> str:
    """The message people read: which dossier, which stage waits, and by when."""
    left = alert.working_days_left
    when = (
        f"quá hạn {-left} ngày làm việc"
        if left < 0
        else "đến hạn hôm nay"
        if left == 0
        else f"còn {left} ngày làm việc"
    )
    return (
        f"Hồ sơ {alert.dossier_code} {when} (hẹn trả {local_day(alert.due_at):%d/%m/%Y}). "
        f"Đang chờ ở bước: {STAGE_LABELS_VI[Stage(alert.stage)]}."
    )
