"""Hostile requests to the dashboard: where a replay sends the user's token, expiring form tokens,
and no audit entry for a request that fails the CSRF check.

The replay target and the form tokens are checked against the real api-server of ``conftest.py``
(its ``[api] base_url`` is set, as every deployment's must be). A server whose ``[api] base_url``
is unset is the dashboard app in-process (:func:`unset_client`), because the stack's is set; the
user there is built, not logged in (as in ``test_access.py``). Every "was anything sent there?"
question is asked of a real HTTP listener on another loopback port.
"""

from __future__ import annotations

import json
import logging
import threading
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote

import pytest
import requests
from airflow.api_fastapi.auth.managers.simple.simple_auth_manager import SimpleAuthManager
from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lienthong.dashboard import access
from lienthong.dashboard.access import FORBIDDEN_VI
from lienthong.dashboard.app import create_app
from lienthong.dashboard.auth import (
    FORM_EXPIRED_VI,
    FORM_INVALID_VI,
    FORM_TOKEN_MAX_AGE,
    get_user,
    token_for,
)
from lienthong.dashboard.trigger import TARGET_UNSET_VI, TargetUnset, api_base
from lienthong.store.engine import get_engine
from lienthong.store.ledger import OPERATOR_ACTION
from lienthong.store.schema import LinkEvent, Quarantine

from .conftest import SECRET_KEY, dag_run


class Listener:
    """A real HTTP server on a loopback port of its own that records every request it gets and
    answers as Airflow's trigger endpoint would (so a replay aimed at it would "succeed")."""

    def __init__(self) -> None:
        self.received: list[tuple[str, str, str]] = []  # method, path, Authorization header
        received = self.received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                self.rfile.read(int(self.headers.get("content-length") or 0))
                received.append((self.command, self.path, self.headers.get("authorization", "")))
                body = json.dumps({"dag_run_id": "manual__from_the_listener"}).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_PUT = do_PATCH = do_POST

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.netloc = f"127.0.0.1:{self.server.server_address[1]}"
        self.url = f"http://{self.netloc}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    """Where a forged Host header points: a replay must never call it."""
    lst = Listener()
    try:
        yield lst
    finally:
        lst.close()


def _new_item(engine, key: str) -> Quarantine:
    """An open quarantined portal dossier that no replay can fix (the portal does not know it)."""
    now = datetime.now(UTC)
    with Session(engine, expire_on_commit=False) as s, s.begin():
        rec = Quarantine(
            source="portal_dossier",
            item_key=f"hardening-{key}",
            dossier_code=f"000.00.00.H36-221130-98{zlib.crc32(key.encode()) % 100:02d}",
            reason_code="malformed",
            reason_vi="Hồ sơ thiếu trường bắt buộc",
            detail="test",
            payload={"dossier": {"id": f"hardening-{key}"}},
            status="open",
            occurrences=1,
            first_seen_at=now,
            last_seen_at=now,
            heal_attempts=0,
        )
        s.add(rec)
    return rec


def _audit_of(engine, item: Quarantine) -> list[dict]:
    """The operator-action events naming this quarantine record."""
    with Session(engine) as s:
        return [
            e.detail
            for e in s.scalars(
                select(LinkEvent).where(LinkEvent.kind == OPERATOR_ACTION).order_by(LinkEvent.id)
            )
            if e.detail.get("quarantine_id") == item.id
        ]


def _audit_count(engine) -> int:
    with Session(engine) as s:
        return s.scalar(
            select(func.count()).select_from(LinkEvent).where(LinkEvent.kind == OPERATOR_ACTION)
        )


# --------------------------------------------------------------------------- the replay target


@pytest.fixture
def unset_client(tmp_path, monkeypatch) -> Iterator[tuple[TestClient, object]]:
    """The dashboard app in-process with ``[api] base_url`` unset, over a real SQLite store, as an
    admin (SimpleAuthManager) calling with a Bearer token; yields the client and the store."""
    store = tmp_path / "store.sqlite"
    monkeypatch.setenv(
        "AIRFLOW_CONN_LIENTHONG_DB", json.dumps({"conn_type": "sqlite", "host": str(store)})
    )
    monkeypatch.setenv("AIRFLOW__API__BASE_URL", "")
    manager = SimpleAuthManager()
    monkeypatch.setattr(access, "_auth_manager", lambda: manager)
    app = create_app()
    app.dependency_overrides[get_user] = lambda: SimpleAuthManagerUser(
        username="admin", role="admin"
    )
    yield TestClient(app, root_path="/lienthong"), get_engine(f"sqlite:///{store}")


def test_unset_base_url_refuses_the_replay_and_calls_no_host(unset_client, listener, caplog):
    """A forged Host header names the listener; with no configured target nothing is sent
    anywhere: the operator reads why in Vietnamese, the log says it in English."""
    client, engine = unset_client
    item = _new_item(engine, "unset")
    headers = {"Authorization": "Bearer the-users-jwt", "Host": listener.netloc}
    with caplog.at_level(logging.ERROR, logger="lienthong.dashboard.app"):
        r = client.post(f"/quarantine/{item.id}/replay", headers=headers, follow_redirects=False)
    assert r.status_code == 503 and r.json() == {"detail": TARGET_UNSET_VI}
    assert listener.received == []
    assert any("[api] base_url" in rec.getMessage() for rec in caplog.records)
    page = client.post(
        f"/quarantine/{item.id}/replay",
        headers={**headers, "Accept": "text/html"},
        follow_redirects=False,
    )
    assert page.status_code == 503 and TARGET_UNSET_VI in page.text and 'lang="vi"' in page.text
    assert listener.received == []
    assert [e["outcome"] for e in _audit_of(engine, item)] == ["failed: TargetUnset"] * 2


def test_configured_base_url_is_the_only_target(unset_client, listener, monkeypatch):
    """``[api] base_url`` names one listener (Airflow), the Host header another: only the
    configured one is called, with the user's token."""
    client, engine = unset_client
    airflow = Listener()
    try:
        monkeypatch.setenv("AIRFLOW__API__BASE_URL", airflow.url + "/")
        item = _new_item(engine, "configured")
        r = client.post(
            f"/quarantine/{item.id}/replay",
            headers={"Authorization": "Bearer the-users-jwt", "Host": listener.netloc},
            follow_redirects=False,
        )
        assert r.status_code == 303, r.text
        assert listener.received == []
        assert airflow.received == [
            ("POST", "/api/v2/dags/quarantine_replay/dagRuns", "Bearer the-users-jwt")
        ]
    finally:
        airflow.close()


@pytest.mark.parametrize(
    "configured",
    ["", "   ", "/", "localhost:8080", "ftp://airflow.example", "http://[::1", "http://"],
)
def test_api_base_is_configuration_or_nothing(monkeypatch, configured):
    monkeypatch.setenv("AIRFLOW__API__BASE_URL", configured)
    with pytest.raises(TargetUnset):
        api_base()
    monkeypatch.setenv("AIRFLOW__API__BASE_URL", "https://airflow.example/base/")
    assert api_base() == "https://airflow.example/base"


def test_forged_host_on_the_api_server_goes_to_the_configured_target(stack, listener):
    """On the real api-server (``[api] base_url`` set) a forged Host header changes nothing: the
    run is started on the configured Airflow, the listener it names hears nothing."""
    item = _new_item(stack.res.engine, "stack-host")
    r = requests.post(
        f"{stack.base}/lienthong/quarantine/{item.id}/replay",
        headers={**stack.auth("op"), "Host": listener.netloc},
        timeout=120,
        allow_redirects=False,
    )
    assert r.status_code == 303, r.text[:300]
    run_id = unquote(r.headers["location"].rsplit("run_id=", 1)[1])
    assert dag_run(stack, "quarantine_replay", run_id)["triggering_user_name"] == "op"
    assert listener.received == []


# --------------------------------------------------------------------------- form tokens

NOW = datetime.now(UTC)
# One character of the signature changed: its first, whose six bits all count (the last base64
# character carries padding bits, so changing it could leave the same signature: a flaky test).
_VALUE, _SIGNATURE = token_for(SECRET_KEY, "op").rsplit(".", 1)
TAMPERED = f"{_VALUE}.{'A' if _SIGNATURE[0] != 'A' else 'B'}{_SIGNATURE[1:]}"
BAD_TOKENS = {
    "expired": token_for(SECRET_KEY, "op", NOW - FORM_TOKEN_MAX_AGE - timedelta(minutes=1)),
    "issued_in_the_future": token_for(SECRET_KEY, "op", NOW + timedelta(hours=1)),
    "tampered": TAMPERED,
    "of_another_user": token_for(SECRET_KEY, "admin"),
    "under_another_secret": token_for("not-the-server-secret", "op"),
    "non_ascii": "mã-biểu-mẫu-không-hợp-lệ",
    "non_ascii_lookalike": "ł" + token_for(SECRET_KEY, "op")[1:],
    "malformed": "form.abc.def",
    "no_separator": "x" * 40,
    "too_long": "a." * 5000,
    "empty": "",
}


@pytest.mark.parametrize("case", sorted(BAD_TOKENS))
def test_a_bad_form_token_is_refused_and_leaves_no_trace(stack, case):
    """An operator's browser session (cookie) with a token that is expired, tampered, someone
    else's or not a token at all: 403 in Vietnamese, never a 500, nothing audited, no run."""
    op_item = _new_item(stack.res.engine, f"form-{case}")
    before = _audit_count(stack.res.engine)
    r = requests.post(
        f"{stack.base}/lienthong/quarantine/{op_item.id}/replay",
        cookies={"_token": stack.token("op")},
        data={"csrf_token": BAD_TOKENS[case]},
        timeout=60,
        allow_redirects=False,
    )
    assert r.status_code == 403, r.text[:300]
    expected = FORM_EXPIRED_VI if case == "expired" else FORM_INVALID_VI
    assert r.json() == {"detail": expected}
    assert _audit_count(stack.res.engine) == before
    assert _audit_of(stack.res.engine, op_item) == []


def test_a_live_form_token_is_accepted_until_it_expires(stack):
    """The same session with a token issued just inside the maximum age replays."""
    item = _new_item(stack.res.engine, "form-live")
    issued = datetime.now(UTC) - FORM_TOKEN_MAX_AGE + timedelta(minutes=5)
    r = requests.post(
        f"{stack.base}/lienthong/quarantine/{item.id}/replay",
        cookies={"_token": stack.token("op")},
        data={"csrf_token": token_for(SECRET_KEY, "op", issued)},
        timeout=120,
        allow_redirects=False,
    )
    assert r.status_code == 303, r.text[:300]
    assert [e["outcome"] for e in _audit_of(stack.res.engine, item)] == ["requested"]


def test_the_token_a_page_carries_is_accepted(stack):
    """The token the page carries is live: the same session posts with it and gets past the check
    (to the 404 of a record that does not exist)."""
    page = requests.get(
        f"{stack.base}/lienthong/quarantine", headers=stack.auth("op"), timeout=60
    ).text
    token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    assert token.count(".") == 2 and token.isascii()
    r = requests.post(  # a live token of op, and op may not replay what does not exist: 404
        f"{stack.base}/lienthong/quarantine/999999/replay",
        cookies={"_token": stack.token("op")},
        data={"csrf_token": token},
        timeout=60,
        allow_redirects=False,
    )
    assert r.status_code == 404


# --------------------------------------------------------------------------- audit after CSRF


@pytest.mark.parametrize("token", [None, "wrong", "expired"])
def test_a_cross_site_post_writes_nothing_to_the_audit(stack, token):
    """A page elsewhere on the site makes a viewer's browser POST a replay (the cookie goes
    along, the form token cannot): refused by the CSRF check, and the audit log is unchanged, so
    no one can fill it with "refused" entries in the viewer's name."""
    item = _new_item(stack.res.engine, f"cross-site-{token}")
    before = _audit_count(stack.res.engine)
    data = {} if token is None else {"csrf_token": token}
    if token == "expired":
        data["csrf_token"] = token_for(SECRET_KEY, "viewer", NOW - timedelta(days=1))
    r = requests.post(
        f"{stack.base}/lienthong/quarantine/{item.id}/replay",
        cookies={"_token": stack.token("viewer")},
        headers={"Origin": "https://intranet.example", "Referer": "https://intranet.example/x"},
        data=data,
        timeout=60,
        allow_redirects=False,
    )
    assert r.status_code == 403
    assert r.json()["detail"] in (FORM_INVALID_VI, FORM_EXPIRED_VI)
    assert _audit_count(stack.res.engine) == before
    assert _audit_of(stack.res.engine, item) == []


def test_a_refusal_after_the_csrf_check_is_still_audited(stack):
    """The viewer's own session with a live token passes the CSRF check, is refused by the
    grants, and that refusal is recorded under the viewer's name."""
    item = _new_item(stack.res.engine, "viewer-own")
    r = requests.post(
        f"{stack.base}/lienthong/quarantine/{item.id}/replay",
        cookies={"_token": stack.token("viewer")},
        data={"csrf_token": token_for(SECRET_KEY, "viewer")},
        timeout=60,
        allow_redirects=False,
    )
    assert r.status_code == 403 and r.json() == {"detail": FORBIDDEN_VI}
    assert _audit_of(stack.res.engine, item) == [
        {
            "actor": "viewer",
            "action": "replay",
            "target": f"quarantine#{item.id}",
            "outcome": "denied",
            "quarantine_id": item.id,
        }
    ]
