"""Quarantine records keep a dossier's content only while a step needs it: resolved ones at once,
open ones after the retention period; a purged record can still be replayed."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from lienthong.pipeline import replay
from lienthong.store.retention import KEPT_KEYS, PURGED_MARK, purge_payloads
from lienthong.store.schema import Quarantine
from tests.conftest import on_store
from tests.pipeline.invariants import check
from tests.pipeline.test_flow import CTX, HOUR, run_intake

MALFORMED = [
    {"endpoint": "/pa/dossier", "kind": "malformed", "variant": "broken_date", "rate": 0.2}
]


def _records(res) -> list[Quarantine]:
    with res.session() as session:
        return list(session.scalars(select(Quarantine).order_by(Quarantine.id)))


@on_store("postgres")
def test_resolved_and_expired_records_keep_only_lookup_keys(standins, res):
    standins.faults("portal", MALFORMED, seed=3)
    standins.advance(10 * HOUR)
    run_intake(res)
    records = _records(res)
    assert len(records) >= 4 and all("dossier" in q.payload for q in records)
    legacy, old, recent, replayed = records[0], records[1], records[2], records[3]

    now = datetime.now(UTC)
    legacy_raw = standins.portal_store.get(
        legacy.item_key
    )  # as versions before 0.4 stored it: whole
    with res.session() as session:
        session.get(Quarantine, legacy.id).payload = {"dossier": legacy_raw}
        session.get(Quarantine, legacy.id).first_seen_at = now - timedelta(days=200)
        session.get(Quarantine, old.id).first_seen_at = now - timedelta(days=91)
        session.get(Quarantine, recent.id).first_seen_at = now - timedelta(days=89)

    standins.faults("portal", [])
    assert replay.replay(res, CTX, replayed.id).status == "resolved"
    resolved = {q.id: q for q in _records(res)}[replayed.id]
    assert (
        PURGED_MARK in resolved.payload and "dossier" not in resolved.payload
    )  # resolved: purged at once

    with res.session() as session:
        report = purge_payloads(session, now, retention_days=90)
    assert (report.resolved, report.expired) == (0, 2)  # the legacy record and the 91-day one
    after = {q.id: q for q in _records(res)}
    for q in (after[legacy.id], after[old.id]):
        assert set(q.payload) <= {*KEPT_KEYS, PURGED_MARK} and q.status == "open"
        assert q.item_key and q.reason_code and q.detail  # what an operator needs to act is kept
    assert "dossier" in after[recent.id].payload  # 89 days: still within the period
    identity = legacy_raw["applicant"]["data"]
    stored = json.dumps(after[legacy.id].payload, ensure_ascii=False)
    assert identity["fullname"] not in stored and identity["identityNumber"] not in stored

    with res.session() as session:  # a second run finds nothing left to do
        assert purge_payloads(session, now, retention_days=90).total == 0
    # A purged record is still replayable: the replay reads the dossier again from the portal.
    assert replay.replay(res, CTX, legacy.id).status == "resolved"
    check(standins, res.engine)
