"""The link's provider, hooks and connection tests, against the real stand-ins."""

from __future__ import annotations

import json

import pytest
import requests
from airflow.providers_manager import ProvidersManager
from airflow.sdk.providers_manager_runtime import ProvidersManagerTaskRuntime

from lienthong.clients.errors import CredentialsRefused
from lienthong.clients.ioffice import IOfficeClient
from lienthong.clients.national import NationalClient
from lienthong.clients.oidc import ClientCredentialsAuth
from lienthong.clients.portal import PortalClient
from lienthong.orchestration.hooks import IGatePortalHook, IOfficeHook, NationalPortalHook
from lienthong_standins.harness import CLIENT_ID, CLIENT_SECRET, NATIONAL_PASSWORD


def test_provider_registers_both_connection_types_with_their_fields():
    pm = ProvidersManager()
    assert "lienthong" in pm.providers
    hooks = ProvidersManagerTaskRuntime().hooks
    assert hooks["igate_portal"].hook_class_name == "lienthong.orchestration.hooks.IGatePortalHook"
    assert hooks["vnpt_ioffice"].hook_class_name == "lienthong.orchestration.hooks.IOfficeHook"
    widgets = pm.connection_form_widgets
    for field in ("token_path", "page_size", "timeout", "verify"):
        assert f"extra__igate_portal__{field}" in widgets
    for field in (
        "base_path",
        "auth_scheme",
        "parent_unit",
        "trust_roots_file",
        "crl_url",
        "crl_max_age",
    ):
        assert f"extra__vnpt_ioffice__{field}" in widgets
    assert hooks["dvcqg"].hook_class_name == "lienthong.orchestration.hooks.NationalPortalHook"
    for field in ("base_path", "batch_size", "timeout", "verify"):
        assert f"extra__dvcqg__{field}" in widgets
    behaviour = pm.field_behaviours
    assert behaviour["igate_portal"]["relabeling"]["password"] == "Khóa bí mật (OIDC client secret)"
    assert "login" in behaviour["vnpt_ioffice"]["hidden_fields"]
    assert behaviour["dvcqg"]["relabeling"]["login"] == "Tên đăng nhập (username)"


def test_hooks_hand_out_the_plain_clients(airflow_env, standins):
    portal, ioffice = IGatePortalHook().get_conn(), IOfficeHook().get_conn()
    try:
        assert isinstance(portal, PortalClient) and portal.settings.base_url == standins.portal_url
        assert (
            isinstance(ioffice, IOfficeClient) and ioffice.settings.base_url == standins.ioffice_url
        )
        assert ioffice.settings.trust_roots_pem.startswith("-----BEGIN CERTIFICATE-----")
        assert portal.search({"page": 0, "size": 1})["content"] is not None
    finally:
        portal.close()
        ioffice.close()


def test_connection_tests_pass_against_the_stand_ins(airflow_env):
    ok, message = IGatePortalHook().test_connection()
    assert ok, message
    assert message.startswith("Kết nối Cổng Một cửa thành công")
    ok, message = IOfficeHook().test_connection()
    assert ok, message
    assert "Kết nối iOffice thành công" in message and "CRL" in message
    ok, message = NationalPortalHook().test_connection()
    assert ok, message
    assert message.startswith("Kết nối Cổng DVCQG thành công")


def test_national_hook_hands_out_the_plain_client(airflow_env, standins):
    client = NationalPortalHook().get_conn()
    try:
        assert (
            isinstance(client, NationalClient) and client.settings.base_url == standins.national_url
        )
        assert client.held(["000.00.00.H36-000000-0000"]) == {}  # logs in on first use
    finally:
        client.close()


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"password": "wrong-password"}, "Cổng DVCQG từ chối thông tin đăng nhập"),
        ({"port": 1}, "Không kết nối được tới Cổng DVCQG"),
    ],
)
def test_national_connection_test_says_what_failed(airflow_env, monkeypatch, changes, expected):
    _with(monkeypatch, "AIRFLOW_CONN_LIENTHONG_DVCQG", airflow_env, **changes)
    ok, message = NationalPortalHook().test_connection()
    assert not ok and message.startswith(expected), message
    assert "wrong-password" not in message and NATIONAL_PASSWORD not in message


def _with(monkeypatch, env_key: str, airflow_env: dict, **changes) -> None:
    conn = json.loads(airflow_env[env_key])
    extra = {**conn.get("extra", {}), **changes.pop("extra", {})}
    monkeypatch.setenv(env_key, json.dumps({**conn, **changes, "extra": extra}))


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"password": "wrong-secret"}, "Cổng Một cửa từ chối thông tin đăng nhập"),
        ({"port": 1}, "Không kết nối được tới Cổng Một cửa"),
        (
            {"schema": "https"},
            "Lỗi chứng chỉ TLS khi kết nối Cổng Một cửa",
        ),  # TLS to a plain-HTTP server
    ],
)
def test_portal_connection_test_says_what_failed(airflow_env, monkeypatch, changes, expected):
    _with(monkeypatch, "AIRFLOW_CONN_LIENTHONG_PORTAL", airflow_env, **changes)
    ok, message = IGatePortalHook().test_connection()
    assert not ok and message.startswith(expected), message
    assert "wrong-secret" not in message and CLIENT_SECRET not in message


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"password": "wrong-token"}, "iOffice từ chối thông tin đăng nhập"),
        ({"port": 1}, "Không kết nối được tới iOffice"),
        (
            {"extra": {"trust_roots_file": "/nonexistent/roots.pem"}},
            "Cấu hình kết nối iOffice không hợp lệ",
        ),
    ],
)
def test_ioffice_connection_test_says_what_failed(airflow_env, monkeypatch, changes, expected):
    _with(monkeypatch, "AIRFLOW_CONN_LIENTHONG_IOFFICE", airflow_env, **changes)
    ok, message = IOfficeHook().test_connection()
    assert not ok and message.startswith(expected), message
    assert "wrong-token" not in message


def test_oidc_auth_renews_a_refused_token_once(standins):
    """The stand-in refuses every token while expired_token fires: one renewal per request, then the
    caller decides; with the fault off the same auth object works again."""
    auth = ClientCredentialsAuth(
        standins.portal_url + "/auth/realms/digo/protocol/openid-connect/token",
        CLIENT_ID,
        CLIENT_SECRET,
    )

    first = auth.token()
    standins.faults("portal", [{"endpoint": "/pa", "kind": "expired_token", "rate": 1.0}])
    r = requests.get(
        standins.portal_url + "/pa/dossier/search", params={"size": 1}, auth=auth, timeout=10
    )
    assert r.status_code == 401 and len(r.history) == 1  # renewed and resent once
    assert auth.token() != first
    standins.faults("portal", [])
    assert (
        requests.get(
            standins.portal_url + "/pa/dossier/search", params={"size": 1}, auth=auth, timeout=10
        ).status_code
        == 200
    )
    with pytest.raises(CredentialsRefused):
        ClientCredentialsAuth(auth.token_url, CLIENT_ID, "not-the-secret").fetch_token()
    assert "secret" not in repr(auth).lower() or CLIENT_SECRET not in repr(auth)
