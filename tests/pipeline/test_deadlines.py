"""Deadlines of waiting decision dossiers on the working calendar: which stage waits, how many
working days are left or late, and alerts written once per dossier, stage and agreed date."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lienthong.domain.timeliness import VN_TZ
from lienthong.domain.working_calendar import VIETNAM
from lienthong.pipeline.deadlines import (
    CalendarNotValid,
    Stage,
    alert_key,
    alert_text_vi,
    calendar_from_variable,
    near_due,
    open_alerts,
    waiting_deadlines,
)
from lienthong.store.engine import get_engine, migrate
from lienthong.store.schema import DeadlineAlert, DossierExtension, DossierLink
from lienthong_standins.routing import demo_routing

PROCEDURE, AGENCY = "2.000720", "000.30.07.H36"  # a decision procedure of the demo routing
TODAY = date(2023, 1, 18)  # a Wednesday, two days before Tết Quý Mão


def due(day: date) -> datetime:
    return datetime.combine(day, time(17, 0), VN_TZ).astimezone(UTC)


def link(code: str, state: str, due_on: date, result_kind: str = "decision") -> DossierLink:
    at = datetime(2023, 1, 3, tzinfo=UTC)
    return DossierLink(
        dossier_id=code.replace("-", "")[:24],
        dossier_code=code,
        agency_code=AGENCY,
        agency_name="Phòng Tài chính - Kế hoạch",
        procedure_code=PROCEDURE,
        procedure_name="Thủ tục thử",
        result_kind=result_kind,
        state=state,
        state_changed_at=at,
        portal_status=4,
        portal_updated_at=at,
        payload_hash="h",
        received_at=at,
        due_at=due(due_on),
        created_at=at,
    )


@pytest.fixture
def engine(store_url):
    engine = get_engine(store_url)
    migrate(engine)
    with Session(engine) as s, s.begin():
        s.add_all(
            [
                link("000.30.07.H36-230103-0001", "transferred", date(2023, 1, 19)),
                link("000.30.07.H36-230103-0002", "signed", date(2023, 1, 27)),
                link("000.30.07.H36-230103-0003", "issued", date(2023, 1, 16)),
                link("000.30.07.H36-230103-0004", "seen", date(2023, 2, 10)),
                link("000.30.07.H36-230103-0005", "attached", date(2023, 1, 10)),  # done
                link("000.30.07.H36-230103-0006", "transferred", date(2023, 1, 10), "direct"),
            ]
        )
    return engine


def test_stages_and_working_days_across_tet(engine):
    with Session(engine) as s:
        found = {d.dossier_code[-4:]: d for d in waiting_deadlines(s, TODAY, VIETNAM)}
    assert set(found) == {"0001", "0002", "0003", "0004"}  # not the attached, not the direct one
    assert found["0001"].stage == Stage.AWAITING_SIGNATURE and found["0001"].working_days_left == 1
    # Due Friday 27 January: Thursday 19 and Friday 27 are the only working days before it (Tết).
    assert found["0002"].stage == Stage.AWAITING_ISSUE and found["0002"].working_days_left == 2
    assert found["0003"].stage == Stage.ISSUED_NOT_ATTACHED
    assert found["0003"].overdue and found["0003"].days_late == 2  # due Mon 16: Tue 17, Wed 18
    assert found["0004"].stage == Stage.DRAFTING and not found["0004"].overdue
    soon = {d.dossier_code[-4:] for d in near_due(list(found.values()), 2)}
    assert soon == {"0001", "0002", "0003"}  # with Monday-Friday only, 0002 would not be near


def test_alerts_are_written_once_per_stage_and_date(engine):
    routing, now = demo_routing(), datetime(2023, 1, 18, 3, tzinfo=UTC)
    with Session(engine) as s, s.begin():
        due_soon = near_due(waiting_deadlines(s, TODAY, VIETNAM), 2)
        pending = open_alerts(s, due_soon, routing, now)
        assert len(pending) == 3
        first = pending[0]
        assert first.recipients == sorted({"dungcm.tckh", "hiennt.tckh"})  # handler and leader
        assert "Đã phát hành, chưa gắn kết quả" in alert_text_vi(first)
        assert "quá hạn 2 ngày làm việc" in alert_text_vi(first)
        assert (
            alert_key(first) == "deadline:000.30.07.H36-230103-0003:issued_not_attached:2023-01-16"
        )
        for alert in pending[:2]:
            alert.sent_at = now
    with Session(engine) as s, s.begin():  # the next run: only the unsent one is pending
        again = open_alerts(s, near_due(waiting_deadlines(s, TODAY, VIETNAM), 2), routing, now)
        assert [a.dossier_code[-4:] for a in again] == ["0002"]
        # The dossier moves on a stage, and another is extended: each opens one new alert.
        s.get(DossierLink, 1).state = "signed"
        extended = s.scalar(select(DossierLink).where(DossierLink.dossier_code.endswith("0002")))
        s.add(
            DossierExtension(
                dossier_code=extended.dossier_code,
                new_due_at=due(date(2023, 1, 30)),
                previous_due_at=extended.due_at,
                reason="Bổ sung xác minh",
                seen_at=now,
            )
        )
        extended.due_at = due(date(2023, 1, 30))
        for alert in open_alerts(
            s, near_due(waiting_deadlines(s, TODAY, VIETNAM), 2), routing, now
        ):
            alert.sent_at = now
        assert s.scalar(select(func.count()).select_from(DeadlineAlert)) == 4  # +0001 signed
        stale = s.get(
            DeadlineAlert, (extended.dossier_code, "awaiting_issue", due(date(2023, 1, 27)))
        )
        assert stale.sent_at is None  # its date was extended before it went out: never sent
        # 30 January is 3 working days away: the extended dossier is not near due any more.
        assert not s.scalars(
            select(DeadlineAlert).where(DeadlineAlert.due_at == due(date(2023, 1, 30)))
        ).all()


def test_calendar_variable():
    cfg = calendar_from_variable(
        "extra_days_off: [2026-12-07]\nmake_up_days: [2026-12-12]\nnear_due_working_days: 3"
    )
    assert cfg.near_due_working_days == 3
    assert not cfg.calendar.is_working_day(date(2026, 12, 7))
    assert calendar_from_variable(None).near_due_working_days == 2
    with pytest.raises(CalendarNotValid, match="lienthong_calendar"):
        calendar_from_variable("extra_days_off: [31/12/2026]")
    with pytest.raises(CalendarNotValid, match="lienthong_calendar"):
        calendar_from_variable("near_due_days: 2")  # a misspelt key is not silently ignored
