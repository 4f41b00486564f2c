"""``personal_data_retention`` through ``dag.test()``: the retention Variable decides which open
quarantine records lose their stored dossier (resolved ones lose it whatever their age) and which
decision subjects are thinned."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from lienthong.domain.states import QuarantineStatus
from lienthong.store.engine import get_engine
from lienthong.store.retention import PURGED_MARK
from lienthong.store.schema import BypassDocument, LinkEvent, Quarantine
from tests.conftest import on_store


def _record(key: str, age_days: int, status: str = QuarantineStatus.OPEN) -> Quarantine:
    seen = datetime.now(UTC) - timedelta(days=age_days)
    return Quarantine(
        source="portal_dossier",
        item_key=key,
        dossier_code=f"000.30.07.H36-221201-{key}",
        reason_code="broken_date",
        reason_vi="Ngày tháng không hợp lệ",
        detail="acceptedDate",
        payload={"dossier": {"id": key, "summary": "giữ tạm"}},
        status=status,
        occurrences=1,
        first_seen_at=seen,
        last_seen_at=seen,
        heal_attempts=0,
    )


def _bypass(doc_id: str, age_days: int) -> BypassDocument:
    return BypassDocument(
        ioffice_doc_id=doc_id,
        doc_subject="Quyết định cho ông Nguyễn Văn An",
        found_at=datetime.now(UTC) - timedelta(days=age_days),
        found_by="reconcile",
    )


@on_store("sqlite")
def test_retention_dag_purges_by_the_variable(dagbag, linked_airflow, store_url, monkeypatch):
    engine = get_engine(store_url)
    with Session(engine) as s, s.begin():
        s.add_all(
            [
                _record("0001", 40),
                _record("0002", 20),
                _record("0003", 1, QuarantineStatus.RESOLVED),
                _bypass("B40", 40),
                _bypass("B20", 20),
            ]
        )
    monkeypatch.setenv("AIRFLOW_VAR_LIENTHONG_PERSONAL_DATA_RETENTION_DAYS", "30")
    assert str(dagbag.get_dag("personal_data_retention").test().state) == "success"
    with Session(engine) as s:
        purged = {q.item_key: PURGED_MARK in q.payload for q in s.scalars(select(Quarantine))}
        subjects = dict(
            s.execute(select(BypassDocument.ioffice_doc_id, BypassDocument.doc_subject)).all()
        )
        events = [
            e.detail
            for e in s.scalars(select(LinkEvent).where(LinkEvent.kind == "personal_data_purged"))
        ]
    assert purged == {"0001": True, "0002": False, "0003": True}
    assert subjects == {"B40": "[đã xoá]", "B20": "Quyết định cho ông Nguyễn Văn An"}
    assert events == [
        {
            "resolved": 1,
            "expired": 1,
            "retention_days": 30,
            "link_subjects": 0,
            "link_errors": 0,
            "bypass_subjects": 1,
            "findings": 0,
            "events": 0,
            "outbox_bodies": 0,
            "change_reasons": 0,
        }
    ]
