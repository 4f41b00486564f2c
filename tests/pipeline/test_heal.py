"""Quarantine that heals itself: items whose cause has passed are taken up again without a person;
causes only a person can fix wait for their configuration to change; people are told."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from lienthong.clients.http import RetryPolicy
from lienthong.clients.portal import PortalClient
from lienthong.domain.vocabulary import DossierStatus
from lienthong.pipeline import heal as healing
from lienthong.pipeline import intake, results
from lienthong.pipeline.quarantine_causes import RECHECK_BY_REASON, Recheck, config_kind
from lienthong.store.schema import DossierLink, DossierTimeSavings, Quarantine
from lienthong_standins.portal.store import SearchFilters
from lienthong_standins.routing import demo_routing
from tests.conftest import on_store

from .invariants import check, ioffice_docs_by_dossier
from .test_crash import Crash
from .test_flow import CTX, HOUR, run_intake

pytestmark = pytest.mark.scenario("burst-60")  # each heal needs a few dossiers, not the demo's 300

MALFORMED = [{"endpoint": "/pa/dossier", "kind": "malformed", "rate": 0.1}]
LATER = timedelta(minutes=6)  # past the first backoff step


def now() -> datetime:
    return datetime.now(UTC)


def decision_dossiers(standins) -> list[dict]:
    found, _ = standins.portal_store.search(SearchFilters(), 0, 10_000, False)
    return [
        d for d in found if any(t.get("mustAttachResultsFile") for t in d.get("currentTask") or [])
    ]


def unlinked_decisions(standins) -> list[str]:
    """Decision dossiers still at status 2 on the portal, never sent to iOffice."""
    docs = ioffice_docs_by_dossier(standins)
    return [
        d["code"]
        for d in decision_dossiers(standins)
        if d["dossierStatus"]["id"] == DossierStatus.ACCEPTED and docs[d["code"]] == 0
    ]


def open_records(res) -> list[Quarantine]:
    with res.session() as session:
        return list(session.scalars(select(Quarantine).where(Quarantine.status == "open")))


def test_malformed_window_heals_after_one_recheck(standins, res):
    standins.faults("portal", MALFORMED, seed=5)
    standins.advance(10 * HOUR)
    run_intake(res)
    intake.complete_pending(res, CTX)
    standins.faults("portal", [])  # the glitch is gone; the cursor has moved past those dossiers
    run_intake(res)
    before = unlinked_decisions(standins)
    assert before, "the fault window left no decision dossier behind: the test proves nothing"

    open_before = len(open_records(res))
    summary = healing.heal(res, CTX, now=now() + LATER)
    print(
        f"heal: {open_before} open records and {len(before)} unlinked decision dossiers "
        f"before one re-check; {summary.healed} healed, {len(open_records(res))} open and "
        f"{len(unlinked_decisions(standins))} unlinked after"
    )

    assert summary.healed == summary.checked > 0 and summary.still_open == 0
    assert unlinked_decisions(standins) == []
    assert all(n == 1 for n in ioffice_docs_by_dossier(standins).values())
    assert open_records(res) == []
    with res.session() as session:
        healed = list(session.scalars(select(Quarantine).where(Quarantine.status == "resolved")))
    by_heal = [q for q in healed if q.resolution.startswith(healing.HEALED_VI)]
    assert len(by_heal) == summary.healed and {q.heal_attempts for q in by_heal} == {1}
    check(standins, res.engine)
    assert healing.heal(res, CTX, now=now() + LATER).checked == 0  # nothing left to do


def test_not_due_before_its_backoff_and_attempts_are_bounded(standins, res):
    standins.faults("portal", MALFORMED, seed=5)
    standins.advance(10 * HOUR)
    run_intake(res)
    assert healing.heal(res, CTX, now=now()).checked == 0  # first attempt only after 5 minutes
    t = now()
    for attempt, delay in enumerate(healing.BACKOFF, start=1):  # the fault never clears
        t += delay + timedelta(seconds=1)
        summary = healing.heal(res, CTX, now=t)
        assert summary.checked == summary.still_open > 0
        assert {q.heal_attempts for q in open_records(res)} == {attempt}
    assert (
        healing.heal(res, CTX, now=t + timedelta(days=30)).checked == 0
    )  # spent: a person decides
    with res.session() as session:
        people = healing.needs_person(session, t)
    assert {p.why for p in people} == {"exhausted"} and len(people) == len(open_records(res))


@on_store("sqlite")  # the other heal tests run on both
def test_bad_result_heals_when_the_document_is_served_correctly(standins, res):
    standins.advance(10 * HOUR)
    run_intake(res)
    standins.advance(24 * HOUR)
    standins.faults(
        "ioffice",
        [
            {
                "endpoint": "/api/lienthong/LayGoiTinVanBan",
                "kind": "bad_result",
                "rate": 1.0,
                "variant": "tampered",
            }
        ],
    )  # every document served tampered
    results.process_packages(res, CTX)
    recs = open_records(res)
    assert recs and {r.reason_code for r in recs} == {"tampered"}
    assert healing.heal(res, CTX, now=now() + LATER).still_open == len(recs)  # still served broken
    standins.faults("ioffice", [])  # iOffice serves the genuine files again
    summary = healing.heal(res, CTX, now=now() + timedelta(hours=1))
    assert summary.healed == len(recs) and open_records(res) == []
    with res.session() as session:
        links = {
            r.item_key: session.scalar(
                select(DossierLink).where(DossierLink.ioffice_doc_id == r.item_key)
            )
            for r in recs
        }
        savings = Counter(session.scalars(select(DossierTimeSavings.dossier_code)).all())
    for link in links.values():
        assert link.attached_at is not None
        assert savings[link.dossier_code] == 1
        assert len(standins.portal_store.get(link.dossier_id)["attachment"]) == 1
    results.process_packages(res, CTX)
    check(standins, res.engine)


def _without_unit(routing, procedure: str, agency: str):
    procs = dict(routing.procedures)
    units = {k: v for k, v in procs[procedure].units.items() if k != agency}
    procs[procedure] = procs[procedure].model_copy(update={"units": units})
    return routing.model_copy(update={"procedures": procs})


def test_no_route_waits_for_the_routing_to_change(standins, res):
    standins.advance(10 * HOUR)
    first = next(d for d in decision_dossiers(standins))
    full = demo_routing()
    res.routing = _without_unit(full, first["procedure"]["code"], first["agency"]["code"])
    run_intake(res)
    recs = [q for q in open_records(res) if q.reason_code == "no_route"]
    assert recs and recs[0].config_fingerprint is not None
    for days in (1, 3, 10):  # no timer re-checks it
        assert healing.heal(res, CTX, now=now() + timedelta(days=days)).checked == 0
    with (
        res.session() as session
    ):  # a person is told at once (past its due date, or no attempt left)
        assert {p.quarantine_id for p in healing.needs_person(session, now())} >= {
            r.id for r in recs
        }
    res.routing = full  # an operator adds the unit to the routing Variable
    summary = healing.heal(res, CTX, now=now())
    assert summary.healed == len(recs) and summary.checked == len(recs)
    assert first["code"] in ioffice_docs_by_dossier(standins)
    check(standins, res.engine)


def test_crash_between_reread_and_resolution_then_run_again(standins, res, monkeypatch):
    standins.faults("portal", MALFORMED, seed=5)
    standins.advance(10 * HOUR)
    run_intake(res)
    standins.faults("portal", [])
    expected = len(open_records(res))
    assert expected

    def die(*_args, **_kwargs):
        raise Crash("after the re-read, before the record was updated")

    monkeypatch.setattr(healing, "_account", die)
    with pytest.raises(Crash):
        healing.heal(res, CTX, now=now() + LATER)
    monkeypatch.undo()
    summary = healing.heal(res, CTX, now=now() + LATER)
    assert (
        summary.checked == len(open_records(res)) + summary.healed
    )  # what the crash left open is re-checked
    assert open_records(res) == []
    assert all(n == 1 for n in ioffice_docs_by_dossier(standins).values())
    intake.complete_pending(res, CTX)
    check(standins, res.engine)


def test_outage_fails_the_run_without_counting_an_attempt(standins, res):
    standins.faults("portal", MALFORMED, seed=5)
    standins.advance(10 * HOUR)
    run_intake(res)
    standins.faults("portal", [{"endpoint": "/pa", "kind": "5xx", "rate": 1.0}])
    res.portal.close()
    res.portal = PortalClient(replace(res.portal.settings, retry=RetryPolicy(attempts=1)))
    with pytest.raises(healing.RecheckFailed):
        healing.heal(res, CTX, now=now() + LATER)
    assert {q.heal_attempts for q in open_records(res)} == {0}


def test_reason_table_covers_every_reason_the_link_emits():
    emitted = {
        "missing_field",
        "invalid_field",
        "broken_date",
        "unknown_procedure",
        "no_route",
        "not_routed",
        "oversized",
        "not_pdf",
        "no_trust_roots",
        "unsigned",
        "invalid_signature",
        "tampered",
        "untrusted",
        "not_entire_file",
        "invalid",
    }
    assert emitted <= set(RECHECK_BY_REASON)
    assert config_kind("no_route") == Recheck.ROUTING
    assert config_kind("untrusted") == Recheck.TRUST_ROOTS
    assert config_kind("tampered") is None
