"""A real Airflow api-server with the dashboard plugin, over a store filled by the real pipeline.

Session scope: the stack (stand-ins, pipeline run, ``airflow db migrate``, api-server start) takes
tens of seconds and every dashboard test only reads it or replays one quarantined item.
SimpleAuthManager has one user per role (admin, op, user, viewer) with known passwords.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from sqlalchemy import select
from sqlalchemy.orm import Session

from lienthong.dashboard.auth import token_for
from lienthong.pipeline import national_sync, results
from lienthong.pipeline.resources import Resources
from lienthong.store.schema import DossierLink, Quarantine
from lienthong_standins.harness import Standins, make_resources, start_standins
from lienthong_standins.serve import free_port
from tests.conftest import ROOT
from tests.dags.conftest import connections_env
from tests.pipeline.test_faults import BAD_RESULTS
from tests.pipeline.test_flow import CTX, HOUR, run_intake

AIRFLOW = str(Path(sys.executable).with_name("airflow"))
ROLES = ("admin", "op", "user", "viewer")  # each user is named after its SimpleAuthManager role
PASSWORDS = {name: f"lienthong-test-{name}-pw" for name in ROLES}
ADMIN_PASSWORD = PASSWORDS["admin"]
SECRET_KEY = "dashboard-test-secret"


def form_token_for(name: str) -> str:
    """The dashboard's form (CSRF) token of user ``name`` on the test api-server."""

    return token_for(SECRET_KEY, name)


@dataclass
class Stack:
    base: str
    standins: Standins
    res: Resources
    log: Path
    _tokens: dict[str, str] = field(default_factory=dict)

    def token(self, username: str = "admin") -> str:
        """A JWT for one of the :data:`ROLES` users (fetched once, valid for the session)."""
        if username not in self._tokens:
            r = requests.post(
                f"{self.base}/auth/token",
                json={"username": username, "password": PASSWORDS[username]},
                timeout=30,
            )
            r.raise_for_status()
            self._tokens[username] = r.json()["access_token"]
        return self._tokens[username]

    def auth(self, username: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(username)}"}

    def open_quarantine(self) -> list[Quarantine]:
        with Session(self.res.engine) as s:
            return list(
                s.scalars(
                    select(Quarantine).where(Quarantine.status == "open").order_by(Quarantine.id)
                )
            )

    def attached_code(self) -> str:
        with Session(self.res.engine) as s:
            return s.scalar(
                select(DossierLink.dossier_code)
                .where(DossierLink.attached_at.is_not(None))
                .order_by(DossierLink.id)
                .limit(1)
            )


def _fill_store(standins: Standins, res: Resources) -> None:
    """A working day through the pipeline, with bad result files so some packages are quarantined,
    then dossiers carrying markup in their text."""
    standins.advance(10 * HOUR)
    run_intake(res)
    standins.advance(8 * HOUR)
    results.process_packages(res, CTX)  # clean results first: attached dossiers with timelines
    standins.faults("ioffice", BAD_RESULTS, seed=11)
    for _ in range(4):
        standins.advance(8 * HOUR)
        results.process_packages(res, CTX)
        run_intake(res)
    # Dossiers with HTML/script in their text: quarantined, and shown escaped (browser test).
    standins.faults(
        "portal",
        [
            {
                "endpoint": "/pa/dossier",
                "kind": "malformed",
                "variant": "markup_in_text",
                "rate": 0.2,
            }
        ],
        seed=2,
    )
    standins.advance(2 * HOUR)
    run_intake(res)
    standins.faults("portal", [])
    national_sync.sync(res, CTX, timedelta(minutes=10))  # the national record of the same dossiers


def _wait_healthy(base: str, proc: subprocess.Popen, log: Path, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"api-server exited ({proc.returncode}):\n{log.read_text()[-4000:]}")
        try:
            if requests.get(f"{base}/api/v2/monitor/health", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"api-server not healthy after {timeout}s:\n{log.read_text()[-4000:]}")


@pytest.fixture(scope="session")
def stack(tmp_path_factory) -> Iterator[Stack]:
    tmp = tmp_path_factory.mktemp("dashboard")
    server, standins = start_standins(tmp / "standins")
    store_url = f"sqlite:///{tmp}/store.sqlite"
    res = make_resources(standins, store_url, national=True)
    proc = None
    try:
        _fill_store(standins, res)
        home, port = tmp / "airflow", free_port()
        home.mkdir()
        base = f"http://127.0.0.1:{port}"
        env = {
            **os.environ,
            **connections_env(standins, store_url, tmp / "trust.pem"),
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db",
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
            "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__AUTH_MANAGER": (
                "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
            ),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": ",".join(
                f"{name}:{name}" for name in ROLES
            ),
            "AIRFLOW__CORE__TEST_CONNECTION": "Enabled",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "False",
            "AIRFLOW__API__BASE_URL": base,
            "AIRFLOW__API__SECRET_KEY": SECRET_KEY,
            "AIRFLOW__API_AUTH__JWT_SECRET": "dashboard-test-jwt-secret-0123456789abcdef",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
        }
        subprocess.run(
            [AIRFLOW, "db", "migrate"], env=env, check=True, capture_output=True, timeout=300
        )
        # The DAGs in the metadata DB, as the dag-processor would put them: a replay triggers one.
        subprocess.run(
            [AIRFLOW, "dags", "reserialize"], env=env, check=True, capture_output=True, timeout=300
        )
        (home / "simple_auth_manager_passwords.json.generated").write_text(json.dumps(PASSWORDS))
        log = tmp / "api-server.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [AIRFLOW, "api-server", "-H", "127.0.0.1", "-p", str(port), "-w", "1"],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        _wait_healthy(base, proc, log)
        yield Stack(base, standins, res, log)
    finally:
        if proc is not None and proc.poll() is None:
            os.killpg(
                proc.pid, signal.SIGTERM
            )  # our own session: the server and its uvicorn worker
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        res.close()
        server.stop()


def standin_requests(standins: Standins) -> int:
    """Requests both stand-ins have served on their APIs so far (their control surface not
    counted)."""
    return sum(
        requests.get(f"{base}/_admin/stats", timeout=30).json()["requests"]
        for base in (standins.portal_url, standins.ioffice_root)
    )


def dag_run(stack: Stack, dag_id: str, run_id: str) -> dict:
    r = requests.get(
        f"{stack.base}/api/v2/dags/{dag_id}/dagRuns/{run_id}",
        headers=stack.auth("admin"),
        timeout=30,
    )
    r.raise_for_status()
    return r.json()
