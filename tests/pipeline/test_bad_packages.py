"""The bad-input corpus, iOffice side (issue 9): every broken package envelope and every bad signed
PDF the iOffice stand-in can serve is refused with its own reason (the variant's name) and a
Vietnamese message, quarantined and never attached, while the good packages of the same batch
are attached once and counted once; no applicant identity reaches the logs.

One shared world (a day of intake, the office's work done) keeps the file fast: each kind gets
its own issued packages, chosen with the stand-in's own keyed roll so the kind's batch holds
both bad and good ones, then runs with its fault on (a keyed rate, the variant named), twice,
and replays the quarantined ones once the fault is off.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from typing import Any

import pytest
import requests
from sqlalchemy import select

from lienthong.pipeline import replay, results
from lienthong.store.schema import DossierLink, Quarantine
from lienthong_standins.faults import (
    BAD_PACKAGE_VARIANTS,
    BAD_RESULT_VARIANTS,
    FaultConfig,
    FaultInjector,
    FaultRule,
)
from lienthong_standins.harness import Standins, make_resources, start_standins

from .invariants import check
from .test_flow import CTX, HOUR, run_intake

GET_PKG = "/api/lienthong/LayGoiTinVanBan"
SEED, RATE = 21, 0.3
BAD_EACH, GOOD_EACH = 2, 2
KINDS = [("bad_package", v) for v in BAD_PACKAGE_VARIANTS] + [
    ("bad_result", v) for v in BAD_RESULT_VARIANTS
]
IDENTITY_KEYS = ("fullname", "identityNumber", "phoneNumber", "email")


def rule(kind: str, variant: str) -> dict[str, Any]:
    return {"endpoint": GET_PKG, "kind": kind, "rate": RATE, "variant": variant}


def admin_documents(s: Standins) -> dict[str, dict[str, Any]]:
    docs = requests.get(f"{s.ioffice_root}/_admin/documents", timeout=30).json()["documents"]
    return {d["MaVanBan"]: d for d in docs}


@dataclass
class World:
    standins: Standins
    res: Any
    batches: dict[str, list[str]]  # variant -> the issued packages (MaVanBan) its case handles
    spare: list[str]  # issued packages no case handles
    setup_log: str
    tmp: Any


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.buffer = io.StringIO()

    def emit(self, record: logging.LogRecord) -> None:
        self.buffer.write(self.format(record) + "\n")


def _batches(pending: list[str]) -> tuple[dict[str, list[str]], list[str]]:
    """For each kind, issued packages the fault will damage and others it will spare (the same keyed
    roll as the stand-in's), none shared between kinds; and the packages left over."""
    free, out = list(pending), {}
    for kind, variant in KINDS:
        local = FaultInjector()
        local.configure(FaultConfig(seed=SEED, rules=[FaultRule(**rule(kind, variant))]))
        bad = [m for m in free if local.pick(GET_PKG, kind, key=m)][:BAD_EACH]
        good = [m for m in free if m not in bad and not local.pick(GET_PKG, kind, key=m)][
            :GOOD_EACH
        ]
        assert len(bad) == BAD_EACH and len(good) == GOOD_EACH, (
            f"not enough issued packages left for {variant}"
        )
        out[variant] = sorted(bad + good)
        free = [m for m in free if m not in out[variant]]
    return out, free


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("bad-packages")
    collect = _Collect()
    root = logging.getLogger()
    level = root.level
    root.addHandler(collect)
    root.setLevel(logging.INFO)
    server, s = start_standins(tmp / "standins")
    res = make_resources(s, f"sqlite:///{tmp}/store.sqlite")
    try:
        s.advance(10 * HOUR)
        run_intake(res)  # a morning's dossiers pushed to iOffice
        s.advance(
            5 * 24 * HOUR
        )  # the office drafts, signs and issues them (Thu 10:00 -> Tue 10:00)
        pending = sorted(
            m
            for m, d in admin_documents(s).items()
            if any(p["state"] == "pending" and p["LoaiKetQua"] == "01" for p in d["packages"])
        )
        yield World(s, res, *_batches(pending), collect.buffer.getvalue(), tmp)
    finally:
        root.removeHandler(collect)
        root.setLevel(level)
        res.close()
        server.stop()


def _run_kind(world: World, kind: str, variant: str, caplog) -> None:
    caplog.set_level(logging.INFO)
    s, res, batch = world.standins, world.res, world.batches[variant]
    s.faults("ioffice", [rule(kind, variant)], seed=SEED)
    try:
        first = results.process_packages(res, CTX, batch)
        again = results.process_packages(res, CTX, batch)  # delivered again: nothing new may happen
        docs = admin_documents(s)
    finally:
        s.faults("ioffice", [])
    served = {m: docs[m][f"{kind}_served"] for m in batch if docs[m][f"{kind}_served"]}
    assert set(served.values()) == {variant} and len(served) == BAD_EACH, served
    assert first == {"packages": len(batch), "quarantined": BAD_EACH, "attached": GOOD_EACH}, first
    assert again == {"packages": len(batch), "quarantined": BAD_EACH, "already_done": GOOD_EACH}, (
        again
    )

    with res.session() as session:
        links = {
            m: session.scalar(select(DossierLink).where(DossierLink.ioffice_doc_id == m))
            for m in batch
        }
        records = {
            q.item_key: q
            for q in session.scalars(select(Quarantine).where(Quarantine.item_key.in_(batch)))
        }
    assert set(records) == set(served), "exactly the bad packages are quarantined"
    portal = {r["code"]: r for r in s.portal_store.results_view()}
    attached_digests = {a["sha256"] for r in portal.values() for a in r["attachments"]}
    for m in batch:
        link, attachments = links[m], portal[links[m].dossier_code]["attachments"]
        if m in served:
            q = records[m]
            assert (q.source, q.reason_code, q.status) == ("ioffice_package", variant, "open")
            assert q.reason_vi.strip() and q.detail.strip() and q.occurrences == 2
            assert link.state == "quarantined" and link.attached_at is None and attachments == []
            # Neither the genuine file nor what was served reached any dossier (code_mismatch: not
            # the dossier the package wrongly names either).
            assert {docs[m]["sha256"], q.payload["sha256"]}.isdisjoint(attached_digests)
        else:
            assert link.attached_at is not None and [a["sha256"] for a in attachments] == [
                docs[m]["sha256"]
            ]
    snap = check(s, res.engine)
    assert not {links[m].dossier_code for m in served} & snap.attached_codes

    # The sender fixed it: a replay attaches the genuine file, once, and counts it once.
    outcomes = [replay.replay(res, CTX, records[m].id) for m in sorted(served)]
    assert {o.status for o in outcomes} == {"resolved"}, outcomes
    snap = check(s, res.engine)
    assert {links[m].dossier_code for m in served} <= snap.attached_codes
    portal = {r["code"]: r for r in s.portal_store.results_view()}
    assert all(
        [a["sha256"] for a in portal[links[m].dossier_code]["attachments"]] == [docs[m]["sha256"]]
        for m in served
    )

    identities = {
        str(v)
        for link in links.values()
        for k, v in s.portal_store.get(link.dossier_id)["applicant"]["data"].items()
        if k in IDENTITY_KEYS and v
    }
    assert identities, "the dossiers carried no personal data: the log check proves nothing"
    logged = caplog.text + world.setup_log
    assert [v for v in identities if v in logged] == []


@pytest.mark.parametrize("variant", BAD_PACKAGE_VARIANTS)
def test_bad_package_kind(world, variant, caplog):
    _run_kind(world, "bad_package", variant, caplog)


@pytest.mark.parametrize("variant", BAD_RESULT_VARIANTS)
def test_bad_result_kind(world, variant, caplog):
    _run_kind(world, "bad_result", variant, caplog)


def test_every_kind_is_in_the_corpus(world):
    assert len(KINDS) == len(set(v for _, v in KINDS)) == 18
    assert all(len(b) == BAD_EACH + GOOD_EACH for b in world.batches.values())


def test_a_package_contradicting_itself_is_not_adopted(world):
    """A package whose link the store lacks (a push answer lost) is adopted by its dossier code,
    unless its correlation names another dossier: then nothing is adopted, attached or counted."""
    s, doc_id = world.standins, world.spare[0]
    fresh = make_resources(s, f"sqlite:///{world.tmp}/fresh-store.sqlite")  # knows no link at all
    before = s.portal_store.results_view()
    s.faults("ioffice", [{**rule("bad_package", "code_mismatch"), "rate": 1.0}], seed=SEED)
    try:
        handled = results.handle_package(fresh, CTX, doc_id)
    finally:
        s.faults("ioffice", [])
        with fresh.session() as session:
            links = session.scalars(select(DossierLink)).all()
            (q,) = session.scalars(select(Quarantine)).all()
        fresh.close()
    assert handled == "quarantined" and links == []
    assert (q.item_key, q.reason_code, q.dossier_code) == (
        doc_id,
        "code_mismatch",
        None,
    ) and q.reason_vi
    assert s.portal_store.results_view() == before
