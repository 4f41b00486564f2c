"""Secrets stay out of logs (issue 22): a failing alert webhook is named by scheme and host only
(its URL is its credential), and the tokens the link obtains at run time, the portal's OIDC token
and the DVCQG session, are registered with Airflow's secrets masker as soon as they are had."""

from __future__ import annotations

import json
import logging
import socket
import traceback

import pytest
from airflow.sdk._shared.secrets_masker import redact

from lienthong.clients.errors import RemoteError
from lienthong.orchestration.hooks import IGatePortalHook, NationalPortalHook
from lienthong.orchestration.notifiers import LienthongAlertNotifier, masked_url

from .test_notifiers import Webhook

TOKEN = "T0KEN-a1b2c3d4e5f6"  # a chat webhook's token, in its path and its query
SECRET_PATH = f"/services/{TOKEN}/hook?token={TOKEN}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _channel(port: int) -> str:
    return json.dumps(
        {
            "conn_type": "http",
            "host": "127.0.0.1",
            "port": port,
            "schema": "http",
            "login": "bot",
            "extra": {"path": SECRET_PATH},
        }
    )


@pytest.fixture
def refusing_webhook():
    hook = Webhook(status=503)
    yield hook
    hook.server.shutdown()


def _fail(monkeypatch, caplog, port: int) -> RemoteError:
    monkeypatch.setenv("AIRFLOW_CONN_LIENTHONG_ALERTS", _channel(port))
    alert = LienthongAlertNotifier(title="Liên thông: lượt chạy thất bại", message="dag / run")
    with caplog.at_level(logging.DEBUG), pytest.raises(RemoteError) as err:
        alert.notify({})
    return err.value


@pytest.mark.parametrize("where", ["refusing", "unreachable"])
def test_a_failing_webhook_never_logs_its_token(where, refusing_webhook, monkeypatch, caplog):
    port = refusing_webhook.server.server_port if where == "refusing" else _free_port()
    exc = _fail(monkeypatch, caplog, port)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    raised = "".join(traceback.format_exception(exc))  # what Airflow logs of the failure
    assert "NOT delivered" in logged and f"http://127.0.0.1:{port}/…" in logged
    for text in (logged, raised):
        assert TOKEN not in text and "/services/" not in text and "bot@" not in text


def test_masked_url_keeps_scheme_and_host_only():
    assert masked_url(f"https://bot:pw@chat.example.vn:8443{SECRET_PATH}#x") == (
        "https://chat.example.vn:8443/…"
    )
    assert masked_url("https://[::1]:99999/x") == "(unreadable URL)"


def test_portal_token_is_registered_with_the_secrets_masker(airflow_env):
    client = IGatePortalHook().get_conn()
    try:
        client.log_in()
        token = client.auth.token()
    finally:
        client.close()
    assert (
        len(token) > 5 and redact(f"Authorization: Bearer {token}") == "Authorization: Bearer ***"
    )


def test_national_session_is_registered_with_the_secrets_masker(airflow_env):
    client = NationalPortalHook().get_conn()
    try:
        session = client.log_in()
    finally:
        client.close()
    assert len(session) > 5 and redact(f"session={session}") == "session=***"
