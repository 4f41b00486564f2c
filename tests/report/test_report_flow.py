"""The report over the demo day carried through the real pipeline (stand-ins + real store)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from lienthong.report.figures import VN_TZ, headline
from lienthong.report.rates import percent
from lienthong.store.district_totals import load_district_totals
from lienthong.store.schema import DossierLink, DossierTimeSavings
from tests.conftest import on_store
from tests.pipeline.test_flow import drive

DAY = date(2022, 12, 1)


@on_store("sqlite")  # the demo's store; the report's SQL on both backends is test_figures.py
def test_report_matches_the_store_after_the_demo_day(standins, res):
    drive(standins, res)
    load_district_totals(res.engine, standins.data_dir / "district_totals.csv")
    with res.session() as session:
        links = session.execute(
            select(
                DossierLink.received_at,
                DossierLink.portal_status,
                DossierLink.result_kind,
                DossierLink.issued_at,
                DossierLink.attached_at,
            )
        ).all()
        savings = session.scalar(select(func.count()).select_from(DossierTimeSavings))
    in_day = [r for r in links if r.received_at.astimezone(VN_TZ).date() == DAY]
    received = sum(1 for r in in_day if r.portal_status not in (1, 3))
    issued = [r for r in in_day if r.result_kind == "decision" and r.issued_at is not None]
    assert received > 200 and savings > 80 and issued

    h = headline(res.engine, DAY, date(2022, 12, 31))
    assert h["dossiers_processed"] == received
    assert h["dossiers_linked"] == savings
    assert (
        h["hours_saved_measured"] == 0.5 * savings and h["vnd_saved_measured"] == 16_000 * savings
    )
    assert h["vnd_saved_article"] == received * 16_000
    assert all(r.attached_at is not None for r in issued)
    assert h["results_attached_pct"] == 100.0
    assert h["early"] + h["on_time"] + h["late"] >= savings

    one_day = headline(
        res.engine, DAY, DAY
    )  # the stand-in's totals file has a row for the demo day
    assert one_day["district_total"] and one_day["portal_share_pct"] == percent(
        received, one_day["district_total"]
    )
