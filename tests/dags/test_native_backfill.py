"""Native ``airflow backfill create`` on ``dossier_intake`` with a real scheduler and API server:
past intervals are re-pulled, their dossiers linked once, and a second backfill duplicates
nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lienthong.store import claims
from lienthong.store.engine import get_engine
from lienthong.store.ledger import RunContext, set_cursor
from lienthong.store.schema import DossierLink
from lienthong_standins.harness import start_standins
from lienthong_standins.portal.store import SearchFilters
from lienthong_standins.serve import free_port
from tests.cluster.conftest import Metadata
from tests.conftest import ROOT, pg_database
from tests.dags.conftest import connections_env
from tests.pipeline.invariants import check

AIRFLOW = str(Path(sys.executable).with_name("airflow"))
VN = "+07:00"


def _wait(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(1)
    raise AssertionError(f"timed out waiting for {what}")


def _ms(text: str) -> int:
    dt = datetime.fromisoformat(text)
    return int((dt if dt.tzinfo else dt.replace(tzinfo=UTC)).timestamp() * 1000)


class BackfillMetadata(Metadata):
    """The backfills of ``dossier_intake``, read from Airflow's metadata database."""

    def run_states(self) -> list[str]:
        return [
            r["state"]
            for r in self.rows(
                "SELECT state FROM dag_run WHERE dag_id='dossier_intake' AND run_type='backfill'"
            )
        ]

    def runs_finished(self, count: int, at_least: bool = False) -> bool:
        states = self.run_states()
        enough = len(states) >= count if at_least else len(states) == count
        return enough and all(s in ("success", "failed") for s in states)

    def second_done(self) -> bool:
        row = self.rows(
            "SELECT COUNT(*) AS total, COUNT(*) FILTER (WHERE state IN ('success','failed')) AS "
            "done "
            "FROM dag_run WHERE dag_id='dossier_intake' AND run_type='backfill' AND clear_number > "
            "0"
        )[0]
        return bool(row["total"]) and row["total"] == row["done"]

    def backfills_completed(self) -> bool:
        return (
            self.rows("SELECT COUNT(*) AS open FROM backfill WHERE completed_at IS NULL")[0]["open"]
            == 0
        )


@pytest.fixture
def airflow_stack(tmp_path):
    """Stand-ins, a store, and Airflow (API server + scheduler, LocalExecutor) over a PostgreSQL
    metadata database, as in production: a scheduler and CLI commands writing one SQLite file at
    once meet lock timeouts (a backfill half-created by a locked ``backfill create``)."""
    server, standins = start_standins(tmp_path / "standins")
    home = tmp_path / "airflow"
    home.mkdir()
    port = free_port()
    store_url = f"sqlite:///{tmp_path}/store.sqlite"
    with pg_database("lienthong_test_af") as metadata_url:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
        env.update(
            {
                "AIRFLOW_HOME": str(home),
                "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
                "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                "AIRFLOW__CORE__PARALLELISM": "4",
                "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": metadata_url,
                "AIRFLOW__API__PORT": str(port),
                "AIRFLOW__API__BASE_URL": f"http://localhost:{port}",
                "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://localhost:{port}/execution/",
                "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
                "PYTHONPATH": str(ROOT),
                **connections_env(standins, store_url, tmp_path / "trust.pem"),
            }
        )

        def run(*args: str) -> str:
            done = subprocess.run([AIRFLOW, *args], env=env, capture_output=True, text=True)
            assert done.returncode == 0, f"airflow {args[0]} failed: {done.stderr[-2000:]}"
            return done.stdout

        run("db", "migrate")
        run("dags", "reserialize")
        pools = {
            pool: {"slots": 4, "description": "lienthong"}
            for pool in ("lienthong_portal", "lienthong_ioffice")
        }
        (tmp_path / "pools.json").write_text(json.dumps(pools))
        run("pools", "import", str(tmp_path / "pools.json"))
        # Only intake runs may touch the stand-ins and the store: every other DAG paused, in one
        # command.
        run("dags", "pause", "--treat-dag-id-as-regex", "-y", "^(?!dossier_intake$)")
        metadata = BackfillMetadata(metadata_url)
        logs = [open(home / f"{name}.log", "a") for name in ("api", "scheduler")]
        procs = [
            subprocess.Popen(
                [AIRFLOW, "api-server", "--port", str(port)],
                env=env,
                stdout=logs[0],
                stderr=subprocess.STDOUT,
                start_new_session=True,
            ),
            subprocess.Popen(
                [AIRFLOW, "scheduler"],
                env=env,
                stdout=logs[1],
                stderr=subprocess.STDOUT,
                start_new_session=True,
            ),
        ]

        def api_up() -> bool:
            try:
                return requests.get(f"http://localhost:{port}/api/v2/monitor/health", timeout=2).ok
            except requests.RequestException:
                return False

        try:
            _wait(api_up, 120, "the API server")
            yield standins, run, metadata, store_url
        finally:
            for p in procs:
                p.terminate()
            for p in procs:
                try:
                    p.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    p.kill()
            for f in logs:
                f.close()
            metadata.close()
            server.stop()


def test_native_backfill_repulls_past_intervals_once(airflow_stack):
    standins, run, metadata, store_url = airflow_stack
    standins.advance(10 * 3600)  # the whole demo day is on the portal
    # The scheduled intake has moved past the day (its cursor is at 18:00): the day's dossiers
    # were missed, and only a backfill of those intervals can bring them in.
    engine = get_engine(store_url)
    with Session(engine) as session, session.begin():
        # The store's write lock first, as the pipeline's sessions take it: a scheduled intake
        # running now may be writing its own cursor.
        claims.xact_lock(session, "store")
        set_cursor(
            session,
            RunContext("test", "skew"),
            "dossier_intake",
            datetime.fromisoformat(f"2022-12-01T18:00:00{VN}"),
            "f" * 24,
        )
    start, end = f"2022-12-01T07:30:00{VN}", f"2022-12-01T07:55:00{VN}"  # six 5-minute intervals
    # What those intervals cover, read before anything changes: updated in [07:20, 08:00)
    # (the first interval's start minus the 10-minute overlap, to the last interval's end).
    f = SearchFilters(
        updated_from=_ms(f"2022-12-01T07:20:00{VN}"), updated_to=_ms(f"2022-12-01T08:00:00{VN}")
    )
    expected = {d["code"] for d in standins.portal_store.search(f, 0, 1000, False)[0]}
    run(
        "backfill",
        "create",
        "--dag-id",
        "dossier_intake",
        "--from-date",
        start,
        "--to-date",
        end,
        "--max-active-runs",
        "1",
    )
    _wait(lambda: metadata.runs_finished(6), 600, "6 backfill runs")
    assert set(metadata.run_states()) == {"success"}
    assert metadata.rows("SELECT dag_id FROM dag WHERE NOT is_paused") == [
        {"dag_id": "dossier_intake"}
    ]

    lo, hi = metadata.rows(
        "SELECT MIN(data_interval_start) AS lo, MAX(data_interval_end) AS hi FROM dag_run "
        "WHERE run_type='backfill'"
    )[0].values()
    assert (lo, hi) == (
        datetime(2022, 12, 1, 0, 30, tzinfo=UTC),
        datetime(2022, 12, 1, 1, 0, tzinfo=UTC),
    )  # 07:30-08:00 in Vietnam
    with engine.connect() as c:
        linked = set(c.scalars(select(DossierLink.dossier_code)))
    assert expected and expected <= linked
    check(standins, engine)

    _wait(metadata.backfills_completed, 120, "the first backfill to be marked complete")
    run(
        "backfill",
        "create",
        "--dag-id",
        "dossier_intake",
        "--from-date",
        start,
        "--to-date",
        end,
        "--max-active-runs",
        "1",
        "--reprocess-behavior",
        "completed",
    )
    _wait(
        lambda: metadata.runs_finished(6, at_least=True) and metadata.second_done(),
        600,
        "the second backfill",
    )
    with engine.connect() as c:
        assert c.scalar(select(func.count()).select_from(DossierLink)) == len(linked)
    check(standins, engine)
