"""Authorization and audit over HTTP, with a real SimpleAuthManager user of each role.

Matrix: every page × 4 roles (all read), replay × 4 (op and admin only), stored payload × 4 (admin
only); refusals are 403 with the Vietnamese message (JSON, or an HTML page for browsers). Replays
and payload views, refused ones too, leave ``operator_action`` events naming the user and the
outcome, shown on the dossier's timeline and on the audit page.
"""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import unquote

import pytest
import requests
from sqlalchemy import select
from sqlalchemy.orm import Session

from lienthong.dashboard.access import FORBIDDEN_VI
from lienthong.store.schema import LinkEvent, Quarantine

from .conftest import ROLES, dag_run, form_token_for

READ_PAGES = [
    "/lienthong/",
    "/lienthong/?from=2020-01-01&to=2030-12-31",
    "/lienthong/api/summary",
    "/lienthong/dossier",
    "/lienthong/dossier?code=X",
    "/lienthong/quarantine",
    "/lienthong/quarantine?status=all",
    "/lienthong/watch",
    "/lienthong/audit",
]
OPERATORS = {"admin", "op"}
ADMINS = {"admin"}
HOSTILE = "<script>alert('x')</script>"


@pytest.fixture(scope="module")
def items(stack) -> dict[str, Quarantine]:
    """One quarantined portal dossier per role, that no replay can fix (the portal does not know
    it): a replay leaves it open, so every role's attempt meets the same state."""
    now = datetime.now(UTC)
    out = {}
    with Session(stack.res.engine, expire_on_commit=False) as s, s.begin():
        for i, role in enumerate(ROLES):
            rec = Quarantine(
                source="portal_dossier",
                item_key=f"roles-{role}",
                dossier_code=f"000.00.00.H36-221130-97{i:02d}",
                reason_code="malformed",
                reason_vi="Hồ sơ thiếu trường bắt buộc",
                detail="test",
                payload={"dossier": {"id": f"roles-{role}", "note": HOSTILE, "MaHoSo": role}},
                status="open",
                occurrences=1,
                first_seen_at=now,
                last_seen_at=now,
                heal_attempts=0,
            )
            s.add(rec)
            out[role] = rec
    return out


def operator_events(stack, code: str) -> list[dict]:
    with Session(stack.res.engine) as s:
        return [
            e.detail
            for e in s.scalars(
                select(LinkEvent)
                .where(LinkEvent.dossier_code == code, LinkEvent.kind == "operator_action")
                .order_by(LinkEvent.id)
            )
        ]


def assert_refused(r: requests.Response) -> None:
    assert r.status_code == 403, r.text[:300]
    assert r.json() == {"detail": FORBIDDEN_VI}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("path", READ_PAGES)
def test_every_role_may_read(stack, role, path):
    r = requests.get(stack.base + path, headers=stack.auth(role), timeout=60)
    assert r.status_code == 200, r.text[:300]


@pytest.mark.parametrize("role", ROLES)
def test_replay_only_by_operators(stack, items, role):
    item = items[role]
    r = requests.post(
        f"{stack.base}/lienthong/quarantine/{item.id}/replay",
        headers=stack.auth(role),
        timeout=120,
        allow_redirects=False,
    )
    events = operator_events(stack, item.dossier_code)
    if role in OPERATORS:  # a quarantine_replay run, started as this user
        assert r.status_code == 303, r.text[:300]
        run_id = unquote(r.headers["location"].rsplit("run_id=", 1)[1])
        assert dag_run(stack, "quarantine_replay", run_id)["triggering_user_name"] == role
        assert events[-1] == {
            "actor": role,
            "action": "replay",
            "target": f"quarantine#{item.id}",
            "outcome": "requested",
            "quarantine_id": item.id,
            "run_id": run_id,
        }
    else:
        assert_refused(r)
        assert events[-1] == {
            "actor": role,
            "action": "replay",
            "target": f"quarantine#{item.id}",
            "outcome": "denied",
            "quarantine_id": item.id,
        }
    with Session(stack.res.engine) as s:
        assert s.get(Quarantine, item.id).status == "open"
        replays = s.scalars(
            select(LinkEvent.kind).where(
                LinkEvent.dossier_code == item.dossier_code, LinkEvent.kind == "replay_requested"
            )
        ).all()
    assert replays == []  # the api-server never runs the pipeline: a worker does


@pytest.mark.parametrize("role", ROLES)
def test_payload_only_for_admins(stack, items, role):
    item = items["viewer"]
    r = requests.get(
        f"{stack.base}/lienthong/quarantine/{item.id}/payload", headers=stack.auth(role), timeout=60
    )
    if role in ADMINS:
        assert r.status_code == 200, r.text[:300]
        assert (
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in r.text and HOSTILE not in r.text
        )  # escaped
        assert "&#34;MaHoSo&#34;: &#34;viewer&#34;" in r.text
        expected = "shown"
    else:
        assert_refused(r)
        expected = "denied"
    assert operator_events(stack, item.dossier_code)[-1] == {
        "actor": role,
        "action": "view_payload",
        "target": f"quarantine#{item.id}",
        "outcome": expected,
        "quarantine_id": item.id,
    }


def test_payload_of_a_missing_record(stack):
    r = requests.get(
        f"{stack.base}/lienthong/quarantine/999999/payload", headers=stack.auth("admin"), timeout=60
    )
    assert r.status_code == 404 and r.json()["detail"] == "Không tìm thấy mục cách ly"


@pytest.mark.parametrize("role", ROLES)
def test_buttons_follow_the_grants(stack, items, role):
    page = requests.get(
        f"{stack.base}/lienthong/quarantine", headers=stack.auth(role), timeout=60
    ).text
    item = items[role]
    assert f'id="q-{item.id}"' in page
    assert (f'id="replay-{item.id}"' in page) == (role in OPERATORS)
    assert (f'id="payload-{item.id}"' in page) == (role in ADMINS)
    assert ("/replay" in page) == (role in OPERATORS)


def test_refusal_is_a_vietnamese_page_for_browsers(stack, items):
    item = items["viewer"]
    headers = {**stack.auth("viewer"), "Accept": "text/html,application/xhtml+xml"}
    for method, path in (("get", "payload"), ("post", "replay")):
        r = requests.request(
            method,
            f"{stack.base}/lienthong/quarantine/{item.id}/{path}",
            headers=headers,
            timeout=60,
            allow_redirects=False,
        )
        assert r.status_code == 403
        assert r.headers["content-type"].startswith("text/html")
        assert (
            'lang="vi"' in r.text and FORBIDDEN_VI in r.text and "Không có quyền truy cập" in r.text
        )
        assert "Người dùng: viewer" in r.text


def test_forged_cookie_post_by_a_viewer_is_refused(stack, items):
    """A viewer's own browser session, with a valid form token, still may not replay."""
    item = items["viewer"]
    r = requests.post(
        f"{stack.base}/lienthong/quarantine/{item.id}/replay",
        cookies={"_token": stack.token("viewer")},
        data={"csrf_token": form_token_for("viewer")},
        timeout=60,
        allow_redirects=False,
    )
    assert_refused(r)
    with Session(stack.res.engine) as s:
        assert s.get(Quarantine, item.id).status == "open"


def test_audit_trail_on_the_timeline_and_the_audit_page(stack, items):
    """After the matrix: each dossier's timeline names who did what and how it ended."""
    op_item, viewer_item = items["op"], items["viewer"]
    page = requests.get(
        f"{stack.base}/lienthong/dossier",
        params={"code": op_item.dossier_code},
        headers=stack.auth("viewer"),
        timeout=60,
    ).text
    row = next(tr for tr in page.split("<tr>") if "Thao tác của cán bộ" in tr and "Xử lý lại" in tr)
    assert (
        "<strong>Cán bộ</strong>: op" in row
        and "Đã gửi yêu cầu, xử lý trên Airflow (quarantine_replay)" in row
    )
    assert f"quarantine#{op_item.id}" in row and "dashboard:op" in row
    page = requests.get(
        f"{stack.base}/lienthong/dossier",
        params={"code": viewer_item.dossier_code},
        headers=stack.auth("viewer"),
        timeout=60,
    ).text
    rows = [tr for tr in page.split("<tr>") if "Thao tác của cán bộ" in tr]
    assert any(
        "<strong>Cán bộ</strong>: admin" in tr and "Xem dữ liệu gốc" in tr and "Đã xem" in tr
        for tr in rows
    )
    assert any(
        "<strong>Cán bộ</strong>: viewer" in tr and "Bị từ chối (không có quyền)" in tr
        for tr in rows
    )
    audit = requests.get(
        f"{stack.base}/lienthong/audit", headers=stack.auth("viewer"), timeout=60
    ).text
    table = audit.split('id="audit"')[1]
    assert table.count("<tr><td>") >= 12  # 4 replays + 4 payload views + refusals above
    assert "Xử lý lại mục cách ly" in table and "Xem dữ liệu gốc của mục cách ly" in table
    assert op_item.dossier_code in table


def test_nav_shows_the_audit_page(stack):
    page = requests.get(f"{stack.base}/lienthong/", headers=stack.auth("viewer"), timeout=60).text
    assert "Nhật ký thao tác" in page and "Người dùng: viewer" in page
