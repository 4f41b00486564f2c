"""``national_sync`` and the national findings of ``dossier_reconcile`` through ``dag.test()``, with
the Connection ``lienthong_dvcqg`` aimed at the national stand-in."""

from __future__ import annotations

import requests
from sqlalchemy import func, select

from lienthong.store.engine import get_engine
from lienthong.store.schema import NationalSyncItem, ReconcileFinding
from tests.conftest import on_store

HOUR = 3600


@on_store("postgres")  # a long flow: production's backend (the pipeline tests cover both)
def test_national_sync_dag_then_reconcile_findings(dagbag, linked_airflow, store_url, monkeypatch):
    standins = linked_airflow
    monkeypatch.setenv("AIRFLOW_VAR_LIENTHONG_NATIONAL_SYNC", '{"late_after_minutes": 30}')
    standins.advance(10 * HOUR)
    assert str(dagbag.get_dag("dossier_intake").test().state) == "success"
    sync = dagbag.get_dag("national_sync")
    assert str(sync.test().state) == "success"
    held = requests.get(f"{standins.national_root}/_admin/records", timeout=30).json()
    visible = standins.portal_store.stats()["dossiers"]["visible"]
    assert len(held) == visible > 100
    engine = get_engine(store_url)
    with engine.connect() as c:
        queued = c.scalar(select(func.count()).select_from(NationalSyncItem))
    assert str(sync.test().state) == "success"  # a second run sends nothing again
    with engine.connect() as c:
        assert c.scalar(select(func.count()).select_from(NationalSyncItem)) == queued
        assert (
            c.scalar(
                select(func.count())
                .select_from(NationalSyncItem)
                .where(NationalSyncItem.state != "sent")
            )
            == 0
        )
    # the national side loses one dossier; changes wait 2 hours to be synced: all three findings
    lost = held[0]["MaHoSo"]
    requests.delete(
        f"{standins.national_root}/_admin/records/{lost}", timeout=10
    ).raise_for_status()
    standins.advance(2 * HOUR)
    assert str(dagbag.get_dag("dossier_intake").test().state) == "success"
    standins.advance(2 * HOUR)
    assert str(dagbag.get_dag("national_sync").test().state) == "success"
    assert (
        str(dagbag.get_dag("dossier_reconcile").test(run_conf={"repair": False}).state) == "success"
    )
    with engine.connect() as c:
        kinds = dict(
            c.execute(
                select(ReconcileFinding.kind, func.count()).group_by(ReconcileFinding.kind)
            ).all()
        )
        differs = c.scalars(
            select(ReconcileFinding.dossier_code).where(
                ReconcileFinding.kind == "national_status_differs"
            )
        ).all()
    assert kinds.get("synced_late", 0) > 0
    assert lost in differs
    # reconciliation with repair queues the lost dossier again; the next sync restores it whole
    assert (
        str(dagbag.get_dag("dossier_reconcile").test(run_conf={"repair": True}).state) == "success"
    )
    assert str(dagbag.get_dag("national_sync").test().state) == "success"
    held = {
        r["MaHoSo"]: r
        for r in requests.get(f"{standins.national_root}/_admin/records", timeout=30).json()
    }
    with engine.connect() as c:
        steps = c.scalar(
            select(func.count())
            .select_from(NationalSyncItem)
            .where(NationalSyncItem.dossier_code == lost, NationalSyncItem.kind == "step")
        )
        unsent = c.scalar(
            select(func.count())
            .select_from(NationalSyncItem)
            .where(
                NationalSyncItem.dossier_code == lost,
                NationalSyncItem.state != "sent",
                NationalSyncItem.kind == "step",
            )
        )
    assert lost in held and len(held[lost]["TienDo"]) == steps > 0 and unsent == 0
