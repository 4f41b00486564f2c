"""A missing route settled by a person: dossiers of a procedure whose receiving agency has no route
are quarantined; ``route_decisions`` opens a Required Action; an operator answers through a real
api-server's REST API (a viewer may not); the answer becomes the store's routing overlay, audited
with who answered, and the waiting dossiers are replayed and linked."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time

import pytest
import requests
import yaml
from sqlalchemy import select

from lienthong.store.engine import get_engine
from lienthong.store.schema import DossierLink, LinkEvent, Quarantine, RoutingOverlay
from lienthong_standins.portal.store import SearchFilters
from lienthong_standins.routing import demo_routing
from lienthong_standins.serve import free_port
from tests.conftest import on_store
from tests.dashboard.conftest import AIRFLOW, _wait_healthy

pytestmark = pytest.mark.scenario("burst-60")
HOUR = 3600
USERS = {"op": "lienthong-test-op-pw", "viewer": "lienthong-test-viewer-pw"}


def _routing_without(procedure: str, agency: str) -> str:
    routing = demo_routing().model_copy(deep=True)  # the demo routing is shared (cached)
    del routing.procedures[procedure].units[agency]
    return yaml.safe_dump(routing.model_dump(mode="json"), allow_unicode=True)


def _decision_pair(standins) -> tuple[str, str]:
    """A (procedure, agency) of a decision dossier the demo routing routes, with dossiers today."""
    routing = demo_routing()
    found, _ = standins.portal_store.search(SearchFilters(), 0, 10_000, False)
    for dossier in found:
        proc = routing.procedures.get(dossier["procedure"]["code"])
        if proc is not None and dossier["agency"]["code"] in proc.units:
            return dossier["procedure"]["code"], dossier["agency"]["code"]
    raise AssertionError("no routed decision dossier in the scenario")


@pytest.fixture
def api_server(tmp_path):
    """An api-server on this test process's metadata DB, with an operator and a viewer."""
    home = os.environ["AIRFLOW_HOME"]
    (tmp_path / "passwords.json").write_text(json.dumps(USERS))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "AIRFLOW__CORE__AUTH_MANAGER": (
            "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
        ),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "op:op,viewer:viewer",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(tmp_path / "passwords.json"),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "False",
        "AIRFLOW__API__BASE_URL": base,
        "AIRFLOW__API_AUTH__JWT_SECRET": "route-decisions-test-jwt-secret-0123456789",
    }
    log = tmp_path / "api-server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [AIRFLOW, "api-server", "-H", "127.0.0.1", "-p", str(port), "-w", "1"],
            env=env,
            cwd=home,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait_healthy(base, proc, log)
        yield base
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def _token(base: str, user: str) -> dict[str, str]:
    r = requests.post(
        f"{base}/auth/token", json={"username": user, "password": USERS[user]}, timeout=30
    )
    r.raise_for_status()
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def _answer_when_asked(base: str, outcome: dict, stop: threading.Event) -> None:
    """Wait for the Required Action, try it as a viewer (refused), answer it as the operator."""
    try:
        op, viewer = _token(base, "op"), _token(base, "viewer")
        while not stop.is_set():
            listing = requests.get(
                f"{base}/api/v2/dags/~/dagRuns/~/hitlDetails", headers=op, timeout=30
            ).json()
            waiting = [d for d in listing.get("hitl_details", []) if not d.get("response_received")]
            if waiting:
                break
            time.sleep(1)
        else:
            return
        detail = waiting[0]
        ti = detail["task_instance"]
        url = (
            f"{base}/api/v2/dags/{ti['dag_id']}/dagRuns/{ti['dag_run_id']}/taskInstances/"
            f"{ti['task_id']}/{ti['map_index']}/hitlDetails"
        )
        choice = next(o for o in detail["options"] if "thụ lý" in o)
        outcome["subject"], outcome["choice"] = detail["subject"], choice
        outcome["viewer"] = requests.patch(
            url, json={"chosen_options": [choice]}, headers=viewer, timeout=30
        ).status_code
        outcome["op"] = requests.patch(
            url, json={"chosen_options": [choice]}, headers=op, timeout=30
        ).status_code
    except Exception as exc:  # noqa: BLE001 - reported to the test's thread
        outcome["error"] = repr(exc)


@on_store("sqlite")
def test_a_missing_route_is_decided_through_a_required_action(
    dagbag, linked_airflow, store_url, monkeypatch, api_server
):
    standins = linked_airflow
    standins.advance(10 * HOUR)
    procedure, agency = _decision_pair(standins)
    monkeypatch.setenv("AIRFLOW_VAR_LIENTHONG_ROUTING", _routing_without(procedure, agency))
    assert str(dagbag.get_dag("dossier_intake").test().state) == "success"
    engine = get_engine(store_url)
    with engine.connect() as c:
        waiting = c.scalars(
            select(Quarantine.dossier_code).where(
                Quarantine.reason_code == "no_route", Quarantine.status == "open"
            )
        ).all()
    assert waiting

    outcome: dict = {}
    stop = threading.Event()
    answerer = threading.Thread(target=_answer_when_asked, args=(api_server, outcome, stop))
    answerer.start()
    try:
        run = dagbag.get_dag("route_decisions").test()
    finally:
        stop.set()
        answerer.join(timeout=60)
    assert "error" not in outcome, outcome
    assert outcome["viewer"] == 403 and outcome["op"] == 200
    assert procedure in outcome["subject"]
    assert str(run.state) == "success"

    with engine.connect() as c:
        overlay = c.execute(select(RoutingOverlay)).one()
        links = c.execute(
            select(DossierLink.state, DossierLink.ioffice_doc_id).where(
                DossierLink.dossier_code.in_(waiting)
            )
        ).all()
        still = c.scalars(
            select(Quarantine.id).where(
                Quarantine.reason_code == "no_route", Quarantine.status == "open"
            )
        ).all()
        audit = [
            e.detail
            for e in c.execute(select(LinkEvent).where(LinkEvent.kind == "operator_action"))
        ]
    assert (overlay.procedure_code, overlay.agency_code, overlay.decided_by) == (
        procedure,
        agency,
        "op",
    )
    assert overlay.result_kind == "decision" and overlay.unit_route["handler"]["account"]
    assert links and all(state == "transferred" and doc for state, doc in links)
    assert still == []
    assert any(d["action"] == "route_decided" and d["actor"] == "op" for d in audit)
