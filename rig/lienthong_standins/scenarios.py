"""Scenarios: the dossiers (and iOffice-only documents) a stand-in run starts with.

``demo``      - 300 dossiers arriving over one working day (1 Dec 2022, 07:30-17:00).
``demo-identities`` - the demo day with the applicant's identity planted in every free text the
                portal sends: the summary (upper-case name, birthday), a birthday field, a form
                file named after them (``CCCD_Nguyen_Van_A.pdf``). For the personal-data test.
``year-2022`` - the article's year: exactly 48,094 dossiers on the portal over 2022, out of
                98,555 dossiers in the whole district (``district_totals.csv``).
``reorg-2025`` - four weeks across the reorganisation of 1 July 2025: 400 dossiers, received by
                the district's offices and communes until 30 June, by the province's departments
                and the merged communes (new codes) from 1 July; decisions received in late June
                are decided in July. Totals per unit and month (``unit_totals.csv``).
``province-week`` - a week of the province of 2026 (30 Nov - 4 Dec 2026): 2,400 dossiers over 9
                departments and 14 communes, with totals per unit and day.

Generation is seeded and streamed into bulk inserts (no per-row ORM objects), and happens
only when the portal store is empty, so a restart keeps the state.
"""

from __future__ import annotations

import csv
import json
import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from lienthong_standins.clock import VN_TZ
from lienthong_standins.district import (
    AGENCY_BY_CODE,
    DOCUMENT_TYPES,
    PROCEDURES,
    REORGANISED,
    Agency,
    Procedure,
    ascii_fold,
    dossier_code,
    make_person,
    offered_by_on,
    unit_weight,
)
from lienthong_standins.portal.desk import apply_due, desk_plan, receiver_for
from lienthong_standins.portal.dossiers import new_dossier, to_ms
from lienthong_standins.portal.files import describe, form_pdf
from lienthong_standins.portal.store import PortalStore, dossier_row
from lienthong_standins.worktime import PERIODS, add_working_days, working_days

YEAR_2022_PORTAL = 48_094
YEAR_2022_DISTRICT = 98_555
# Monthly shape (percent of the year). The link went live in March 2022, so the portal's share
# of the district's dossiers climbs over the year; the district's own volume dips at Tết.
PORTAL_MONTH_PCT = (4.0, 3.4, 6.6, 7.6, 8.3, 8.6, 9.0, 9.2, 9.3, 11.0, 11.4, 11.6)
DISTRICT_MONTH_PCT = (7.6, 6.2, 8.6, 8.2, 8.5, 8.4, 8.6, 8.5, 8.3, 8.9, 9.0, 9.2)
BYPASS_SHARE = 0.005


@dataclass(frozen=True)
class Scenario:
    name: str
    start: datetime  # where the simulated clock starts on a fresh data dir
    speed: float  # default clock speed for the command


SCENARIOS: dict[str, Scenario] = {
    "demo": Scenario("demo", datetime(2022, 12, 1, 7, 30, tzinfo=VN_TZ), 60.0),
    "demo-identities": Scenario(
        "demo-identities", datetime(2022, 12, 1, 7, 30, tzinfo=VN_TZ), 60.0
    ),
    "year-2022": Scenario("year-2022", datetime(2022, 1, 1, 0, 0, tzinfo=VN_TZ), 3600.0),
    "reorg-2025": Scenario("reorg-2025", datetime(2025, 6, 16, 7, 0, tzinfo=VN_TZ), 3600.0),
    "province-week": Scenario("province-week", datetime(2026, 11, 30, 7, 0, tzinfo=VN_TZ), 600.0),
}
#: (first day, day after the last, dossiers) of the scenarios of the province.
PROVINCE_SPANS: dict[str, tuple[date, date, int]] = {
    "reorg-2025": (date(2025, 6, 16), date(2025, 7, 12), 400),
    "province-week": (date(2026, 11, 30), date(2026, 12, 5), 2400),
}
#: The scenarios whose units are the province's (their routing is ``province_routing.yaml``).
PROVINCE_SCENARIOS = frozenset(PROVINCE_SPANS)


# --------------------------------------------------------------------------- pure helpers


def apportion(total: int, weights: tuple[float, ...] | list[float]) -> list[int]:
    """Split ``total`` in proportion to ``weights`` (largest remainder): the parts sum exactly."""
    s = sum(weights)
    raw = [total * w / s for w in weights]
    parts = [int(r) for r in raw]
    for i in sorted(range(len(raw)), key=lambda i: raw[i] - parts[i], reverse=True)[
        : total - sum(parts)
    ]:
        parts[i] += 1
    return parts


def work_instant(rng: random.Random, day: date, saturday: bool = False) -> datetime:
    """A random instant in office hours of ``day`` (mornings busier; Saturday = morning only)."""
    (m0, m1), (a0, a1) = PERIODS
    if saturday or rng.random() < 0.6:
        begin, end = m0, m1
    else:
        begin, end = a0, a1
    lo = begin.hour * 60 + begin.minute
    hi = end.hour * 60 + end.minute
    minute = rng.uniform(lo, hi)
    return datetime.combine(day, time(0), VN_TZ) + timedelta(minutes=minute)


def month_instants(rng: random.Random, year: int, month: int, n: int) -> list[datetime]:
    start = date(year, month, 1)
    end = date(year + (month == 12), month % 12 + 1, 1)
    days = working_days(start, end)
    saturdays = [
        d for d in (start + timedelta(i) for i in range((end - start).days)) if d.weekday() == 5
    ]
    out = []
    for _ in range(n):
        if saturdays and rng.random() < 0.03:
            out.append(work_instant(rng, rng.choice(saturdays), saturday=True))
        else:
            out.append(work_instant(rng, rng.choice(days)))
    return out


def day_instants(rng: random.Random, day: date, n: int) -> list[datetime]:
    return [work_instant(rng, day) for _ in range(n)]


def pick_agency(rng: random.Random, procedure: Procedure, day: date | None = None) -> Agency:
    """One of the units offering ``procedure`` on ``day`` (default: the district's of 2022)."""
    codes = procedure.offered_by if day is None else offered_by_on(procedure, day)
    return AGENCY_BY_CODE[rng.choices(codes, [unit_weight(c) for c in codes])[0]]


def object_id_at(rng: random.Random, at: datetime) -> str:
    """ObjectId shape: 4-byte timestamp then 8 random bytes."""
    return f"{int(at.timestamp()):08x}{rng.getrandbits(64):016x}"


def document_subject(procedure: Procedure, name: str) -> str:
    kind = DOCUMENT_TYPES.get(procedure.document_type or "", "Văn bản")
    return f"{kind} về việc {procedure.name[0].lower()}{procedure.name[1:]} cho ông/bà {name}"


# --------------------------------------------------------------------------- generation


def _arrivals(
    rng: random.Random, instants: list[datetime]
) -> list[tuple[datetime, Procedure, Agency]]:
    weights = [p.weight for p in PROCEDURES]
    picks = rng.choices(PROCEDURES, weights, k=len(instants))
    out = [(at, p, pick_agency(rng, p, at.date())) for at, p in zip(instants, picks, strict=True)]
    out.sort(key=lambda t: (t[0], t[2].code))
    return out


def _dossier(
    rng: random.Random,
    at: datetime,
    procedure: Procedure,
    agency: Agency,
    seq: int,
    now_ms: int,
    identities: bool = False,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    person = make_person(rng, agency, at.year)
    channel = rng.choices((1, 2, 3), (70, 28, 2))[0]
    applied = at - (
        timedelta(minutes=rng.uniform(2, 25))
        if channel == 1
        else timedelta(hours=rng.uniform(0.5, 40))
    )
    code = dossier_code(agency.code, at, seq)
    did = object_id_at(rng, at)
    forms = []
    for i, form in enumerate(procedure.forms):
        fid = f"{did[:16]}{i + 1:08x}"
        recipe = {
            "title": form,
            "lines": [f"Ma ho so: {code}", f"Nguoi nop: {person.fullname}", procedure.name[:90]],
        }
        size, sha = describe(form_pdf(recipe["title"], recipe["lines"]))
        forms.append(
            {
                "id": fid,
                "filename": f"{ascii_fold(form).replace(' ', '_').replace(',', '')}.pdf",
                "content_type": "application/pdf",
                "size": size,
                "sha256": sha,
                "data": None,
                "recipe": json.dumps(recipe, ensure_ascii=False),
                "dossier_id": did,
                "attached_to": None,
                "created_ms": to_ms(applied),
                "form": form,
            }
        )
    accepted_ms = to_ms(at)
    doc = new_dossier(
        id=did,
        code=code,
        procedure=procedure,
        agency=agency,
        applicant=person,
        applicant_type=2
        if procedure.sector in ("G09-KH01", "G09-CT01") and rng.random() < 0.3
        else 1,
        channel=channel,
        applied_ms=to_ms(applied),
        accepted_ms=accepted_ms,
        due_ms=to_ms(add_working_days(at, procedure.processing_days)),
        receiver=receiver_for(agency),
        form_files=forms,
    )
    if identities:
        _plant_identity(rng, doc, forms, person)
    plan = desk_plan(rng, at, procedure)
    doc, plan, _ = apply_due(
        doc, plan, now_ms, lambda t: t
    )  # whatever fell due before the clock's now
    for f in forms:
        del f["form"]
    return dossier_row(doc, accepted_ms=accepted_ms, plan=plan), forms


def _plant_identity(
    rng: random.Random, doc: dict[str, Any], forms: list[dict[str, Any]], person: Any
) -> None:
    """``demo-identities``: the applicant named in every free text, as desks and citizens do."""
    born = f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/{person.birth_year}"
    doc["applicant"]["data"]["birthday"] = born
    doc["summary"] = f"{person.fullname.upper()}, sinh ngày {born} - {doc['summary']}"[:500]
    if forms:
        forms[0]["filename"] = f"CCCD_{ascii_fold(person.fullname).replace(' ', '_')}.pdf"
        for entry in doc.get("dossierFormFile") or []:
            for file in entry.get("file") or []:
                if file.get("id") == forms[0]["id"]:
                    file["filename"] = forms[0]["filename"]


def generate(
    rng: random.Random,
    instants: list[datetime],
    now: datetime,
    identities: bool = False,
    arrivals: list[tuple[datetime, Procedure, Agency]] | None = None,
) -> Iterator[tuple[dict[str, Any], list[dict[str, Any]]]]:
    """Rows for the portal store: dossiers accepted at ``instants`` (or the given ``arrivals``), as
    they stand at ``now``."""
    now_ms = to_ms(now)
    seq: Counter[tuple[str, date]] = Counter()
    for at, procedure, agency in arrivals if arrivals is not None else _arrivals(rng, instants):
        seq[(agency.code, at.date())] += 1
        yield _dossier(
            rng, at, procedure, agency, seq[(agency.code, at.date())], now_ms, identities
        )


def write_totals(data_dir: Path, rows: list[tuple[str, int]]) -> Path:
    path = data_dir / "district_totals.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["period", "total"])
        w.writerows(rows)
    return path


def write_unit_totals(data_dir: Path, rows: list[tuple[str, str, int]]) -> Path:
    """All dossiers of each unit per period, on the portal or not (the province's denominators)."""
    path = data_dir / "unit_totals.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["unit", "period", "total"])
        w.writerows(rows)
    return path


def _province_load(
    name: str, rng: random.Random, portal: PortalStore, data_dir: Path, ioffice: Any
) -> dict[str, Any]:
    """The province's scenarios: arrivals over working days, per-unit totals (the portal's share
    about half of each unit's dossiers, as in 2022), a few bypass documents."""
    first, end, n = PROVINCE_SPANS[name]
    days = working_days(first, end)
    instants = sorted(
        work_instant(rng, day)
        for day, k in zip(days, apportion(n, [1.0] * len(days)), strict=True)
        for _ in range(k)
    )
    arrivals = _arrivals(rng, instants)
    period = (lambda d: f"{d:%Y-%m}") if (end - first).days > 7 else (lambda d: d.isoformat())
    counted = Counter((agency.code, period(at.date())) for at, _, agency in arrivals)
    ratio = YEAR_2022_DISTRICT / YEAR_2022_PORTAL
    units = sorted({unit for unit, _ in counted})
    periods = sorted({p for _, p in counted})  # every unit has a figure for every period, 0 too
    totals = [(u, p, round(counted[(u, p)] * ratio)) for u in units for p in periods]
    count = portal.insert_dossiers(generate(rng, [], portal.clock.now(), arrivals=arrivals))
    write_unit_totals(data_dir, totals)
    bypass = _bypass(ioffice, rng, sorted(rng.sample(instants, max(1, n // 200))))
    crossing = sum(
        1 for at, p, _ in arrivals if at.date() < REORGANISED and p.result_kind == "decision"
    )
    return {
        "scenario": name,
        "loaded": True,
        "dossiers": count,
        "units": len({a.code for _, _, a in arrivals}),
        "decisions_before_reorganisation": crossing if first < REORGANISED else 0,
        "bypass_documents": bypass,
    }


def _bypass(ioffice: Any, rng: random.Random, instants: list[datetime]) -> int:
    """iOffice documents that never came through the portal (the article's problem 5)."""
    if ioffice is None or not hasattr(ioffice, "add_bypass_document"):
        return 0
    decisions = [p for p in PROCEDURES if p.result_kind == "decision"]
    for at in instants:
        p = rng.choices(decisions, [d.weight for d in decisions])[0]
        agency = pick_agency(rng, p, at.date())
        person = make_person(rng, agency, at.year)
        ioffice.add_bypass_document(
            agency_code=agency.code,
            agency_name=agency.name,
            subject=document_subject(p, person.fullname),
            document_type=p.document_type or "QĐ",
            created_at=at,
        )
    return len(instants)


def burst_size(name: str) -> int | None:
    """``burst-N``: N dossiers arriving over the demo's working day (benchmarks, load tests)."""
    if name.startswith("burst-") and name[6:].isdigit():
        return int(name[6:])
    return None


def scenario_for(name: str) -> Scenario:
    if burst_size(name) is not None:
        return Scenario(name, SCENARIOS["demo"].start, 0.0)
    if name not in SCENARIOS:
        raise ValueError(f"unknown scenario {name!r} (known: {', '.join(SCENARIOS)}, burst-N)")
    return SCENARIOS[name]


def load(
    name: str, portal: PortalStore, data_dir: Path, seed: int, ioffice: Any = None
) -> dict[str, Any]:
    """Fill an empty store with scenario ``name``; a store with dossiers is left as it is."""
    if burst_size(name) is None and name not in SCENARIOS:
        raise ValueError(f"unknown scenario {name!r} (known: {', '.join(SCENARIOS)})")
    if not portal.is_empty():
        return {"scenario": name, "loaded": False}
    rng = random.Random(f"{name}:{seed}")
    if name in PROVINCE_SPANS:
        return _province_load(name, rng, portal, data_dir, ioffice)
    now = portal.clock.now()
    if name in ("demo", "demo-identities") or burst_size(name) is not None:
        day = SCENARIOS["demo"].start.date()
        instants = day_instants(rng, day, burst_size(name) or 300)
        totals = [(day.isoformat(), round(len(instants) * YEAR_2022_DISTRICT / YEAR_2022_PORTAL))]
        bypass_at = day_instants(rng, day, 5)
    else:
        instants = []
        for month, n in enumerate(apportion(YEAR_2022_PORTAL, PORTAL_MONTH_PCT), start=1):
            instants += month_instants(rng, 2022, month, n)
        district = apportion(YEAR_2022_DISTRICT, DISTRICT_MONTH_PCT)
        totals = [(f"2022-{m:02d}", n) for m, n in enumerate(district, start=1)] + [
            ("2022", YEAR_2022_DISTRICT)
        ]
        n_bypass = round(YEAR_2022_PORTAL * BYPASS_SHARE)
        bypass_at = []
        for month, n in enumerate(apportion(n_bypass, PORTAL_MONTH_PCT), start=1):
            bypass_at += month_instants(rng, 2022, month, n)
    count = portal.insert_dossiers(
        generate(rng, instants, now, identities=name == "demo-identities")
    )
    write_totals(data_dir, totals)
    bypass = _bypass(ioffice, rng, sorted(bypass_at))
    return {"scenario": name, "loaded": True, "dossiers": count, "bypass_documents": bypass}
