"""The dashboard over HTTP against a real api-server: anonymous requests are refused, users see Vietnamese."""

from __future__ import annotations

from datetime import timedelta, timezone

import pytest
import requests
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lienthong.store.schema import DossierLink, LinkEvent, Quarantine

PAGES = ["/lienthong/", "/lienthong/?from=2020-01-01&to=2030-12-31", "/lienthong/dossier",
         "/lienthong/dossier?code=X", "/lienthong/quarantine", "/lienthong/quarantine?status=all",
         "/lienthong/watch", "/lienthong/api/summary"]


def test_plugin_is_loaded_with_its_nav_entry(stack):
    r = requests.get(f"{stack.base}/api/v2/plugins", headers={"Authorization": f"Bearer {stack.token()}"},
                     timeout=30)
    r.raise_for_status()
    plugin = next(p for p in r.json()["plugins"] if p["name"] == "lienthong_dashboard")
    assert plugin["fastapi_apps"][0]["url_prefix"] == "/lienthong"
    assert plugin["external_views"][0]["name"] == "Liên thông"


@pytest.mark.parametrize("path", PAGES)
def test_anonymous_get_is_refused(stack, path):
    r = requests.get(stack.base + path, timeout=30, allow_redirects=False)
    assert r.status_code == 401
    assert "Hồ sơ" not in r.text and "<table" not in r.text
    # A browser is sent to Airflow's login page, and shown nothing of the dashboard.
    r = requests.get(stack.base + path, headers={"Accept": "text/html"}, timeout=30, allow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/auth/login?next=%2Flienthong")
    assert "Hồ sơ" not in r.text
    for headers, cookies in (({"Authorization": "Bearer not-a-token"}, None), ({}, {"_token": "forged"})):
        r = requests.get(stack.base + path, headers=headers, cookies=cookies, timeout=30, allow_redirects=False)
        assert r.status_code == 403, (headers, cookies)


def test_anonymous_and_forged_replay_are_refused(stack):
    item = stack.open_quarantine()[0]
    url = f"{stack.base}/lienthong/quarantine/{item.id}/replay"
    assert requests.post(url, timeout=30, allow_redirects=False).status_code == 401
    assert requests.post(url, data={"csrf_token": "x"}, headers={"Accept": "text/html"},
                         timeout=30, allow_redirects=False).status_code == 401
    assert requests.post(url, headers={"Authorization": "Bearer forged"}, timeout=30).status_code == 403
    # A signed-in browser session (cookie) without the form token is refused too (CSRF).
    r = requests.post(url, cookies={"_token": stack.token()}, data={"csrf_token": "wrong"}, timeout=30,
                      allow_redirects=False)
    assert r.status_code == 403
    assert requests.get(url, headers={"Authorization": f"Bearer {stack.token()}"}, timeout=30).status_code == 405
    with Session(stack.res.engine) as s:
        assert s.get(Quarantine, item.id).status == "open"
        assert not s.scalar(select(func.count()).select_from(LinkEvent).where(LinkEvent.run_id.like("dashboard:%")))


@pytest.fixture(scope="module")
def auth(stack):
    return {"Authorization": f"Bearer {stack.token()}"}


@pytest.mark.parametrize("path", PAGES[:-1])
def test_pages_answer_in_vietnamese(stack, auth, path):
    r = requests.get(stack.base + path, headers=auth, timeout=60)
    assert r.status_code == 200, r.text[:500]
    assert 'lang="vi"' in r.text and "Liên thông Một cửa ↔ iOffice" in r.text and "Tra cứu hồ sơ" in r.text
    assert "https://" not in r.text and "<script" not in r.text  # offline: nothing fetched from elsewhere


def test_overview_figures_match_the_store(stack, auth):
    r = requests.get(f"{stack.base}/lienthong/", headers=auth, timeout=60)
    for label in ("Hồ sơ tiếp nhận", "Số giờ tiết kiệm", "Số tiền tiết kiệm", "Tỷ lệ gắn kết quả",
                  "Tỷ lệ đúng hạn", "Văn bản không qua Một cửa", "Đang cách ly", "Hồ sơ tiếp nhận theo tháng",
                  "Số tiền tiết kiệm theo cơ quan"):
        assert label in r.text, label
    assert r.text.count("<svg") == 4
    summary = requests.get(f"{stack.base}/lienthong/api/summary", headers=auth, timeout=60).json()
    with Session(stack.res.engine) as s:
        links = s.scalar(select(func.count()).select_from(DossierLink))
        opened = s.scalar(select(func.count()).select_from(Quarantine).where(Quarantine.status == "open"))
    assert summary["dossiers_received"] == links > 0  # the default period covers all the data
    assert summary["quarantine_open"] == opened > 0
    assert summary["results_attached"] > 0 and summary["money_saved_vnd"] > 0
    assert summary["money_saved_vnd"] == round(summary["hours_saved"] * 32_000)
    # A period before the data holds nothing.
    empty = requests.get(f"{stack.base}/lienthong/api/summary?from=2001-01-01&to=2001-12-31", headers=auth,
                         timeout=60).json()
    assert empty["dossiers_received"] == 0 and empty["money_saved_vnd"] == 0
    assert requests.get(f"{stack.base}/lienthong/?from=2026-02-01&to=2026-01-01", headers=auth,
                        timeout=60).status_code == 400


def test_dossier_timeline(stack, auth):
    code = stack.attached_code()
    r = requests.get(f"{stack.base}/lienthong/dossier", params={"code": code}, headers=auth, timeout=60)
    assert r.status_code == 200
    with Session(stack.res.engine) as s:
        events = list(s.scalars(select(LinkEvent).where(LinkEvent.dossier_code == code)))
        link = s.scalar(select(DossierLink).where(DossierLink.dossier_code == code))
    assert f"Diễn biến ({len(events)} sự kiện)" in r.text
    for label in ("Đã nhận từ Một cửa", "Đã chuyển sang iOffice", "Đã gắn kết quả"):
        assert label in r.text
    local = link.received_at.astimezone(timezone(timedelta(hours=7))).strftime("%d/%m/%Y %H:%M")
    assert local in r.text  # times shown in Vietnam time
    missing = requests.get(f"{stack.base}/lienthong/dossier?code=KHONG-CO", headers=auth, timeout=60)
    assert "Không tìm thấy hồ sơ có mã" in missing.text


def test_replay_with_bearer_resolves_the_item(stack, auth):
    stack.standins.faults("ioffice", [])  # the sender fixed its files
    item = stack.open_quarantine()[-1]
    r = requests.post(f"{stack.base}/lienthong/quarantine/{item.id}/replay", headers=auth, timeout=120,
                      allow_redirects=False)
    assert r.status_code == 303, r.text
    assert r.headers["location"].endswith(f"replayed={item.id}&result=resolved")
    with Session(stack.res.engine) as s:
        rec = s.get(Quarantine, item.id)
        assert rec.status == "resolved"
        assert s.scalar(select(DossierLink.state).where(DossierLink.dossier_code == rec.dossier_code)) == "attached"
        runs = set(s.scalars(select(LinkEvent.run_id).where(LinkEvent.dossier_code == rec.dossier_code)))
    assert "dashboard:admin" in runs
    page = requests.get(f"{stack.base}{r.headers['location']}", headers=auth, timeout=60).text
    assert "Đã xử lý lại thành công" in page
    assert requests.post(f"{stack.base}/lienthong/quarantine/999999/replay", headers=auth,
                         timeout=60).status_code == 404


def test_masking_of_event_details():
    from lienthong.dashboard.data import _masked_detail

    rows = dict(_masked_detail({"note": "CCCD 012345678901, ĐT 0912345678", "n": 30}))
    assert rows["note"] == "CCCD *********901, ĐT *******678" and rows["n"] == "30"
