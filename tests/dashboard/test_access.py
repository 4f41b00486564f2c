"""The access policy in-process, against the real SimpleAuthManager: what each role is granted, and
that a user the auth manager lets read nothing gets a 403 from every route (no such user can be
configured in SimpleAuthManager, so this one is built here, not logged in)."""

from __future__ import annotations

import pytest
from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity, DagDetails
from airflow.api_fastapi.auth.managers.simple.simple_auth_manager import SimpleAuthManager
from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser
from fastapi import HTTPException
from fastapi.testclient import TestClient

from lienthong.dashboard import access
from lienthong.dashboard.access import FORBIDDEN_VI, Grants, grants_for
from lienthong.dashboard.app import create_app
from lienthong.dashboard.auth import get_user


@pytest.fixture
def simple(monkeypatch):
    manager = SimpleAuthManager()
    monkeypatch.setattr(access, "_auth_manager", lambda: manager)
    return manager


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("admin", Grants("admin", read=True, operate=True, audit=True, payload=True)),
        ("op", Grants("op", read=True, operate=True, audit=True, payload=False)),
        ("user", Grants("user", read=True, operate=False, audit=True, payload=False)),
        ("viewer", Grants("viewer", read=True, operate=False, audit=True, payload=False)),
        (None, Grants("nobody", read=False, operate=False, audit=False, payload=False)),
    ],
)
def test_grants_per_role(simple, role, expected):
    user = SimpleAuthManagerUser(username=expected.user, role=role)
    assert grants_for(user, expected.user) == expected


def test_user_role_may_trigger_dags_but_not_operate(simple):
    """Why the operate check is not the DAG-run check alone: SimpleAuthManager lets ``user``
    trigger."""

    user = SimpleAuthManagerUser(username="user", role="user")
    assert simple.is_authorized_dag(
        method="POST",
        access_entity=DagAccessEntity.RUN,
        details=DagDetails(id="dossier_intake"),
        user=user,
    )
    assert not grants_for(user, "user").operate


def test_a_failing_auth_manager_grants_nothing(monkeypatch):
    class Broken:
        def is_authorized_dag(self, **_):
            raise RuntimeError("manager down")

    monkeypatch.setattr(access, "_auth_manager", Broken)
    user = SimpleAuthManagerUser(username="admin", role="admin")
    assert grants_for(user, "admin") == Grants("admin", False, False, False, False)


@pytest.fixture
def client_without_read(simple):
    app = create_app()
    app.dependency_overrides[get_user] = lambda: SimpleAuthManagerUser(username="nobody", role=None)
    return TestClient(app, root_path="/lienthong")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/"),
        ("GET", "/api/summary"),
        ("GET", "/dossier?code=X"),
        ("GET", "/quarantine"),
        ("GET", "/watch"),
        ("GET", "/audit"),
        ("GET", "/quarantine/1/payload"),
        ("POST", "/quarantine/1/replay"),
    ],
)
def test_no_read_access_no_route(client_without_read, method, path):
    r = client_without_read.request(method, path)
    assert r.status_code == 403 and r.json() == {"detail": FORBIDDEN_VI}
    r = client_without_read.request(method, path, headers={"Accept": "text/html"})
    assert r.status_code == 403 and FORBIDDEN_VI in r.text and 'lang="vi"' in r.text
    assert "Người dùng: nobody" in r.text


def test_an_invalid_session_is_explained_in_vietnamese(simple):
    def invalid():
        raise HTTPException(403, "Invalid JWT token")

    app = create_app()
    app.dependency_overrides[get_user] = invalid
    client = TestClient(app, root_path="/lienthong")
    r = client.get("/quarantine", headers={"Accept": "text/html"})
    assert (
        r.status_code == 403
        and "Phiên đăng nhập không hợp lệ" in r.text
        and "Người dùng:" not in r.text
    )
    assert client.get("/quarantine").json() == {
        "detail": "Invalid JWT token"
    }  # API clients: Airflow's words
