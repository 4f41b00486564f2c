"""The district catalogue, the routing configuration and the scenarios' volumes."""

from __future__ import annotations

import csv
import random
import re
import resource
import time
import unicodedata
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import func, select

from lienthong_standins import district, ioffice, scenarios
from lienthong_standins.clock import VN_TZ, SimClock
from lienthong_standins.faults import FaultInjector
from lienthong_standins.portal.store import PortalStore, dossiers
from lienthong_standins.routing import ROUTING_PATH, render, routing_config
from lienthong_standins.worktime import add_work_minutes, add_working_days, is_working_day


def fresh_store(tmp_path: Path, name: str) -> PortalStore:
    clock = SimClock(scenarios.SCENARIOS[name].start, speed=0, state_file=tmp_path / "clock.json")
    return PortalStore(tmp_path / "portal.sqlite", clock)


class FakeIOffice:
    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def add_bypass_document(self, **kw: Any) -> str:
        self.calls.append(kw)
        return f"VB-{len(self.calls)}"


# ------------------------------------------------------------------------------ catalogue


def test_catalogue_is_plausible() -> None:
    assert len(district.PROCEDURES) >= 25 and len(district.COMMUNES) >= 20
    codes = [p.code for p in district.PROCEDURES]
    assert len(set(codes)) == len(codes)
    assert all(re.fullmatch(r"[12]\.\d{6}", c) for c in codes)
    assert all(re.fullmatch(r"000\.\d{2}\.\d{2}\.H36", a.code) for a in district.AGENCIES)
    assert all(
        re.fullmatch(r"G09-[A-Z]{2}\d{2}", p.sector) and p.sector in district.SECTOR_BY_CODE
        for p in district.PROCEDURES
    )
    for p in district.PROCEDURES:
        assert (p.document_type is not None) == (p.result_kind == "decision")
        assert all(code in district.AGENCY_BY_CODE for code in p.offered_by)
        assert unicodedata.is_normalized("NFC", p.name)
    offered = {code for p in district.PROCEDURES for code in p.offered_by}
    assert offered == {a.code for a in district.AGENCIES}  # every agency and commune has procedures
    assert 0.35 <= district.decision_share() <= 0.45


def test_people_are_fake_but_well_formed() -> None:
    rng = random.Random(1)
    people = [district.make_person(rng, district.COMMUNES[3]) for _ in range(200)]
    assert all(re.fullmatch(r"020[0-3]\d{8}", p.identity_number) for p in people)
    assert all(re.fullmatch(r"0[389]\d{8}", p.phone) for p in people)
    assert all(len(p.fullname.split()) == 3 for p in people)
    assert any(ch in "ăâđêôơưáàảãạ" for p in people for ch in p.fullname.lower())
    assert all(p.email == "" or p.email.endswith("@example.com") for p in people)


def test_dossier_code_shape() -> None:
    at = datetime(2022, 12, 1, 8, 5, tzinfo=VN_TZ)
    assert district.dossier_code("000.30.20.H36", at, 7) == "000.30.20.H36-221201-0007"


def test_routing_yaml_agrees_with_the_catalogue() -> None:
    text = ROUTING_PATH.read_text(encoding="utf-8")
    assert text == render(), "demo_routing.yaml is stale: run python -m lienthong_standins.routing"
    config = yaml.safe_load(text)
    assert config == routing_config()
    assert set(config["procedures"]) == {p.code for p in district.PROCEDURES}
    for p in district.PROCEDURES:
        entry = config["procedures"][p.code]
        assert entry["result_kind"] == p.result_kind and "minutes_saved" not in entry
        if p.result_kind == "decision":
            assert entry["document_type"]["code"] == p.document_type
            assert set(entry["units"]) == set(p.offered_by)
            for unit in entry["units"].values():
                assert {"name", "account", "title"} <= set(unit["handler"]) == set(unit["signer"])
        else:
            assert "units" not in entry


# ------------------------------------------------------------------------------ pure helpers


def test_apportion_sums_exactly() -> None:
    assert sum(scenarios.apportion(48_094, scenarios.PORTAL_MONTH_PCT)) == 48_094
    assert scenarios.apportion(10, [1, 1, 1]) in ([4, 3, 3], [3, 4, 3], [3, 3, 4])


def test_work_time_arithmetic() -> None:
    fri = datetime(2022, 12, 2, 16, 50, tzinfo=VN_TZ)
    assert add_work_minutes(fri, 20) == datetime(
        2022, 12, 5, 7, 40, tzinfo=VN_TZ
    )  # over the weekend
    assert add_work_minutes(datetime(2022, 12, 1, 11, 20, tzinfo=VN_TZ), 20) == datetime(
        2022, 12, 1, 13, 40, tzinfo=VN_TZ
    )
    assert add_working_days(fri, 1).date().isoformat() == "2022-12-05"
    assert not is_working_day(datetime(2022, 9, 2).date())  # national day


# ------------------------------------------------------------------------------ scenarios


@pytest.mark.slow
def test_demo_scenario(tmp_path: Path) -> None:
    store = fresh_store(tmp_path, "demo")
    fake = FakeIOffice()
    summary = scenarios.load("demo", store, tmp_path, seed=7, ioffice=fake)
    assert summary == {"scenario": "demo", "loaded": True, "dossiers": 300, "bypass_documents": 5}
    assert len(fake.calls) == 5 and all(
        c["created_at"].date().isoformat() == "2022-12-01" for c in fake.calls
    )
    with store.engine.connect() as c:
        rows = c.execute(
            select(
                dossiers.c.code,
                dossiers.c.accepted_ms,
                dossiers.c.result_kind,
                dossiers.c.agency_code,
            )
        ).all()
    share = sum(r.result_kind == "decision" for r in rows) / len(rows)
    assert 0.28 <= share <= 0.52
    by_agency: dict[str, list[tuple[int, str]]] = {}
    for r in rows:
        assert re.fullmatch(r"000\.\d{2}\.\d{2}\.H36-221201-\d{4}", r.code) and r.code.startswith(
            r.agency_code
        )
        by_agency.setdefault(r.agency_code, []).append((r.accepted_ms, r.code))
    for items in by_agency.values():  # daily sequence per agency, in order of acceptance
        items.sort()
        assert [int(code[-4:]) for _, code in items] == list(range(1, len(items) + 1))
    times = [datetime.fromtimestamp(r.accepted_ms / 1000, VN_TZ) for r in rows]
    assert all("07:30" <= f"{t:%H:%M}" < "17:00" for t in times)
    # A second load on the same store keeps what is there (restart keeps state).
    assert scenarios.load("demo", store, tmp_path, seed=8, ioffice=fake)["loaded"] is False
    assert len(fake.calls) == 5


@pytest.mark.slow
def test_demo_is_reproducible_from_the_seed(tmp_path: Path) -> None:
    def codes(sub: str, seed: int) -> list[str]:
        d = tmp_path / sub
        d.mkdir()
        store = fresh_store(d, "demo")
        scenarios.load("demo", store, d, seed=seed)
        with store.engine.connect() as c:
            return [
                r.code + r.id
                for r in c.execute(select(dossiers.c.code, dossiers.c.id).order_by(dossiers.c.code))
            ]

    assert codes("a", 7) == codes("b", 7) != codes("c", 8)


@pytest.mark.slow
def test_demo_with_the_real_ioffice_store(tmp_path: Path) -> None:
    """The bypass documents land in the iOffice stand-in when it offers them."""

    store = fresh_store(tmp_path, "demo")
    _, istore = ioffice.build(tmp_path, store.clock, FaultInjector(), 7, "tok")
    summary = scenarios.load("demo", store, tmp_path, seed=7, ioffice=istore)
    expected = 5 if hasattr(istore, "add_bypass_document") else 0
    assert summary["bypass_documents"] == expected


@pytest.mark.slow
def test_year_2022_volumes(tmp_path: Path) -> None:
    store = fresh_store(tmp_path, "year-2022")
    fake = FakeIOffice()
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    summary = scenarios.load("year-2022", store, tmp_path, seed=7, ioffice=fake)
    elapsed = time.perf_counter() - t0
    rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        f"\nyear-2022 generation: {elapsed:.1f} s, peak RSS {rss1 / 1024:.0f} MiB "
        f"(+{(rss1 - rss0) / 1024:.0f} MiB during generation)"
    )
    assert summary["dossiers"] == 48_094  # generation time is a benchmark figure, not a test
    with store.engine.connect() as c:
        assert c.execute(select(func.count()).select_from(dossiers)).scalar() == 48_094
        rows = c.execute(
            select(
                dossiers.c.accepted_ms,
                dossiers.c.agency_code,
                dossiers.c.result_kind,
                dossiers.c.procedure_code,
            )
        ).all()
    months = Counter(
        datetime.fromtimestamp(r.accepted_ms / 1000, VN_TZ).strftime("%Y-%m") for r in rows
    )
    assert sorted(months) == [f"2022-{m:02d}" for m in range(1, 13)]
    with (tmp_path / "district_totals.csv").open(encoding="utf-8") as fh:
        totals = {r["period"]: int(r["total"]) for r in csv.DictReader(fh)}
    assert totals.pop("2022") == 98_555 and sum(totals.values()) == 98_555
    assert all(months[m] <= totals[m] for m in totals)  # the portal holds part of each month
    assert round(48_094 / 98_555 * 100, 1) == 48.8
    instants = [datetime.fromtimestamp(r.accepted_ms / 1000, VN_TZ) for r in rows]
    assert all(t.weekday() < 5 or (t.weekday() == 5 and t.hour < 12) for t in instants)
    assert sum(t.weekday() == 5 for t in instants) < 0.06 * len(instants)
    assert not any(
        t.date().isoformat() in ("2022-02-01", "2022-09-02") for t in instants
    )  # holidays
    assert {r.agency_code for r in rows} == {a.code for a in district.AGENCIES}
    share = sum(r.result_kind == "decision" for r in rows) / len(rows)
    assert 0.35 <= share <= 0.45
    assert 200 <= len(fake.calls) <= 280  # ~0.5 % documents made in iOffice only
