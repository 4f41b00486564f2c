"""The dashboard in real headless Chromium (Debian ``chromium``, driven by Playwright): log in through
Airflow's login page, open the dashboard from the UI's navigation, search a dossier, replay a quarantined
item. Screenshots go to ``tests/artifacts/`` (gitignored)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from lienthong.store.schema import Quarantine
from tests.conftest import ROOT

from .conftest import ADMIN_PASSWORD

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = ROOT / "tests" / "artifacts" / "dashboard"


@pytest.fixture(scope="module")
def page(stack):
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        pytest.fail("Debian chromium is missing: run scripts/ensure-system-deps.sh as root")
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="vi-VN")
        pg = context.new_page()
        pg.set_default_timeout(30_000)
        try:
            yield pg
        finally:
            context.close()
            browser.close()


def test_login_search_and_replay(stack, page):
    from playwright.sync_api import expect

    # Anonymous: the dashboard sends the browser to Airflow's login page, which brings it back.
    page.goto(f"{stack.base}/lienthong/")
    page.wait_for_url(re.compile(r"/auth/login"))
    assert "Hồ sơ tiếp nhận" not in page.content()
    page.locator("input[name=username]").fill("admin")
    page.locator("input[name=password]").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
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
    page.locator(f"#replay-{item.id}").click()
    expect(page.locator("#replay-result")).to_have_text(f"Mục cách ly #{item.id}: Đã xử lý lại thành công.")
    expect(page.locator(f"#q-{item.id}")).to_contain_text("Đã xử lý")
    page.screenshot(path=str(ARTIFACTS / "05-xu-ly-lai.png"), full_page=True)
    with Session(stack.res.engine) as s:
        assert s.get(Quarantine, item.id).status == "resolved"

    page.goto(f"{stack.base}/lienthong/watch")
    expect(page.get_by_text("Liên thông nằm quá lâu ở một trạng thái")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "06-cham-qua-han.png"), full_page=True)
