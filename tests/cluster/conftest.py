"""A whole distributed Airflow (CeleryExecutor, two workers, triggerer, dag-processor, api-server,
PostgreSQL metadata, Redis broker) with the stand-ins, on fresh databases per test."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import psycopg2
import psycopg2.extras
import pytest
import redis
import sqlalchemy as sa

from lienthong_devstack.cluster import Cluster, ClusterConfig, free_port
from lienthong_devstack.services import drop_database
from lienthong_standins.remote import RemoteStandins
from tests.conftest import PG_ADMIN_URL, ROOT, _pg_available

# Only the two link DAGs may touch the stand-ins while the test counts effects.
OTHER_DAGS = ("dossier_reconcile", "savings_report", "dossier_backfill")


def cluster_config(tmp_path, scenario: str, tuning: dict[str, str], **kw: Any) -> ClusterConfig:
    uid = uuid.uuid4().hex[:8]
    return ClusterConfig(
        root=ROOT,
        var=tmp_path / "cluster",
        ui_port=free_port(),
        portal_port=free_port(),
        ioffice_port=free_port(),
        national_port=free_port(),
        pg_admin_url=PG_ADMIN_URL,
        metadata_db=f"lienthong_ci_af_{uid}",
        store_db=f"lienthong_ci_store_{uid}",
        redis_url="redis://127.0.0.1:6379/2",
        queue=f"lienthong-ci-{uid}",
        scenario=scenario,
        speed=0.0,
        fresh=True,
        paused_dags=OTHER_DAGS,
        tuning=tuning,
        **kw,
    )


def run_cluster(cfg: ClusterConfig) -> Iterator[Cluster]:
    cluster = Cluster(cfg)
    try:
        cluster.prepare()
        cluster.start_airflow()
        yield cluster
    finally:
        cluster.stop()
        for name in (cfg.metadata_db, cfg.store_db):
            try:
                drop_database(cfg.pg_admin_url, name)
            except sa.exc.DBAPIError:  # a failed start may have left the server unreachable
                pass
        _drop_queue(cfg)


def _drop_queue(cfg: ClusterConfig) -> None:
    r = redis.Redis.from_url(cfg.redis_url)
    for key in r.scan_iter(f"*{cfg.queue}*"):
        r.delete(key)


class Metadata:
    """Read-only looks at Airflow's metadata database (task instances, triggers, jobs)."""

    def __init__(self, url: str):
        self.conn = psycopg2.connect(url.replace("postgresql+psycopg2", "postgresql"))
        self.conn.autocommit = True

    def rows(self, sql: str, *args: Any) -> list[dict[str, Any]]:
        with self.conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
            cur.execute(sql, args)
            return [dict(r) for r in cur.fetchall()]

    def close(self) -> None:
        self.conn.close()


def remote_standins(cfg: ClusterConfig) -> RemoteStandins:
    return RemoteStandins(cfg.portal_url, cfg.ioffice_root, cfg.national_root)


@pytest.fixture
def pg_required():
    if not _pg_available():
        pytest.fail("PostgreSQL at 127.0.0.1:5432 is required for the cluster test")
