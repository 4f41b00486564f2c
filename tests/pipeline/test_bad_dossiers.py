"""The portal half of the bad-input corpus (docs/bad-inputs.md): every kind of broken dossier or
broken search page the portal can send, fed through the real HTTP path.

A broken dossier is quarantined with its own reason code (the fault variant's name), the rest of the
batch is linked, nothing is pushed or counted twice, no applicant's identity reaches the logs, and a
replay once the portal sends it correctly resolves it. A broken page is refused and read again:
nothing is quarantined, lost or doubled.
"""

from __future__ import annotations

import json
import logging
import re

import pytest
import requests
from sqlalchemy import func, select

from lienthong.pipeline import replay
from lienthong.store.ledger import count_by_state
from lienthong.store.schema import DossierLink, Quarantine
from lienthong_standins.faults import BAD_PAGE_VARIANTS, MALFORMED_VARIANTS
from lienthong_standins.portal.malform import REQUIRED_FIELDS
from tests.conftest import on_store

from .invariants import check, ioffice_docs_by_dossier
from .test_flow import CTX, HOUR, run_intake

IDENTITY_KEYS = ("fullname", "identityNumber", "phoneNumber", "email", "address")
# More damaged dossiers where the variant chooses among several damages, so each one is met.
RATES = {
    "missing_field": 0.5,
    "wrong_type": 0.3,
    "invalid_field": 0.3,
    "control_characters": 0.3,
    "markup_in_text": 0.3,
    "bad_dossier_code": 0.3,
}


def served_malformed(standins) -> dict[str, str]:
    return requests.get(f"{standins.portal_url}/_admin/results", timeout=30).json()[
        "malformed_served"
    ]


def identities(standins, dossier_ids) -> set[str]:
    """The applicants' names, ID numbers, phones… of these dossiers, as the portal holds them."""
    out: set[str] = set()
    officials: set[str] = (
        set()
    )  # staff names in the steps are work records, kept; an applicant may share one
    for dossier_id in dossier_ids:
        raw = standins.portal_store.get(dossier_id)
        out |= {
            str(v)
            for k, v in raw["applicant"]["data"].items()
            if k in IDENTITY_KEYS and v and len(str(v)) > 3
        }
        officials |= {str(t.get("NguoiXuLy")) for t in raw.get("task") or []}
    return out - officials


def quarantined(res) -> dict[str, Quarantine]:
    with res.session() as session:
        return {
            q.item_key: q
            for q in session.scalars(
                select(Quarantine).where(Quarantine.source == "portal_dossier")
            )
        }


def assert_no_identity_in(text: str, idents: set[str]) -> None:
    assert idents, "the damaged dossiers carried no personal data: the check proves nothing"
    # whole values only: an applicant "Lê Ngọc Huy" is not leaked by a kept official "Lê Ngọc Huyền"
    leaked = sorted(v for v in idents if re.search(rf"(?<!\w){re.escape(v)}(?!\w)", text))
    assert leaked == [], f"personal data in logs: {len(leaked)} values"


pytestmark = [
    on_store("sqlite"),  # the store does not matter here; crash and fault tests cover PostgreSQL
    pytest.mark.scenario("burst-100"),
]  # each damage is met on 100 dossiers as on the demo's 300


@pytest.mark.parametrize("variant", MALFORMED_VARIANTS)
def test_bad_dossier_kind(standins, res, caplog, variant):
    caplog.set_level(logging.DEBUG)
    standins.faults(
        "portal",
        [
            {
                "endpoint": "/pa/dossier",
                "kind": "malformed",
                "variant": variant,
                "rate": RATES.get(variant, 0.15),
            }
        ],
        seed=3,
    )
    standins.advance(10 * HOUR)
    counts = run_intake(res)

    served = served_malformed(standins)
    assert served and set(served.values()) == {variant}
    q = quarantined(res)
    assert {k: v.reason_code for k, v in q.items() if k in served} == served, (
        "each damaged dossier, its own reason"
    )
    assert set(q) == set(served), "only the damaged dossiers are quarantined"
    assert all(v.reason_vi and v.status == "open" for v in q.values())
    assert counts["quarantined"] == len(served) and counts["new"] == counts["fetched"] - len(served)
    with res.session() as session:  # none of them linked, none pushed
        assert not session.scalar(
            select(func.count()).select_from(DossierLink).where(DossierLink.dossier_id.in_(served))
        )
    codes = {standins.portal_store.get(i)["code"] for i in served}
    assert not codes & set(ioffice_docs_by_dossier(standins))
    if variant == "missing_field":  # every required field was met missing at least once
        assert {re.split(r"[.:]", v.detail)[0] for v in q.values()} == set(REQUIRED_FIELDS)
    stored = json.dumps(
        [[v.detail, v.reason_vi, v.payload] for v in q.values()], ensure_ascii=False
    )
    assert_no_identity_in(
        caplog.text + stored, identities(standins, served)
    )  # not in logs, not kept
    check(standins, res.engine)

    standins.faults("portal", [])  # the portal sends them correctly again: a replay links each once
    assert {replay.replay(res, CTX, v.id).status for v in q.values()} == {"resolved"}
    with res.session() as session:
        assert (
            sum(count_by_state(session).values())
            == standins.portal_store.stats()["dossiers"]["visible"]
        )
    check(standins, res.engine)


def test_bad_dossier_kind_code_changed(standins, res):
    """A dossier linked under one code and later served under another is held, not linked twice."""
    standins.advance(10 * HOUR)
    run_intake(res)
    with res.session() as session:
        linked = dict(
            session.execute(select(DossierLink.dossier_id, DossierLink.dossier_code)).all()
        )
    standins.faults(
        "portal",
        [{"endpoint": "/pa/dossier", "kind": "malformed", "variant": "code_changed", "rate": 0.5}],
        seed=3,
    )
    standins.advance(12 * HOUR)
    run_intake(res)
    changed = [i for i in served_malformed(standins) if i in linked]
    assert changed, "no linked dossier was served again with another code"
    q = quarantined(res)
    assert all(q[i].reason_code == "code_changed" and linked[i] in q[i].reason_vi for i in changed)
    with res.session() as session:  # still one link per dossier, under its first code
        rows = dict(
            session.execute(
                select(DossierLink.dossier_id, DossierLink.dossier_code).where(
                    DossierLink.dossier_id.in_(changed)
                )
            ).all()
        )
    assert rows == {i: linked[i] for i in changed}
    check(standins, res.engine)


@pytest.mark.parametrize("variant", BAD_PAGE_VARIANTS)
def test_bad_page_kind(standins, res, variant):
    standins.faults(
        "portal",
        [{"endpoint": "/pa/dossier/search", "kind": "bad_page", "variant": variant, "rate": 0.3}],
        seed=4,
    )
    standins.advance(10 * HOUR)
    counts = run_intake(res)
    assert standins.stats().get("bad_page", 0) > 0, "the fault never fired"
    assert quarantined(res) == {}
    visible = standins.portal_store.stats()["dossiers"]["visible"]
    # none lost to a skipping page, none read (or pushed) twice because of a repeating one
    assert counts["fetched"] == counts["new"] == visible, counts
    assert not counts.get("unchanged") and not counts.get("transferred_existing"), counts
    with res.session() as session:
        assert sum(count_by_state(session).values()) == visible
    check(standins, res.engine)
