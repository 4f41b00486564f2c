"""The report over a hand-made store (SQLite and PostgreSQL), and the article's arithmetic."""

from __future__ import annotations

import math
from datetime import date

import pytest

from lienthong.report import figures
from lienthong.report.figures import (
    article_estimate,
    district_total_for,
    on_time_rate,
    previous_month,
)
from lienthong.report.rates import percent
from lienthong.store.engine import get_engine

from .scenario import populate

FROM, TO = date(2022, 3, 1), date(2022, 4, 30)


@pytest.fixture
def engine(store_url):
    e = get_engine(store_url)
    populate(e)
    return e


def test_headline_counts_by_hand(engine):
    h = figures.headline(engine, FROM, TO)
    assert h["dossiers_processed"] == 6
    assert h["district_total"] == 30 and h["portal_share_pct"] == 20.0
    assert h["dossiers_linked"] == 2
    assert h["hours_saved_measured"] == 1.25 and h["vnd_saved_measured"] == 40_000
    assert h["hours_saved_article"] == 3.0 and h["vnd_saved_article"] == 96_000
    assert (h["decisions_issued"], h["decisions_attached"], h["results_attached_pct"]) == (
        3,
        2,
        66.7,
    )
    assert (h["early"], h["on_time"], h["late"], h["on_time_pct"]) == (2, 1, 1, 75.0)
    assert h["bypass_documents"] == 2
    assert h["quarantined"] == 1 and h["rejected"] == 1 and h["quarantine_open_total"] == 1


def test_parameters_change_the_article_estimate_only(engine):
    h = figures.headline(engine, FROM, TO, hours_per_dossier=0.25, cost_per_hour=40_000)
    assert (h["hours_saved_article"], h["vnd_saved_article"]) == (1.5, 60_000)
    assert h["vnd_saved_measured"] == 40_000


def test_by_month(engine):
    t = figures.by_month(engine, FROM, TO).set_index("month")
    assert list(t.index) == [
        "2022-03",
        "2022-04",
    ]  # D9 (1 Mar 00:30 in Vietnam) is March, D8 is not
    mar, apr = t.loc["2022-03"], t.loc["2022-04"]
    assert (mar.dossiers_processed, mar.district_total, mar.portal_share_pct) == (3, 10, 30.0)
    assert (apr.dossiers_processed, apr.district_total, apr.portal_share_pct) == (3, 20, 15.0)
    assert (mar.dossiers_linked, mar.hours_saved_measured, mar.vnd_saved_measured) == (
        2,
        1.25,
        40_000,
    )
    assert (apr.dossiers_linked, apr.vnd_saved_measured) == (0, 0)
    assert (mar.early, mar.on_time, mar.late, mar.on_time_pct) == (1, 1, 0, 100.0)
    assert (apr.early, apr.on_time, apr.late, apr.on_time_pct) == (1, 0, 1, 50.0)
    assert (mar.bypass_documents, apr.bypass_documents) == (1, 1)
    assert (mar.results_attached_pct, apr.results_attached_pct) == (100.0, 0.0)
    assert (mar.quarantined, apr.rejected) == (1, 1)
    assert t.dossiers_processed.sum() == 6


def test_by_agency(engine):
    t = figures.by_agency(engine, FROM, TO).set_index("agency_code")
    a, b = t.loc["UBND-MS"], t.loc["PTNMT"]
    assert a.agency_name == "UBND xã Minh Sơn" and b.agency_name == "Phòng Tài nguyên và Môi trường"
    assert (a.dossiers_processed, b.dossiers_processed) == (3, 3)
    assert (a.dossiers_linked, a.hours_saved_measured, a.vnd_saved_measured) == (2, 1.25, 40_000)
    assert (a.hours_saved_article, a.vnd_saved_article) == (1.5, 48_000)
    assert (a.results_attached_pct, b.results_attached_pct) == (100.0, 0.0)
    assert (b.early, b.on_time, b.late, b.on_time_pct) == (1, 0, 1, 50.0)
    assert (a.bypass_documents, b.bypass_documents) == (1, 1)
    assert (a.rejected, b.quarantined) == (1, 1)
    assert math.isnan(a.portal_share_pct)  # district totals are not broken down by agency


def test_by_procedure(engine):
    t = figures.by_procedure(engine, FROM, TO).set_index("procedure_code")
    assert list(t.index) == ["1.001", "2.002", "3.003"]
    assert list(t.dossiers_processed) == [3, 1, 2]
    assert t.loc["2.002", "results_attached_pct"] == 0.0
    assert math.isnan(t.loc["3.003", "results_attached_pct"])  # no decision there
    assert "bypass_documents" not in t.columns


def test_partial_month_has_no_district_share(engine):
    h = figures.headline(engine, date(2022, 3, 5), date(2022, 3, 31))
    assert (
        h["dossiers_processed"] == 2
        and h["district_total"] is None
        and h["portal_share_pct"] is None
    )
    assert figures.headline(engine, date(2022, 3, 1), date(2022, 3, 31))["portal_share_pct"] == 30.0


def test_empty_period(engine):
    h = figures.headline(engine, date(2023, 1, 1), date(2023, 1, 31))
    assert h["dossiers_processed"] == 0 and h["results_attached_pct"] is None
    assert figures.by_month(engine, date(2023, 1, 1), date(2023, 1, 31)).empty


# --------------------------------------------------------------------------- pure arithmetic


def test_article_arithmetic():
    assert article_estimate(48_094, 0.5, 32_000) == (24_047.0, 769_504_000)
    assert percent(48_094, 98_555) == 48.8
    assert percent(18_974, 87_437) == 21.7  # the article's 2021 share, for a second witness


def test_pure_helpers():
    assert on_time_rate(2, 1, 1) == 75.0 and on_time_rate(0, 0, 0) is None
    assert percent(2, 3) == 66.7 and percent(1, 0) is None and percent(1, None) is None
    assert previous_month(date(2023, 1, 1)) == figures.Period(date(2022, 12, 1), date(2022, 12, 31))
    assert figures.resolve_period(None, "", date(2022, 3, 1)).date_to == date(2022, 2, 28)
    assert figures.resolve_period("2022-01-01", "2022-12-31", date(2023, 5, 1)).date_from == date(
        2022, 1, 1
    )
    with pytest.raises(ValueError):
        figures.Period(date(2022, 2, 1), date(2022, 1, 1))


def test_district_total_for():
    months = {f"2022-{m:02d}": 10 * m for m in range(1, 13)}
    assert (
        district_total_for({"2022": 98_555, **months}, date(2022, 1, 1), date(2022, 12, 31))
        == 98_555
    )
    assert district_total_for(months, date(2022, 1, 1), date(2022, 12, 31)) == 780
    assert district_total_for(months, date(2022, 2, 1), date(2022, 3, 31)) == 50
    assert district_total_for(months, date(2022, 2, 1), date(2022, 3, 15)) is None
    assert district_total_for({"2022-12-01": 615}, date(2022, 12, 1), date(2022, 12, 1)) == 615
    assert district_total_for({"2022": 5}, date(2022, 1, 1), date(2022, 6, 30)) is None
