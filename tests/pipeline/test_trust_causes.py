"""Trust causes split (issue 22): a CRL the CA published late (stale, ``nextUpdate`` past) is a
transient cause of its own, re-checked on the timer and healed once the CRL is fresh again; a
signer no trust root vouches for stays ``untrusted``, a permanent cause the timer never re-checks.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from reportlab.pdfgen import canvas
from sqlalchemy import select

from lienthong.domain.states import LinkState
from lienthong.pipeline import heal as healing
from lienthong.pipeline import results
from lienthong.pipeline.quarantine_causes import Recheck, config_kind, rechecks
from lienthong.pipeline.verify_result import verify_signed_pdf
from lienthong.store.schema import DossierLink, DossierTimeSavings, Quarantine
from lienthong_standins.ioffice.ca import load_or_create_cas
from lienthong_standins.ioffice.pdf import sign_pdf
from tests.conftest import on_store

from .invariants import check
from .test_flow import CTX, HOUR, run_intake

MAX = 10 * 1024 * 1024
LATER = timedelta(minutes=6)  # past the first backoff step
UNTRUSTED_RULE = {
    "endpoint": "/api/lienthong/LayGoiTinVanBan",
    "kind": "bad_result",
    "rate": 1.0,
    "variant": "untrusted",
}


def now() -> datetime:
    return datetime.now(UTC)


def small_pdf() -> bytes:
    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    c.drawString(72, 720, "Quyet dinh so 12/QD-UBND")
    c.save()
    return buf.getvalue()


def test_a_stale_crl_is_its_own_transient_cause(tmp_path):
    ca = load_or_create_cas(tmp_path).trusted_ca  # keys made in memory: a fast test
    pdf = sign_pdf(small_pdf(), ca.signer("hiennt.tckh", "Nguyễn Thu Hiền"))
    roots = ca.ca_cert_pem.decode()
    v = verify_signed_pdf(pdf, roots, MAX, crls=[ca.crl_der(stale=True)])
    assert (v.ok, v.reason_code) == (False, "revocation_unavailable"), v
    assert "thu hồi (CRL)" in v.message_vi and "tự kiểm tra lại" in v.message_vi
    assert rechecks("revocation_unavailable") == {Recheck.TIMER}
    assert config_kind("revocation_unavailable") is None
    assert verify_signed_pdf(pdf, roots, MAX, crls=[ca.crl_der()]).ok  # fresh again: accepted


def test_an_untrusted_root_stays_untrusted_whatever_the_crl(tmp_path):
    cas = load_or_create_cas(tmp_path)
    pdf = sign_pdf(small_pdf(), cas.untrusted)
    roots = cas.trusted_ca.ca_cert_pem.decode()
    for crl in (cas.trusted_ca.crl_der(stale=True), cas.trusted_ca.crl_der()):
        v = verify_signed_pdf(pdf, roots, MAX, crls=[crl])
        assert (v.ok, v.reason_code) == (False, "untrusted"), v
    assert rechecks("untrusted") == {Recheck.TRUST_ROOTS}  # never the timer


def _open(res) -> list[Quarantine]:
    with res.session() as session:
        return list(session.scalars(select(Quarantine).where(Quarantine.status == "open")))


def _issued(standins, res) -> list[str]:
    """A morning's dossiers pushed to iOffice, and a day of office work: a few of the packages
    waiting (verifying every one would only slow the test)."""
    standins.advance(10 * HOUR)
    run_intake(res)
    standins.advance(24 * HOUR)
    return res.ioffice.pending_doc_ids()[:8]


@pytest.mark.scenario("burst-60")
@on_store("sqlite")  # the heal tests run on both stores; this one adds a cause, not a store path
def test_stale_crl_quarantines_transiently_and_heals_when_fresh(standins, res):
    batch = _issued(standins, res)
    standins.behaviour("ioffice", stale_crl=True)  # the CA publishes its CRL late
    results.process_packages(res, CTX, batch)
    recs = _open(res)
    assert recs and {r.reason_code for r in recs} == {"revocation_unavailable"}
    assert all(healing.next_attempt_at(r) is not None for r in recs)  # the timer will re-check

    still = healing.heal(res, CTX, now=now() + LATER)  # re-checked while still stale: kept open
    assert still.checked == still.still_open == len(recs) and still.healed == 0

    standins.behaviour("ioffice", stale_crl=False)  # the CA publishes a fresh CRL
    summary = healing.heal(res, CTX, now=now() + timedelta(days=1))
    assert summary.healed == len(recs) and _open(res) == []
    with res.session() as session:
        for rec in recs:
            link = session.scalar(
                select(DossierLink).where(DossierLink.ioffice_doc_id == rec.item_key)
            )
            assert link.state == LinkState.ATTACHED and link.attached_at is not None
            assert len(standins.portal_store.get(link.dossier_id)["attachment"]) == 1
            savings = session.scalars(
                select(DossierTimeSavings).where(
                    DossierTimeSavings.dossier_code == link.dossier_code
                )
            ).all()
            assert len(savings) == 1
    check(standins, res.engine)


@pytest.mark.scenario("burst-60")
@on_store("sqlite")
def test_untrusted_root_is_permanent_and_not_rechecked_by_the_timer(standins, res):
    batch = _issued(standins, res)
    standins.faults("ioffice", [UNTRUSTED_RULE])  # every result signed under an unknown CA
    standins.behaviour("ioffice", stale_crl=True)  # a late CRL too: the root decides the cause
    results.process_packages(res, CTX, batch)
    recs = _open(res)
    assert recs and {r.reason_code for r in recs} == {"untrusted"}
    assert all(healing.next_attempt_at(r) is None for r in recs)
    standins.faults("ioffice", [])
    standins.behaviour("ioffice", stale_crl=False)
    for days in (1, 3, 10):  # however long it waits, the timer never re-checks it
        assert healing.heal(res, CTX, now=now() + timedelta(days=days)).checked == 0
    assert {r.id for r in _open(res)} == {r.id for r in recs}
    with res.session() as session:  # a person is told at once
        assert {p.quarantine_id for p in healing.needs_person(session, now())} >= {
            r.id for r in recs
        }
