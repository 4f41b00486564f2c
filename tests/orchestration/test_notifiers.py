"""The notifier: delivers to a real webhook, says so when it cannot, never drops an alert
silently."""

from __future__ import annotations

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from lienthong.clients.errors import Unreachable
from lienthong.orchestration.notifiers import LienthongAlertNotifier


class Webhook:
    """A real HTTP endpoint on loopback that records what it receives and answers ``status``."""

    def __init__(self, status: int = 200):
        self.received: list[dict] = []
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                hook.received.append(
                    json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                )
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def conn(self) -> str:
        return json.dumps(
            {
                "conn_type": "http",
                "host": "127.0.0.1",
                "port": self.server.server_port,
                "schema": "http",
                "extra": {"path": "/hooks/lienthong"},
            }
        )


@pytest.fixture
def webhook():
    hooks: list[Webhook] = []

    def make(status: int = 200) -> Webhook:
        hooks.append(Webhook(status))
        return hooks[-1]

    yield make
    for hook in hooks:
        hook.server.shutdown()


def alert() -> LienthongAlertNotifier:
    return LienthongAlertNotifier(
        title="Liên thông: cần xử lý", message="Hồ sơ của Nguyễn Văn An, SĐT 0912345678"
    )


def test_delivers_the_masked_vietnamese_message(webhook, monkeypatch):
    hook = webhook()
    monkeypatch.setenv("AIRFLOW_CONN_LIENTHONG_ALERTS", hook.conn())
    alert().notify({"run_id": "manual__1"})
    [body] = hook.received
    assert body["title"] == "Liên thông: cần xử lý" and body["run_id"] == "manual__1"
    assert "0912345678" not in body["message"]


def test_no_channel_is_said_in_the_log(monkeypatch, caplog):
    monkeypatch.delenv("AIRFLOW_CONN_LIENTHONG_ALERTS", raising=False)
    with caplog.at_level(logging.WARNING):
        alert().notify({})
    assert any("no connection lienthong_alerts" in r.getMessage() for r in caplog.records)


def test_a_refusing_channel_is_logged_and_raised(webhook, monkeypatch, caplog):
    hook = webhook(status=503)
    monkeypatch.setenv("AIRFLOW_CONN_LIENTHONG_ALERTS", hook.conn())
    with caplog.at_level(logging.ERROR), pytest.raises(Unreachable):  # the kind, URL masked
        alert().notify({})
    assert len(hook.received) == 1
    assert any(
        "NOT delivered" in r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR
    )
