"""The operators' DAGs through ``dag.test()``: the backfill form, and reconciliation with its alert
delivered to a real webhook receiver on loopback. Manual backfills and the repairs of a manually
triggered reconciliation are audited (``operator_action`` events naming the triggering user)."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from sqlalchemy import func, select, update

from lienthong.store.engine import get_engine
from lienthong.store.schema import (
    DeadlineAlert,
    DossierLink,
    LinkEvent,
    Quarantine,
    ReconcileFinding,
)
from lienthong_standins.serve import free_port
from tests.conftest import on_store

pytestmark = pytest.mark.scenario(
    "burst-60"
)  # each operator DAG needs a few dossiers, not the demo's 300

HOUR = 3600


class Received(list):
    """The messages a webhook received; ``port`` is where it listens."""

    port: int


@pytest.fixture
def webhook(monkeypatch):
    received = Received()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's naming
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    port = free_port()
    server = HTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv(
        "AIRFLOW_CONN_LIENTHONG_ALERTS",
        json.dumps(
            {
                "conn_type": "http",
                "host": "127.0.0.1",
                "port": port,
                "schema": "http",
                "extra": {"path": "/hook"},
            }
        ),
    )
    received.port = port
    yield received
    server.shutdown()


def test_backfill_form_links_missing_then_nothing(dagbag, linked_airflow, store_url):
    standins = linked_airflow
    standins.advance(10 * HOUR)
    dag = dagbag.get_dag("dossier_backfill")
    conf = {
        "date_from": "2022-12-01",
        "date_to": "2022-12-01",
        "agencies": [],
        "dossier_codes": [],
        "dry_run": True,
    }
    assert str(dag.test(run_conf=conf).state) == "success"
    engine = get_engine(store_url)
    with engine.connect() as c:
        assert (
            c.scalar(select(func.count()).select_from(DossierLink)) == 0
        )  # dry run changed nothing
    conf["dry_run"] = False
    assert str(dag.test(run_conf=conf).state) == "success"
    visible = standins.portal_store.stats()["dossiers"]["visible"]
    with engine.connect() as c:
        assert c.scalar(select(func.count()).select_from(DossierLink)) == visible
    assert str(dag.test(run_conf=conf).state) == "success"
    with engine.connect() as c:
        assert c.scalar(select(func.count()).select_from(DossierLink)) == visible
        audit = [
            d
            for (d,) in c.execute(
                select(LinkEvent.detail)
                .where(LinkEvent.kind == "operator_action")
                .order_by(LinkEvent.id)
            )
        ]
    # Who ran it (dag.test() triggers as "dag_test"), on what window, with what outcome: one event
    # per run.
    assert [(d["actor"], d["action"], d["outcome"]) for d in audit] == [
        ("dag_test", "backfill", "dry_run"),
        ("dag_test", "backfill", "success"),
        ("dag_test", "backfill", "success"),
    ]
    assert (
        audit[0]["target"] == "received 2022-12-01..2022-12-01"
        and audit[1]["counts"]["new"] == visible
    )


@on_store("postgres")  # reconciliation itself runs on both in tests/pipeline
def test_reconcile_dag_records_findings_and_alerts(dagbag, linked_airflow, store_url, webhook):
    standins = linked_airflow
    standins.advance(10 * HOUR)
    assert str(dagbag.get_dag("dossier_intake").test().state) == "success"
    standins.advance(20 * 24 * HOUR)  # results never processed: dossiers go overdue
    assert str(dagbag.get_dag("dossier_intake").test().state) == "success"
    dr = dagbag.get_dag("dossier_reconcile").test(
        run_conf={"days": 30, "date_from": "", "date_to": "", "repair": False}
    )
    assert str(dr.state) == "success"
    with get_engine(store_url).connect() as c:
        kinds = set(c.scalars(select(ReconcileFinding.kind)))
    assert {"overdue", "bypass"} <= kinds
    assert webhook and webhook[0]["title"].startswith("Liên thông")
    assert "Quá hạn" in webhook[0]["message"]


@on_store("sqlite")
def test_reconcile_repairs_by_a_person_are_audited(dagbag, linked_airflow, store_url, webhook):
    """Decisions issued in iOffice, results never processed: a manual reconciliation with repair
    attaches them, and each repair is recorded with the triggering user and its outcome, on the
    dossier."""
    standins = linked_airflow
    standins.advance(10 * HOUR)
    assert str(dagbag.get_dag("dossier_intake").test().state) == "success"
    standins.advance(30 * HOUR)
    dr = dagbag.get_dag("dossier_reconcile").test(
        run_conf={"days": 30, "date_from": "2022-12-01", "date_to": "2022-12-06", "repair": True}
    )
    assert str(dr.state) == "success"
    with get_engine(store_url).connect() as c:
        repaired = set(
            c.scalars(select(ReconcileFinding.dossier_code).where(ReconcileFinding.repaired))
        )
        audit = c.execute(
            select(LinkEvent.dossier_code, LinkEvent.detail).where(
                LinkEvent.kind == "operator_action"
            )
        ).all()
    assert repaired
    assert {code for code, _ in audit} >= repaired
    assert all(
        d["actor"] == "dag_test"
        and d["action"] == "reconcile_repair"
        and d["target"].startswith("ioffice_doc#")
        for _, d in audit
    )
    assert {d["outcome"] for code, d in audit if code in repaired} <= {
        "attached",
        "already_done",
        "adopted",
    }


def test_quarantine_recheck_dag_heals_and_tells_people_once(
    dagbag, linked_airflow, store_url, webhook
):
    """Malformed dossiers during a glitch; once it passes, the re-check DAG links them; what stays
    broken (the glitch still on for some) is alerted once, not on every run."""

    standins = linked_airflow
    standins.faults(
        "portal", [{"endpoint": "/pa/dossier", "kind": "malformed", "rate": 0.1}], seed=5
    )
    standins.advance(10 * HOUR)
    assert str(dagbag.get_dag("dossier_intake").test().state) == "success"
    engine = get_engine(store_url)
    with engine.begin() as c:
        quarantined = c.scalar(
            select(func.count()).select_from(Quarantine).where(Quarantine.status == "open")
        )
        c.execute(
            update(Quarantine).values(  # time passes: every record is due and the last attempt
                heal_attempts=5, last_seen_at=datetime.now(UTC) - timedelta(days=2)
            )
        )
    assert quarantined > 0
    recheck = dagbag.get_dag("quarantine_recheck")
    assert (
        str(recheck.test().state) == "success"
    )  # the glitch is still on: nothing heals, people are told
    assert len(webhook) == 1 and "cần người xử lý" in webhook[0]["title"]
    assert str(recheck.test().state) == "success"
    assert len(webhook) == 1  # told once per cause
    standins.faults("portal", [])
    with engine.begin() as c:
        c.execute(update(Quarantine).values(heal_attempts=4, next_heal_at=datetime.now(UTC)))
    assert str(recheck.test().state) == "success"
    with engine.connect() as c:
        assert (
            c.scalar(
                select(func.count()).select_from(Quarantine).where(Quarantine.status == "open")
            )
            == 0
        )
        assert (
            c.scalar(select(func.count()).select_from(DossierLink))
            == standins.portal_store.stats()["dossiers"]["visible"]
        )


@on_store("sqlite")
def test_deadline_alerts_tell_handler_and_leader_once_and_retry_a_failed_send(
    dagbag, linked_airflow, store_url, webhook, monkeypatch
):
    """Decision dossiers pushed to iOffice and left unsigned: once their due date is near on the
    working calendar, the unit's handler and leader are told, once per dossier and stage; a run
    whose channel is down fails loudly and the next run sends what was not sent."""

    standins = linked_airflow
    standins.advance(4 * HOUR)
    assert str(dagbag.get_dag("dossier_intake").test().state) == "success"
    engine = get_engine(store_url)
    with engine.connect() as c:
        waiting = c.scalar(
            select(func.count())
            .select_from(DossierLink)
            .where(DossierLink.state == "transferred", DossierLink.result_kind == "decision")
        )
    assert waiting > 0
    alerts = dagbag.get_dag("deadline_alerts")
    standins.advance(15 * 24 * HOUR)  # the signatures never come: every due date passes
    assert str(dagbag.get_dag("dossier_intake").test().state) == "success"  # reads the clock

    monkeypatch.setenv(  # the channel is down: the run fails, nothing is marked sent
        "AIRFLOW_CONN_LIENTHONG_ALERTS",
        json.dumps(
            {"conn_type": "http", "host": "127.0.0.1", "port": free_port(), "schema": "http"}
        ),
    )
    assert str(alerts.test().state) == "failed"
    with engine.connect() as c:
        assert c.scalar(select(func.count()).select_from(DeadlineAlert)) >= waiting
        assert (
            c.scalar(
                select(func.count())
                .select_from(DeadlineAlert)
                .where(DeadlineAlert.sent_at.is_not(None))
            )
            == 0
        )
    monkeypatch.setenv(
        "AIRFLOW_CONN_LIENTHONG_ALERTS",
        json.dumps(
            {
                "conn_type": "http",
                "host": "127.0.0.1",
                "port": webhook.port,
                "schema": "http",
                "extra": {"path": "/hook"},
            }
        ),
    )
    assert str(alerts.test().state) == "success"
    deadline_alerts = [m for m in webhook if "hạn trả" in m["title"]]
    assert len(deadline_alerts) >= waiting
    keys = [m["key"] for m in deadline_alerts]
    assert len(keys) == len(set(keys))
    first = deadline_alerts[0]
    assert len(first["recipients"]) == 2 and "Chờ lãnh đạo ký số" in first["message"]
    assert "quá hạn" in first["message"] and "ngày làm việc" in first["message"]
    assert str(alerts.test().state) == "success"
    assert len([m for m in webhook if "hạn trả" in m["title"]]) == len(deadline_alerts)  # once
