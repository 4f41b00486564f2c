"""The adapters against the real stand-ins: tokens, retries, no retry on 4xx, TLS on, no PII in
logs."""

from __future__ import annotations

import logging
import time
from datetime import timedelta

import pytest

from lienthong.clients.http import RemoteRefused, RetryPolicy, TransientHTTPError
from lienthong.clients.ioffice import IOfficeSettings
from lienthong.clients.portal import PortalClient, PortalSettings
from lienthong.pipeline import intake
from lienthong.store.ledger import RunContext
from lienthong_standins.harness import CLIENT_ID, CLIENT_SECRET, make_resources, start_standins
from lienthong_standins.portal.store import SearchFilters


@pytest.fixture
def standins(tmp_path):
    server, s = start_standins(tmp_path / "standins")
    s.advance(10 * 3600)
    try:
        yield s
    finally:
        server.stop()


def counting(client: PortalClient) -> list[tuple[str, int]]:
    seen: list[tuple[str, int]] = []
    client.session.hooks["response"].append(
        lambda r, *a, **k: seen.append((r.request.path_url, r.status_code))
    )
    return seen


def test_tls_verification_is_on_by_default():
    assert PortalSettings(base_url="https://x", client_id="a", client_secret="b").verify is True
    assert IOfficeSettings(base_url="https://x", token="t").verify is True
    assert "secret" not in repr(
        PortalSettings(base_url="https://x", client_id="a", client_secret="secret")
    )


def test_token_is_refreshed_on_401(standins):
    client = PortalClient(
        PortalSettings(
            base_url=standins.portal_url,
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            retry=RetryPolicy(3, 0.01, 0.05),
        )
    )
    calls = counting(client)
    client.search({"size": 1})
    standins.faults(
        "portal", [{"endpoint": "/pa/dossier/search", "kind": "expired_token", "rate": 1.0}]
    )
    with pytest.raises(Exception, match="HTTP 401"):
        client.search({"size": 1})
    tokens = [c for c in calls if "openid-connect/token" in c[0]]
    assert len(tokens) == 1 + 3  # the first one, then one refresh per attempt, each refused
    standins.faults(
        "portal", [{"endpoint": "/pa/dossier/search", "kind": "expired_token", "rate": 0.5}]
    )
    for _ in range(10):
        client.search({"size": 1})  # a refresh per 401, each request succeeds
    assert sum(1 for c in calls if c[1] == 401) > 2


def test_token_refreshed_before_expiry(standins, tmp_path):
    server, s = start_standins(tmp_path / "short", token_ttl=31)
    try:
        client = PortalClient(
            PortalSettings(base_url=s.portal_url, client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
        )
        calls = counting(client)
        client.search({"size": 1})
        time.sleep(1.2)  # 31 s TTL minus 30 s safety margin has passed
        client.search({"size": 1})
        assert sum(1 for c in calls if "token" in c[0]) == 2
        assert all(code == 200 for _, code in calls)
    finally:
        server.stop()


def test_5xx_is_retried_and_4xx_is_not(standins):
    client = PortalClient(
        PortalSettings(
            base_url=standins.portal_url,
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            retry=RetryPolicy(4, 0.01, 0.05),
        )
    )
    calls = counting(client)
    with pytest.raises(RemoteRefused) as err:
        client.get_dossier("0" * 24)
    assert err.value.status == 404
    assert sum(1 for p, _ in calls if p.startswith("/pa/dossier/000")) == 1
    standins.faults("portal", [{"endpoint": "/pa/dossier/search", "kind": "5xx", "rate": 1.0}])
    calls.clear()
    with pytest.raises(TransientHTTPError, match="HTTP 503"):
        client.search({"size": 1})
    assert sum(1 for p, c in calls if p.startswith("/pa/dossier/search") and c == 503) == 4


def test_wrong_credentials_are_refused_without_retry(standins):
    client = PortalClient(
        PortalSettings(base_url=standins.portal_url, client_id=CLIENT_ID, client_secret="wrong")
    )
    with pytest.raises(Exception, match="refused the client credentials"):
        client.search({"size": 1})


def test_personal_data_never_logged(standins, tmp_path, caplog):
    res = make_resources(standins, f"sqlite:///{tmp_path}/store.sqlite")
    standins.faults(
        "portal",
        [
            {"endpoint": "/pa/dossier", "kind": "malformed", "rate": 0.1},
            {"endpoint": "/pa/dossier/search", "kind": "5xx", "rate": 0.2},
        ],
        seed=9,
    )
    with caplog.at_level(logging.DEBUG):
        intake.pull_and_link(
            res,
            RunContext("t", "t"),
            intake.Window(updated_from=intake.EPOCH - timedelta(0)),
            advance_cursor=True,
        )
    res.close()

    people = []
    for raw in standins.portal_store.search(SearchFilters(), 0, 500, False)[0]:
        data = raw["applicant"]["data"]
        people += [data["fullname"], data["identityNumber"], data["phoneNumber"]]
    assert len(people) > 100
    text = caplog.text
    assert "quarantined" in text
    leaked = [p for p in people if p and p in text]
    assert leaked == []
