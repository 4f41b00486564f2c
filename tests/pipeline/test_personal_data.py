"""Personal data kept only while needed (Decree 13/2023, ``docs/personal-data.md``).

The demo day is run with the applicant's identity planted in every free text the three systems
send (scenario ``demo-identities`` and the iOffice behaviour ``echo_identities``): the dossier's
summary with the name in upper case and the birthday, a birthday field, form files and result
files named after the applicant (``CCCD_Nguyen_Van_A.pdf``), decision subjects naming them, and
error bodies echoing them. After the flows, reconciliation and the retention run, no name (as
written, in upper case, ASCII-folded), identity number, phone, e-mail or birthday is in any text
column of any table of the store, nor in the link's logs; and the report reads the same figures
before and after retention.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import MetaData, select

from lienthong.clients.national import NationalClient
from lienthong.domain.masking import ascii_fold
from lienthong.reconcile.findings import reconcile
from lienthong.report.figures import by_agency, by_month, by_procedure, headline
from lienthong.report.national_figures import sync_figures
from lienthong.store.retention import purge_payloads, thin_personal_data
from lienthong.store.schema import LinkEvent
from lienthong_standins.district import DISTRICT_CHAIR, DISTRICT_VICE_CHAIR, STAFF
from lienthong_standins.ioffice.store import Document
from lienthong_standins.portal.store import dossiers
from tests.conftest import on_store

from .test_flow import CTX
from .test_national_sync import drive_with_sync, sync_until_idle

DAY, END = date(2022, 12, 1), date(2022, 12, 31)
MALFORMED = [
    {"endpoint": "/pa/dossier", "kind": "malformed", "variant": "broken_date", "rate": 0.05},
    {"endpoint": "/pa/dossier", "kind": "malformed", "variant": "invalid_field", "rate": 0.05},
]
NAMED_IN_SUBJECT = re.compile(r"cho ông/bà (.+)$")


def _fold(text: str) -> str:
    return ascii_fold(text).casefold()


def _officials(raws: list[dict[str, Any]]) -> set[str]:
    """Officials' names are work records, kept; an applicant who shares one cannot be told apart."""
    names = {DISTRICT_CHAIR.name, DISTRICT_VICE_CHAIR.name}
    for staff in STAFF.values():
        names |= {staff.head.name, *(o.name for o in staff.handlers.values())}
    for raw in raws:
        names |= {str(t.get("NguoiXuLy")) for t in raw.get("task") or []}
    return {_fold(n) for n in names}


def planted(standins) -> tuple[set[str], set[str]]:
    """(names, other identity values) the systems hold and sent: every applicant on the portal,
    and every person a bypass document in iOffice names."""
    with standins.portal_store.engine.connect() as conn:
        raws = [json.loads(doc) for doc in conn.scalars(select(dossiers.c.doc))]
    names: set[str] = set()
    values: set[str] = set()
    for raw in raws:
        data = raw["applicant"]["data"]
        names.add(data["fullname"])
        values |= {
            str(data[k])
            for k in ("identityNumber", "phoneNumber", "email", "birthday")
            if data.get(k)
        }
    with standins.ioffice_store._session() as s:  # bypass decisions name people the portal lacks
        for subject in s.scalars(select(Document.subject)):
            if match := NAMED_IN_SUBJECT.search(subject):
                names.add(match.group(1))
    officials = _officials(raws)
    return {n for n in names if _fold(n) not in officials}, values


def finder(names: set[str], values: set[str]) -> re.Pattern[str]:
    """One pattern over ASCII-folded, case-folded text: every name in any case or spelling, its
    words joined by spaces, underscores, dots or hyphens (``CCCD_Nguyen_Van_A.pdf``), and every
    other value whole."""
    forms = {r"[\s_.\-]+".join(re.escape(w) for w in _fold(n).split()) for n in names}
    forms |= {re.escape(_fold(v)) for v in values}
    return re.compile(
        r"(?<![^\W_])(?:" + "|".join(sorted(forms, key=len, reverse=True)) + r")(?![^\W_])"
    )


def store_text(engine) -> dict[str, str]:
    """Every text and JSON value of every table, read generically (reflection), per table."""
    meta = MetaData()
    meta.reflect(engine)
    out: dict[str, str] = {}
    with engine.connect() as conn:
        for table in meta.sorted_tables:
            parts: list[str] = []
            for row in conn.execute(select(table)):
                for value in row:
                    if isinstance(value, str):
                        parts.append(value)
                    elif isinstance(value, (dict, list)):
                        parts.append(json.dumps(value, ensure_ascii=False))
            out[table.name] = "\n".join(parts)
    return out


def found_in(pattern: re.Pattern[str], texts: dict[str, str]) -> dict[str, list[str]]:
    hits = {name: sorted(set(pattern.findall(_fold(text)))) for name, text in texts.items()}
    return {name: found[:5] for name, found in hits.items() if found}


def figures(engine) -> dict[str, Any]:
    """Everything the report and the dashboard's figures read."""
    return {
        "headline": headline(engine, DAY, END),
        "by_month": by_month(engine, DAY, END).to_json(orient="records"),  # NaN-safe
        "by_agency": by_agency(engine, DAY, END).to_json(orient="records"),  # NaN-safe
        "by_procedure": by_procedure(engine, DAY, END).to_json(orient="records"),  # NaN-safe
        "national": sync_figures(engine, DAY, END, by="agency"),
        "national_total": sync_figures(engine, DAY, END),
    }


@on_store("sqlite")  # a long flow; the store's SQL is the same on both backends
@pytest.mark.scenario("demo-identities")
def test_no_identity_left_after_retention(standins, nres, caplog):
    caplog.set_level(logging.DEBUG)
    standins.behaviour("ioffice", echo_identities=True)
    standins.faults("portal", MALFORMED, seed=5)
    drive_with_sync(standins, nres, days=1)
    standins.faults("portal", [])
    sync_until_idle(nres)
    reconcile(nres, CTX, DAY - timedelta(days=3), DAY + timedelta(days=10), repair=False)

    names, values = planted(standins)
    pattern = finder(names, values)
    before = store_text(nres.engine)
    # The check has teeth: the systems did send identities where the link keeps free text.
    assert len(names) > 250 and values
    kept_for_now = found_in(pattern, before)
    assert {"dossier_link", "bypass_document", "reconcile_finding"} <= set(kept_for_now)
    with nres.session() as session:  # error bodies that echoed the applicant were kept masked
        errors = session.scalars(
            select(LinkEvent.detail).where(LinkEvent.kind == "push_failed")
        ).all()
    assert errors and all(
        e["error"].startswith("RemoteRefused (status 422) from /api/lienthong/GuiHoSo: ")
        and len(e["error"]) < 200
        for e in errors
    ), errors[:3]
    figures_before = figures(nres.engine)
    assert figures_before["headline"]["dossiers_linked"] > 50

    later = datetime.now(UTC) + timedelta(seconds=1)
    with nres.session() as session:
        purge_payloads(session, later, 0)
        report = thin_personal_data(session, later, 0, NationalClient.settled_body)
    assert report.link_subjects and report.bypass_subjects and report.events and report.findings

    assert found_in(pattern, store_text(nres.engine)) == {}
    ours = "\n".join(
        r.getMessage()
        for r in caplog.records
        if r.name.startswith("lienthong") and not r.name.startswith("lienthong_standins")
    )
    assert found_in(pattern, {"logs": ours}) == {}
    assert figures(nres.engine) == figures_before
