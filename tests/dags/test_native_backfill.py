"""Native ``airflow backfill create`` on ``dossier_intake`` with a real scheduler and API server:
past intervals are re-pulled, their dossiers linked once, and a second backfill duplicates nothing."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lienthong_standins.harness import start_standins
from lienthong_standins.portal.store import SearchFilters
from lienthong_standins.serve import free_port
from lienthong.store.engine import get_engine
from lienthong.store.ledger import RunContext, set_cursor
from lienthong.store.schema import DossierLink
from tests.conftest import ROOT
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
    return int((dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)).timestamp() * 1000)


@pytest.fixture
def airflow_stack(tmp_path):
    """Stand-ins, a store, and Airflow (API server + scheduler, LocalExecutor on SQLite)."""
    server, standins = start_standins(tmp_path / "standins")
    home = tmp_path / "airflow"
    home.mkdir()
    port = free_port()
    store_url = f"sqlite:///{tmp_path}/store.sqlite"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env.update({
        "AIRFLOW_HOME": str(home), "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False", "AIRFLOW__CORE__PARALLELISM": "4",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db",
        "AIRFLOW__API__PORT": str(port), "AIRFLOW__API__BASE_URL": f"http://localhost:{port}",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://localhost:{port}/execution/",
        "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONNECT_ARGS": "lienthong.orchestration.sqlite_busy.CONNECT_ARGS",
        "PYTHONPATH": str(ROOT),
        **connections_env(standins, store_url, tmp_path / "trust.pem"),
    })
    def run(*args: str) -> str:
        for attempt in range(5):  # the scheduler and API server write to the same SQLite metadata DB
            done = subprocess.run([AIRFLOW, *args], env=env, capture_output=True, text=True)
            if done.returncode == 0 or "database is locked" not in done.stderr:
                break
            time.sleep(3)
        if attempt and args[:2] == ("backfill", "create") and "AlreadyRunningBackfill" in done.stderr:
            return ""  # the attempt that met the lock had created the backfill already: it runs
        assert done.returncode == 0, f"airflow {args[0]} failed: {done.stderr[-2000:]}"
        return done.stdout
    run("db", "migrate")
    run("dags", "reserialize")
    for pool in ("lienthong_portal", "lienthong_ioffice"):
        run("pools", "set", pool, "4", "lienthong")
    for dag_id in ("signed_results", "dossier_reconcile", "dossier_backfill", "savings_report", "national_sync",
                   "quarantine_recheck", "personal_data_retention"):
        run("dags", "pause", dag_id)  # only intake runs may touch the stand-ins and the store
    logs = [open(home / f"{name}.log", "a") for name in ("api", "scheduler")]
    procs = [subprocess.Popen([AIRFLOW, "api-server", "--port", str(port)], env=env, stdout=logs[0],
                              stderr=subprocess.STDOUT, start_new_session=True),
             subprocess.Popen([AIRFLOW, "scheduler"], env=env, stdout=logs[1], stderr=subprocess.STDOUT,
                              start_new_session=True)]
    stop = threading.Event()

    def supervise() -> None:
        """Restart the scheduler if it exits, as systemd or Kubernetes would: on a loaded machine
        Airflow 3.3's scheduler can die on SQLite lock timeouts (ObjectDeletedError on a DagRun)."""
        while not stop.wait(2):
            if procs[1].poll() is not None:
                procs[1] = subprocess.Popen([AIRFLOW, "scheduler"], env=env, stdout=logs[1],
                                            stderr=subprocess.STDOUT, start_new_session=True)

    threading.Thread(target=supervise, daemon=True).start()

    def api_up() -> bool:
        try:
            return requests.get(f"http://localhost:{port}/api/v2/monitor/health", timeout=2).ok
        except requests.RequestException:
            return False

    try:
        _wait(api_up, 120, "the API server")
        yield standins, run, home, store_url
    finally:
        stop.set()
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
        for f in logs:
            f.close()
        server.stop()


def _backfill_runs(home: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(home / "airflow.db") as db:
        return db.execute("SELECT run_id, state FROM dag_run WHERE dag_id='dossier_intake' "
                          "AND run_type='backfill'").fetchall()


def test_native_backfill_repulls_past_intervals_once(airflow_stack):
    standins, run, home, store_url = airflow_stack
    standins.advance(10 * 3600)  # the whole demo day is on the portal
    # The scheduled intake has moved past the day (its cursor is at 18:00): the day's dossiers
    # were missed, and only a backfill of those intervals can bring them in.
    engine = get_engine(store_url)
    with Session(engine) as session, session.begin():
        set_cursor(session, RunContext("test", "skew"), "dossier_intake",
                   datetime.fromisoformat(f"2022-12-01T18:00:00{VN}"), "f" * 24)
    start, end = f"2022-12-01T07:30:00{VN}", f"2022-12-01T08:25:00{VN}"  # twelve 5-minute intervals
    # What those intervals cover, read before anything changes: updated in [07:20, 08:30)
    # (the first interval's start minus the 10-minute overlap, to the last interval's end).
    f = SearchFilters(updated_from=_ms(f"2022-12-01T07:20:00{VN}"), updated_to=_ms(f"2022-12-01T08:30:00{VN}"))
    expected = {d["code"] for d in standins.portal_store.search(f, 0, 1000, False)[0]}
    run("backfill", "create", "--dag-id", "dossier_intake", "--from-date", start, "--to-date", end,
        "--max-active-runs", "1")
    _wait(lambda: len(_backfill_runs(home)) == 12 and all(s in ("success", "failed") for _, s in _backfill_runs(home)),
          600, "12 backfill runs")
    assert {s for _, s in _backfill_runs(home)} == {"success"}

    with sqlite3.connect(home / "airflow.db") as db:
        lo, hi = db.execute("SELECT MIN(data_interval_start), MAX(data_interval_end) FROM dag_run "
                            "WHERE run_type='backfill'").fetchone()
    assert (lo[:16], hi[:16]) == ("2022-12-01 00:30", "2022-12-01 01:30")  # 07:30-08:30 in Vietnam
    with engine.connect() as c:
        linked = set(c.scalars(select(DossierLink.dossier_code)))
    assert expected and expected <= linked
    check(standins, engine)

    _wait(lambda: _backfills_completed(home), 120, "the first backfill to be marked complete")
    run("backfill", "create", "--dag-id", "dossier_intake", "--from-date", start, "--to-date", end,
        "--max-active-runs", "1", "--reprocess-behavior", "completed")
    _wait(lambda: len(_backfill_runs(home)) >= 12 and all(s in ("success", "failed") for _, s in _backfill_runs(home))
          and _second_done(home), 600, "the second backfill")
    with engine.connect() as c:
        assert c.scalar(select(func.count()).select_from(DossierLink)) == len(linked)
    check(standins, engine)


def _second_done(home: Path) -> bool:
    with sqlite3.connect(home / "airflow.db") as db:
        rows = db.execute("SELECT COUNT(*), SUM(state IN ('success','failed')) FROM dag_run "
                          "WHERE dag_id='dossier_intake' AND run_type='backfill' AND clear_number > 0").fetchone()
    return bool(rows[0]) and rows[0] == rows[1]


def _backfills_completed(home: Path) -> bool:
    with sqlite3.connect(home / "airflow.db") as db:
        return db.execute("SELECT COUNT(*) FROM backfill WHERE completed_at IS NULL").fetchone()[0] == 0
