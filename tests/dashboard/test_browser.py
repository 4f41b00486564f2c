"""The dashboard in real headless Chromium (Debian ``chromium``, driven by Playwright): log in
through Airflow's login page, open the dashboard from the UI's navigation, search a dossier, replay
a quarantined item, read its stored payload; then as a viewer: no replay button, and a forged replay
is refused. Screenshots go to ``tests/artifacts/`` (gitignored)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
import requests
from playwright.sync_api import expect, sync_playwright
from sqlalchemy import select
from sqlalchemy.orm import Session

from lienthong.dashboard.access import FORBIDDEN_VI
from lienthong.store.schema import Quarantine
from lienthong_standins.harness import CLIENT_ID, CLIENT_SECRET
from tests.conftest import ROOT

from .conftest import ADMIN_PASSWORD, PASSWORDS, dag_run, form_token_for

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = ROOT / "tests" / "artifacts" / "dashboard"


@pytest.fixture(scope="module")
def browser(stack):
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        pytest.fail("Debian chromium is missing: run scripts/ensure-system-deps.sh as root")

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def _session(browser):
    """A fresh browser session (its own cookies)."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="vi-VN")
    pg = context.new_page()
    pg.set_default_timeout(30_000)
    return context, pg


@pytest.fixture(scope="module")
def page(browser):
    context, pg = _session(browser)
    try:
        yield pg
    finally:
        context.close()


def _log_in(page, username: str, password: str) -> None:
    page.wait_for_url(re.compile(r"/auth/login"))
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_login_search_and_replay(stack, page):
    # Anonymous: the dashboard sends the browser to Airflow's login page, which brings it back.
    page.goto(f"{stack.base}/lienthong/")
    page.wait_for_url(re.compile(r"/auth/login"))
    assert "Hồ sơ tiếp nhận" not in page.content()
    _log_in(page, "admin", ADMIN_PASSWORD)
    page.wait_for_url(re.compile(r"/lienthong/"))
    expect(page.locator("#fig-received")).not_to_have_text("0")
    expect(page.locator(".chart-title", has_text="Số tiền tiết kiệm theo cơ quan")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "01-tong-quan.png"), full_page=True)

    # The same dashboard inside Airflow's UI, from its navigation entry.
    page.goto(f"{stack.base}/")
    page.get_by_role("link", name="Liên thông").first.click()
    page.wait_for_url(re.compile(r"/plugin/lienthong"))
    frame = page.frame_locator("iframe").first
    expect(frame.locator("#fig-received")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "02-trong-airflow.png"))

    # Search a dossier and read its timeline.
    code = stack.attached_code()
    page.goto(f"{stack.base}/lienthong/dossier")
    page.locator("#code").fill(code)
    page.locator("#search").click()
    expect(page.locator("h2")).to_have_text(f"Hồ sơ {code}")
    timeline = page.locator("#timeline tbody tr")
    expect(timeline.first).to_be_visible()
    assert timeline.count() >= 4
    expect(page.locator("#timeline")).to_contain_text("Đã gắn kết quả")
    page.screenshot(path=str(ARTIFACTS / "03-tra-cuu-ho-so.png"), full_page=True)

    # Replay a quarantined package once the sender has fixed its files.
    stack.standins.faults("ioffice", [])
    item = stack.open_quarantine()[0]
    page.goto(f"{stack.base}/lienthong/quarantine")
    row = page.locator(f"#q-{item.id}")
    expect(row).to_contain_text(item.reason_vi)
    page.screenshot(path=str(ARTIFACTS / "04-cach-ly.png"), full_page=True)
    row.locator("input[name=reason]").fill("bên gửi đã ký lại")
    page.locator(f"#replay-{item.id}").click()
    # The api-server only asked Airflow for a quarantine_replay run, as this user; a worker replays.
    expect(page.locator("#replay-result")).to_contain_text(
        f"Đã gửi yêu cầu xử lý lại mục cách ly #{item.id}"
    )
    run_link = page.locator("#replay-run")
    run_id = run_link.inner_text()
    assert run_link.get_attribute("href") == f"/dags/quarantine_replay/runs/{run_id}"
    page.screenshot(path=str(ARTIFACTS / "05-xu-ly-lai.png"), full_page=True)
    run = dag_run(stack, "quarantine_replay", run_id)
    assert run["conf"] == {"quarantine_ids": [item.id], "reason": "bên gửi đã ký lại"}
    assert run["triggering_user_name"] == "admin"

    # An admin may read a record's stored payload; the page says the viewing is recorded.
    page.locator(f"#payload-{item.id}").click()
    expect(page.locator("h2")).to_have_text(f"Dữ liệu gốc của mục cách ly #{item.id}")
    expect(page.locator("#payload")).to_contain_text("{")
    page.screenshot(path=str(ARTIFACTS / "05b-du-lieu-goc.png"), full_page=True)
    if item.dossier_code:  # the replay and the viewing are on the dossier's timeline
        page.goto(f"{stack.base}/lienthong/dossier?code={item.dossier_code}")
        expect(page.locator("#timeline")).to_contain_text("Thao tác của cán bộ")
        expect(page.locator("#timeline")).to_contain_text("Xem dữ liệu gốc của mục cách ly")

    page.goto(f"{stack.base}/lienthong/watch")
    expect(page.get_by_text("Liên thông nằm quá lâu ở một trạng thái")).to_be_visible()
    expect(page.locator("#late thead")).to_contain_text("Đang chờ ở bước")
    expect(page.locator("#late thead")).to_contain_text("Ngày làm việc")
    page.screenshot(path=str(ARTIFACTS / "06-cham-qua-han.png"), full_page=True)

    # The service index of Decision 766, per unit and month, and what the link cannot compute.
    page.get_by_role("link", name="Chỉ số phục vụ").click()
    page.wait_for_url(re.compile(r"/lienthong/index"))
    expect(page.locator("#index-definitions")).to_contain_text("Tỷ lệ hồ sơ xử lý đúng hạn")
    rows = page.locator("#service-index tbody tr")
    expect(rows.first).to_be_visible()
    assert rows.count() >= 1 and "%" in rows.first.inner_text()
    expect(page.locator("#not-computed")).to_contain_text("thanh toán trực tuyến")
    page.screenshot(path=str(ARTIFACTS / "07-chi-so-phuc-vu.png"), full_page=True)


def test_viewer_sees_no_replay_and_cannot_forge_one(stack, browser):
    item = stack.open_quarantine()[0]
    context, page = _session(browser)
    try:
        page.goto(f"{stack.base}/lienthong/quarantine")
        _log_in(page, "viewer", PASSWORDS["viewer"])
        page.wait_for_url(re.compile(r"/lienthong/quarantine"))
        expect(page.locator(f"#q-{item.id}")).to_contain_text(item.reason_vi)
        expect(page.locator("header .user")).to_have_text("Người dùng: viewer")
        assert page.locator("button[id^=replay-]").count() == 0
        assert page.locator("a[id^=payload-]").count() == 0
        assert page.locator("form[action$='/replay']").count() == 0
        page.screenshot(path=str(ARTIFACTS / "07-viewer-cach-ly.png"), full_page=True)

        # A forged form in the viewer's own page (their cookie, a valid form token): refused, in
        # Vietnamese.
        page.evaluate(
            """([action, token]) => {
            const f = document.createElement("form");
            f.method = "post"; f.action = action;
            const i = document.createElement("input");
            i.type = "hidden"; i.name = "csrf_token"; i.value = token;
            f.appendChild(i); document.body.appendChild(f); f.submit();
        }""",
            [f"{stack.base}/lienthong/quarantine/{item.id}/replay", form_token_for("viewer")],
        )
        page.wait_for_url(re.compile(r"/replay$"))
        expect(page.locator("#error-message")).to_have_text(FORBIDDEN_VI)
        page.screenshot(path=str(ARTIFACTS / "08-viewer-bi-tu-choi.png"), full_page=True)
        # The same POST through the session's HTTP client: 403, nothing replayed.
        r = context.request.post(
            f"{stack.base}/lienthong/quarantine/{item.id}/replay",
            form={"csrf_token": form_token_for("viewer")},
            max_redirects=0,
        )
        assert r.status == 403 and r.json() == {"detail": FORBIDDEN_VI}
        # And the stored payload is not for viewers.
        response = page.goto(f"{stack.base}/lienthong/quarantine/{item.id}/payload")
        assert response is not None and response.status == 403
        expect(page.locator("#error-message")).to_have_text(FORBIDDEN_VI)
    finally:
        context.close()
    with Session(stack.res.engine) as s:
        assert s.get(Quarantine, item.id).status == "open"


def test_markup_in_dossier_text_is_shown_escaped(stack, browser):
    """A dossier with <script>/<img onerror> in its text is quarantined; the page shows the tag as
    text."""
    with Session(stack.res.engine) as s:
        marked = list(
            s.scalars(select(Quarantine).where(Quarantine.reason_code == "markup_in_text"))
        )
    assert marked, "no dossier with markup was quarantined: the check proves nothing"
    context, page = _session(browser)
    try:
        page.goto(f"{stack.base}/lienthong/quarantine?status=all")
        _log_in(page, "viewer", PASSWORDS["viewer"])
        page.wait_for_url(re.compile(r"/lienthong/quarantine\?status=all"))
        for item in marked:
            row = page.locator(f"#q-{item.id}")
            text = row.inner_text()
            assert "<script>" in text or "<img src=x" in text, text
            assert row.locator("script, img").count() == 0  # rendered as text, never as elements
        assert (
            page.evaluate("document.querySelectorAll('#quarantine script, #quarantine img').length")
            == 0
        )
        page.screenshot(
            path=str(ARTIFACTS / "09-ma-html-duoc-hien-thi-an-toan.png"), full_page=True
        )
    finally:
        context.close()


def test_connection_form_and_test_button(stack, browser):
    """The portal Connection in Airflow's own UI: the link's labelled fields, the Test button's real
    login, and a useful failure message after a wrong secret is saved through the form."""

    r = requests.post(
        f"{stack.base}/api/v2/connections",
        headers=stack.auth("admin"),
        timeout=30,
        json={
            "connection_id": "lienthong_portal_form",
            "conn_type": "igate_portal",
            "host": "127.0.0.1",
            "port": int(stack.standins.portal_url.rsplit(":", 1)[1]),
            "schema": "http",
            "login": CLIENT_ID,
            "password": CLIENT_SECRET,
            "extra": json.dumps({"timeout": 5}),
        },
    )
    assert r.status_code == 201, r.text
    context, page = _session(browser)
    try:
        page.goto(f"{stack.base}/connections")
        _log_in(page, "admin", PASSWORDS["admin"])
        row = page.locator("tr", has_text="lienthong_portal_form")
        expect(row).to_contain_text("igate_portal")

        with page.expect_response(
            lambda resp: resp.url.endswith("/api/v2/connections/test")
        ) as tested:
            row.get_by_role("button", name="Test Connection").click()
        body = tested.value.json()
        assert body["status"] is True, body
        assert body["message"].startswith("Kết nối Cổng Một cửa thành công")

        row.get_by_role("button", name="Edit Connection").click()
        dialog = page.get_by_role("dialog")
        expect(dialog).to_contain_text("Cổng Một cửa điện tử (VNPT iGate)")
        expect(dialog).to_contain_text("Máy chủ Cổng Một cửa (host)")
        expect(dialog).to_contain_text("Khóa bí mật (OIDC client secret)")
        page.screenshot(path=str(ARTIFACTS / "10-ket-noi-cong-mot-cua.png"), full_page=True)
        dialog.locator("input[type=password]").fill("not-the-secret")
        dialog.get_by_role("button", name="Save").click()
        expect(dialog).to_be_hidden()

        with page.expect_response(
            lambda resp: resp.url.endswith("/api/v2/connections/test")
        ) as tested:
            row.get_by_role("button", name="Test Connection").click()
        assert tested.value.json()["status"] is False
        expect(page.get_by_text("Test Connection Failed")).to_be_visible()
        expect(
            page.get_by_text("Cổng Một cửa từ chối thông tin đăng nhập", exact=False)
        ).to_be_visible()
        page.screenshot(path=str(ARTIFACTS / "11-ket-noi-sai-khoa-bi-mat.png"), full_page=True)
    finally:
        context.close()
