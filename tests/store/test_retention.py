"""Quarantine records keep a dossier's content only while a step needs it: resolved ones at once,
open ones after the retention period; a purged record can still be replayed. Every other free text
the record of processing lists (subjects, error texts, package events, settled national bodies) is
thinned after the period, the audit log never."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from lienthong.clients.national import NationalClient
from lienthong.pipeline import replay
from lienthong.store.engine import get_engine
from lienthong.store.retention import KEPT_KEYS, PURGED_MARK, purge_payloads, thin_personal_data
from lienthong.store.schema import (
    BypassDocument,
    DossierExtension,
    DossierLink,
    LinkEvent,
    NationalSyncItem,
    Quarantine,
    ReconcileFinding,
    ResultVersion,
)
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


def _seed_free_text(session, long_ago: datetime) -> None:
    """One of every row the record of processing lists as holding free text, all old."""
    session.add(
        DossierExtension(
            dossier_code="D1",
            new_due_at=long_ago,
            reason="Gia hạn: chờ ông Nguyễn Văn An bổ sung",
            seen_at=long_ago,
        )
    )
    session.add(
        ResultVersion(
            dossier_code="D1",
            ioffice_doc_id="V0",
            revoked_at=long_ago,
            change_reason="Sai tên Nguyễn Văn An",
            revoked_after_return=False,
        )
    )
    base = {
        "agency_code": "000.30.07.H36",
        "agency_name": "UBND xã",
        "procedure_code": "1.000001",
        "procedure_name": "Thủ tục",
        "state_changed_at": long_ago,
        "portal_status": 4,
        "portal_updated_at": long_ago,
        "payload_hash": "h",
        "created_at": long_ago,
    }
    session.add_all(
        [
            DossierLink(
                dossier_id="d1",
                dossier_code="C-1",
                state="issued",
                doc_subject="Quyết định cấp phép cho ông NGUYỄN VĂN AN",
                last_error="RequestRejected (status 422): chủ hồ sơ [họ tên] chưa xác thực",
                **base,
            ),
            BypassDocument(
                ioffice_doc_id="B1",
                doc_subject="Quyết định cho bà Trần Thị Bình",
                found_at=long_ago,
                found_by="reconcile",
            ),
            ReconcileFinding(
                run_id="r",
                found_at=long_ago,
                kind="bypass",
                detail={"code_notation": "1/QĐ", "subject": "cho bà Trần Thị Bình"},
            ),
            LinkEvent(
                dossier_code="C-1",
                at=long_ago,
                kind="package_trace",
                detail={
                    "doc_id": "V1",
                    "subject": "cho ông An",
                    "files": [{"name": "KQ_An.pdf", "size": 9}],
                },
            ),
            LinkEvent(
                dossier_code="C-1",
                at=long_ago,
                kind="push_failed",
                detail={"error": "RequestRejected (status 422): chủ hồ sơ [họ tên]"},
            ),
            LinkEvent(
                dossier_code="C-1",
                at=long_ago,
                kind="operator_action",
                detail={"actor": "op", "action": "replay", "reason": "ông An gọi điện"},
            ),
        ]
    )
    record = {
        "MaHoSo": "C-1",
        "ChuHoSo": "Nguyễn Văn An",
        "TaiLieuNop": [{"TenTepDinhKem": "CCCD_Nguyen_Van_An.pdf"}],
    }
    for seq, state in ((1, "sent"), (2, "pending")):
        session.add(
            NationalSyncItem(
                dossier_code="C-1",
                seq=seq,
                kind="record",
                item_key=f"record:{seq}",
                agency_code="000.30.07.H36",
                body=record,
                digest="d",
                state=state,
                local_at=long_ago,
                queued_at=long_ago,
                attempts=0,
            )
        )


def test_retention_thins_free_text_and_leaves_the_audit_log_and_pending_bodies(store_url):
    engine = get_engine(store_url)
    now = datetime.now(UTC)
    with Session(engine) as session, session.begin():
        _seed_free_text(session, now - timedelta(days=91))
    with Session(engine) as session, session.begin():
        assert thin_personal_data(session, now, 100, NationalClient.settled_body).as_dict() == {
            "link_subjects": 0,
            "link_errors": 0,
            "bypass_subjects": 0,
            "findings": 0,
            "events": 0,
            "outbox_bodies": 1,  # a settled body is thinned whatever its age
            "change_reasons": 0,
        }
    with Session(engine) as session, session.begin():
        report = thin_personal_data(session, now, 90, NationalClient.settled_body)
    assert report.as_dict() == {
        "link_subjects": 1,
        "link_errors": 1,
        "bypass_subjects": 1,
        "findings": 1,
        "events": 2,
        "outbox_bodies": 0,
        "change_reasons": 2,
    }
    with Session(engine) as session:
        link = session.scalar(select(DossierLink))
        assert link.doc_subject == "[đã xoá]" and link.last_error == "RequestRejected (status 422)"
        assert session.scalar(select(BypassDocument.doc_subject)) == "[đã xoá]"
        assert session.scalar(select(DossierExtension.reason)) == "[đã xoá]"
        assert session.scalar(select(ResultVersion.change_reason)) == "[đã xoá]"
        assert session.scalar(select(ReconcileFinding.detail)) == {
            "code_notation": "1/QĐ",
            "subject": "[đã xoá]",
        }
        events = {e.kind: e.detail for e in session.scalars(select(LinkEvent))}
        assert events["package_trace"] == {
            "doc_id": "V1",
            "subject": "[đã xoá]",
            "files": [{"size": 9}],
        }
        assert events["push_failed"] == {"error": "RequestRejected (status 422)"}
        assert events["operator_action"]["reason"] == "ông An gọi điện"  # audit: never touched
        bodies = {i.state: i.body for i in session.scalars(select(NationalSyncItem))}
        assert "Nguyễn Văn An" not in str(bodies["sent"]) and "Nguyen_Van_An" not in str(
            bodies["sent"]
        )
        assert bodies["pending"]["ChuHoSo"] == "Nguyễn Văn An"  # still to be sent: needed
    with Session(engine) as session, session.begin():  # a second run finds nothing left to do
        assert set(
            thin_personal_data(session, now, 90, NationalClient.settled_body).as_dict().values()
        ) == {0}
