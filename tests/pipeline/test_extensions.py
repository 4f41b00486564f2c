"""Extensions (gia hạn) served by the portal stand-in as the national vocabulary carries them: a
new appointment date with its reason, as a step. The link records each one, judges on-time against
the latest agreed date, sends the new date on to the national portal and reports extended dossiers
apart; a date moved backwards is quarantined, not taken."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from lienthong.domain.working_calendar import local_day
from lienthong.pipeline import results
from lienthong.report import figures
from lienthong.store.schema import (
    DossierExtension,
    DossierLink,
    DossierTimeSavings,
    LinkEvent,
    Quarantine,
)
from tests.conftest import on_store

from .test_flow import CTX, HOUR, run_intake
from .test_national_sync import national_records, sync_until_idle

pytestmark = pytest.mark.scenario("burst-60")


def waiting_decisions(res) -> list[DossierLink]:
    with res.session() as s:
        return list(
            s.scalars(
                select(DossierLink)
                .where(DossierLink.state == "transferred", DossierLink.result_kind == "decision")
                .order_by(DossierLink.dossier_code)
            )
        )


@on_store("postgres")
def test_an_extension_is_recorded_judged_against_and_sent_on(standins, nres):
    standins.advance(6 * HOUR)
    run_intake(nres)
    first, second, *_ = waiting_decisions(nres)
    agreed = local_day(first.due_at)
    later = agreed + timedelta(days=10)
    standins.extend(first.dossier_code, later.isoformat(), "Cần xác minh thực địa")
    standins.extend(
        second.dossier_code, (local_day(second.due_at) - timedelta(days=3)).isoformat(), "Nhầm ngày"
    )
    standins.advance(60)
    counts = run_intake(nres)
    assert counts["extended"] == 1 and counts["quarantined"] == 1

    with nres.session() as s:
        ext = s.scalars(select(DossierExtension)).one()
        assert ext.dossier_code == first.dossier_code
        assert local_day(ext.previous_due_at) == agreed and local_day(ext.new_due_at) == later
        assert "Cần xác minh thực địa" in ext.reason
        assert local_day(s.get(DossierLink, first.id).due_at) == later
        assert s.scalar(select(LinkEvent).where(LinkEvent.kind == "extended")) is not None
        # The date moved backwards is not taken: quarantined with a message for officials.
        q = s.scalars(select(Quarantine).where(Quarantine.reason_code == "due_moved_back")).one()
        assert q.dossier_code == second.dossier_code and "lùi ngày hẹn trả" in q.reason_vi
        assert s.get(DossierLink, second.id).due_at == second.due_at
    run_intake(nres)  # read again: nothing recorded twice
    with nres.session() as s:
        assert len(s.scalars(select(DossierExtension)).all()) == 1

    # The national record carries the new date (NgayHenTra).
    sync_until_idle(nres)
    record = national_records(standins)[first.dossier_code]
    assert record["HoSo"]["NgayHenTra"][:8] == later.strftime("%Y%m%d")
    extension_step = record["TienDo"][-1]
    assert extension_step["NgayKetThucTheoQuyDinh"][:8] == later.strftime("%Y%m%d")
    assert "Gia hạn" in extension_step["NoiDungXuLy"]

    # The office's result is taken up only after the old date has passed (the link does not run
    # meanwhile), and before the new one: late against the old date, on time against the new.
    past_old = local_day(standins.clock.now())
    standins.advance(((agreed - past_old).days + 1) * 24 * HOUR)
    for _ in range(12):
        results.process_packages(nres, CTX)
        run_intake(nres)
        with nres.session() as s:
            link = s.get(DossierLink, first.id)
        if link.finished_at is not None:
            break
        standins.advance(8 * HOUR)
    assert link.finished_at is not None and agreed < local_day(link.finished_at) <= later
    with nres.session() as s:
        saving = s.get(DossierTimeSavings, first.dossier_code)
        assert saving.timeliness in ("early", "on_time")  # against the extended date
    report = figures.headline(nres.engine, date(2022, 1, 1), date(2023, 12, 31))
    assert report["extended"] == 1 and report["extended_late"] == 0
    late = [
        r
        for r in figures.by_agency(nres.engine, date(2022, 1, 1), date(2023, 12, 31)).to_dict(
            "records"
        )
        if r["extended"]
    ]
    assert late and late[0]["agency_code"] == first.agency_code
