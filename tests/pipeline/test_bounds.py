"""Bounds before memory (issue 22): hostile answers cost the link at most a cap, never their own
size, and end as a specific refusal instead of a failed task.

A 300 MB result package (streamed by the iOffice stand-in from a generator, so the rig never holds
it either) and a package nested 50,000 deep are handled by the real results step in a process of
its own, whose peak RSS is compared with its peak after a genuine package; both are quarantined
with their reasons. A portal search page nested 50,000 deep, or larger than the client's cap, is
refused and read again (no ``RecursionError``). Signature validation has a time cap.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import requests
from sqlalchemy import select

from lienthong.clients import http
from lienthong.clients.errors import MalformedAnswer
from lienthong.clients.http import RetryPolicy
from lienthong.clients.portal import PortalClient, PortalSettings
from lienthong.pipeline.quarantine_causes import Recheck, rechecks
from lienthong.pipeline.verify_result import ExpectedSigner, verify_signed_pdf
from lienthong.store.schema import DossierLink, Quarantine
from lienthong_standins.faults import FaultConfig, FaultInjector, FaultRule
from lienthong_standins.harness import CLIENT_ID, CLIENT_SECRET
from lienthong_standins.ioffice.ca import load_or_create_cas
from lienthong_standins.ioffice.pdf import sign_pdf
from tests.conftest import on_store

from .invariants import check
from .test_bad_dossiers import quarantined
from .test_flow import HOUR, run_intake
from .test_verify_result import small_pdf

pytestmark = pytest.mark.scenario("burst-60")  # a few issued packages are all it takes

ROOT = Path(__file__).resolve().parents[2]
GET_PKG = "/api/lienthong/LayGoiTinVanBan"
SEARCH = "/pa/dossier/search"
SEED = 22
HUGE_MB = 300
MEMORY_BOUND_MIB = 100


def _rules() -> list[dict]:
    """The two hostile packages, each on its own keyed share of the issued packages."""
    return [
        {"endpoint": GET_PKG, "kind": "bad_package", "variant": v, "rate": 0.3, "size_mb": HUGE_MB}
        for v in ("oversized_package", "too_deep")
    ]


def _pick(pending: list[str]) -> tuple[str, str, str]:
    """A package the ``oversized_package`` rule serves, one the ``too_deep`` rule serves, and a
    genuine one: the stand-in's own keyed roll, predicted."""
    local = FaultInjector()
    local.configure(FaultConfig(seed=SEED, rules=[FaultRule(**r) for r in _rules()]))
    served = {m: local.pick(GET_PKG, "bad_package", key=m) for m in pending}
    variant = {m: rule.variant if rule else None for m, rule in served.items()}
    huge = next(m for m in pending if variant[m] == "oversized_package")
    deep = next(m for m in pending if variant[m] == "too_deep")
    warm = next(m for m in pending if variant[m] is None)
    return huge, deep, warm


def _issued_pending(standins) -> list[str]:
    docs = requests.get(f"{standins.ioffice_root}/_admin/documents", timeout=30).json()
    return sorted(
        d["MaVanBan"]
        for d in docs["documents"]
        if any(p["state"] == "pending" and p["LoaiKetQua"] == "01" for p in d["packages"])
    )


@on_store("sqlite")  # the bound is the client's; the store only records the refusals
def test_a_huge_and_a_deep_package_are_quarantined_in_bounded_memory(standins, res, store_url):
    standins.advance(10 * HOUR)
    run_intake(res)  # the day's dossiers pushed to iOffice
    standins.advance(5 * 24 * HOUR)  # drafted, signed and issued
    huge, deep, warm = _pick(_issued_pending(standins))
    standins.faults("ioffice", _rules(), seed=SEED)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT / "include"), str(ROOT / "rig"), str(ROOT)]),
        "LT_PORTAL": standins.portal_url,
        "LT_IOFFICE": standins.ioffice_url,
        "LT_STORE": store_url,
        "LT_WARM": warm,
        "LT_DOCS": f"{huge},{deep}",
    }
    done = subprocess.run(
        [sys.executable, str(Path(__file__).with_name("bounds_worker.py"))],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    standins.faults("ioffice", [])
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    grown_mib = (report["peak_kib"] - report["baseline_kib"]) / 1024
    print(
        f"\nresults step RSS: baseline {report['baseline_kib'] / 1024:.1f} MiB, peak "
        f"{report['peak_kib'] / 1024:.1f} MiB (+{grown_mib:.1f} MiB) for a {HUGE_MB} MB package "
        f"and a 50,000-deep one (ru_maxrss {report['ru_maxrss_before_kib'] / 1024:.1f} -> "
        f"{report['ru_maxrss_after_kib'] / 1024:.1f} MiB)"
    )
    assert report["warm"] == {"packages": 1, "attached": 1}, report
    assert report["counts"] == {"packages": 2, "quarantined": 2}, report
    assert grown_mib < MEMORY_BOUND_MIB, report

    with res.session() as session:
        records = {q.item_key: q for q in session.scalars(select(Quarantine))}
        links = {
            m: session.scalar(select(DossierLink).where(DossierLink.ioffice_doc_id == m))
            for m in (huge, deep)
        }
    assert {m: records[m].reason_code for m in (huge, deep)} == {
        huge: "oversized_package",
        deep: "too_deep",
    }
    for m in (huge, deep):
        q = records[m]
        assert (q.source, q.status, q.dossier_code) == (
            "ioffice_package",
            "open",
            links[m].dossier_code,
        )
        assert q.reason_vi.startswith("Gói tin kết quả") and q.detail
        assert links[m].state == "quarantined" and links[m].attached_at is None
    assert "read stopped at the cap" in records[huge].detail
    assert "nested deeper than 64" in records[deep].detail
    assert rechecks("oversized_package") == rechecks("too_deep") == {Recheck.TIMER}
    check(standins, res.engine)


@on_store("sqlite")
def test_a_deep_portal_page_is_refused_and_read_again(standins, res):
    standins.faults(
        "portal",
        [{"endpoint": SEARCH, "kind": "bad_page", "variant": "too_deep", "rate": 0.3}],
        seed=4,
    )
    standins.advance(10 * HOUR)
    counts = run_intake(res)
    assert standins.stats().get("bad_page", 0) > 0, "the fault never fired"
    assert quarantined(res) == {}
    visible = standins.portal_store.stats()["dossiers"]["visible"]
    assert counts["fetched"] == counts["new"] == visible, counts  # nothing lost, nothing twice

    # Served every time: a malformed answer (retried, then the run fails), never RecursionError.
    standins.faults(
        "portal", [{"endpoint": SEARCH, "kind": "bad_page", "variant": "too_deep", "rate": 1.0}]
    )
    with pytest.raises(http.AnswerTooDeep) as refused:
        res.portal.search({"page": 0, "size": 5})
    assert isinstance(refused.value, MalformedAnswer)
    standins.faults("portal", [])
    check(standins, res.engine)


def test_an_oversized_portal_page_is_refused_at_the_cap(standins):
    """A page past the client's byte cap is refused as malformed (read again, then the run fails),
    after reading no more than the cap of it."""
    standins.faults(
        "portal", [{"endpoint": SEARCH, "kind": "bad_page", "variant": "oversized", "size_mb": 64}]
    )
    portal = PortalClient(
        PortalSettings(
            base_url=standins.portal_url,
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            timeout=10.0,
            retry=RetryPolicy(attempts=2, backoff=0.01, backoff_max=0.02),
            max_answer_bytes=2 * 1024 * 1024,
        )
    )
    try:
        with pytest.raises(http.AnswerTooLarge) as refused:
            portal.search({"page": 0, "size": 5})
    finally:
        portal.close()
        standins.faults("portal", [])
    assert isinstance(refused.value, MalformedAnswer) and refused.value.limit == 2 * 1024 * 1024


# -- the time cap on signature validation ------------------------------------------------------

SIGNER = ExpectedSigner(account="hiennt.tckh", name="Nguyễn Thu Hiền")


@pytest.fixture(scope="module")
def signed(tmp_path_factory) -> SimpleNamespace:
    ca = load_or_create_cas(tmp_path_factory.mktemp("ca")).trusted_ca
    return SimpleNamespace(
        pdf=sign_pdf(small_pdf(), ca.signer(SIGNER.account, SIGNER.name)),
        roots=ca.ca_cert_pem.decode(),
        crl=ca.crl_der(),
    )


@pytest.mark.fast
def test_a_validation_past_its_time_cap_is_refused_and_rechecked(signed):
    """pyHanko has no time cap of its own: the link's refuses a file whose check outlasts it (a
    real validation cannot finish in no time) with its own reason, re-checked on the timer."""

    def verify(limit: float):
        return verify_signed_pdf(
            signed.pdf,
            signed.roots,
            12 * 1024 * 1024,
            crls=(signed.crl,),
            expected_signer=SIGNER,
            time_limit=limit,
        )

    assert verify(60.0).ok
    late = verify(0.0)
    assert (late.ok, late.reason_code) == (False, "verify_timeout")
    assert "quá thời gian" in late.message_vi and "abandoned" in late.detail
    assert rechecks("verify_timeout") == {Recheck.TIMER}
