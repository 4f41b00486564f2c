"""The dashboard over HTTP against a real api-server: anonymous requests are refused, users see
Vietnamese."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import unquote

import pytest
import requests
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lienthong.dashboard.data import _masked_detail
from lienthong.reconcile.watchlists import portal_now
from lienthong.store.schema import (
    DossierLink,
    DossierTimeSavings,
    LinkEvent,
    NationalSyncItem,
    Quarantine,
)

from .conftest import dag_run, standin_requests

PAGES = [
    "/lienthong/",
    "/lienthong/?from=2020-01-01&to=2030-12-31",
    "/lienthong/dossier",
    "/lienthong/dossier?code=X",
    "/lienthong/quarantine",
    "/lienthong/quarantine?status=all",
    "/lienthong/watch",
    "/lienthong/index",
    "/lienthong/api/summary",
]


def test_plugin_is_loaded_with_its_nav_entry(stack):
    r = requests.get(
        f"{stack.base}/api/v2/plugins",
        headers={"Authorization": f"Bearer {stack.token()}"},
        timeout=30,
    )
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
    r = requests.get(
        stack.base + path, headers={"Accept": "text/html"}, timeout=30, allow_redirects=False
    )
    assert r.status_code == 303 and r.headers["location"].startswith(
        "/auth/login?next=%2Flienthong"
    )
    assert "Hồ sơ" not in r.text
    for headers, cookies in (
        ({"Authorization": "Bearer not-a-token"}, None),
        ({}, {"_token": "forged"}),
    ):
        r = requests.get(
            stack.base + path, headers=headers, cookies=cookies, timeout=30, allow_redirects=False
        )
        assert r.status_code == 403, (headers, cookies)


def test_anonymous_and_forged_replay_are_refused(stack):
    item = stack.open_quarantine()[0]
    url = f"{stack.base}/lienthong/quarantine/{item.id}/replay"
    assert requests.post(url, timeout=30, allow_redirects=False).status_code == 401
    assert (
        requests.post(
            url,
            data={"csrf_token": "x"},
            headers={"Accept": "text/html"},
            timeout=30,
            allow_redirects=False,
        ).status_code
        == 401
    )
    assert (
        requests.post(url, headers={"Authorization": "Bearer forged"}, timeout=30).status_code
        == 403
    )
    # A signed-in browser session (cookie) without the form token is refused too (CSRF).
    r = requests.post(
        url,
        cookies={"_token": stack.token()},
        data={"csrf_token": "wrong"},
        timeout=30,
        allow_redirects=False,
    )
    assert r.status_code == 403
    assert (
        requests.get(
            url, headers={"Authorization": f"Bearer {stack.token()}"}, timeout=30
        ).status_code
        == 405
    )
    with Session(stack.res.engine) as s:
        assert s.get(Quarantine, item.id).status == "open"
        assert not s.scalar(
            select(func.count()).select_from(LinkEvent).where(LinkEvent.run_id.like("dashboard:%"))
        )


@pytest.fixture(scope="module")
def auth(stack):
    return {"Authorization": f"Bearer {stack.token()}"}


@pytest.mark.parametrize("path", PAGES[:-1])
def test_pages_answer_in_vietnamese(stack, auth, path):
    r = requests.get(stack.base + path, headers=auth, timeout=60)
    assert r.status_code == 200, r.text[:500]
    assert (
        'lang="vi"' in r.text
        and "Liên thông Một cửa ↔ iOffice" in r.text
        and "Tra cứu hồ sơ" in r.text
    )
    assert (
        "https://" not in r.text and "<script" not in r.text
    )  # offline: nothing fetched from elsewhere


def test_overview_figures_match_the_store(stack, auth):
    r = requests.get(f"{stack.base}/lienthong/", headers=auth, timeout=60)
    for label in (
        "Hồ sơ tiếp nhận",
        "Số giờ tiết kiệm",
        "Số tiền tiết kiệm",
        "Tỷ lệ gắn kết quả",
        "Tỷ lệ đúng hạn",
        "Văn bản không qua Một cửa",
        "Đang cách ly",
        "Hồ sơ tiếp nhận theo tháng",
        "Số tiền tiết kiệm theo cơ quan",
    ):
        assert label in r.text, label
    assert r.text.count("<svg") == 4
    summary = requests.get(f"{stack.base}/lienthong/api/summary", headers=auth, timeout=60).json()
    with Session(stack.res.engine) as s:  # the default period covers all the data
        processed = s.scalar(
            select(func.count())
            .select_from(DossierLink)
            .where(DossierLink.portal_status.not_in((1, 3)))
        )
        opened = s.scalar(
            select(func.count()).select_from(Quarantine).where(Quarantine.status == "open")
        )
        linked, vnd = s.execute(
            select(func.count(), func.sum(DossierTimeSavings.cost_saved_vnd))
        ).one()
    assert summary["dossiers_processed"] == processed > 0
    assert summary["quarantine_open_total"] == opened > 0
    assert summary["dossiers_linked"] == linked > 0 and summary["vnd_saved_measured"] == vnd
    assert summary["vnd_saved_article"] == processed * 16_000  # 0.5 h x 32,000 VND per dossier
    assert f"{vnd:,}".replace(",", ".") + " ₫" in r.text  # Vietnamese number format
    # the national sync figures: the same as the report module computes from the store
    with Session(stack.res.engine) as s:
        synced = s.scalar(
            select(func.count(func.distinct(NationalSyncItem.dossier_code))).where(
                NationalSyncItem.state == "sent"
            )
        )
        steps = s.scalar(
            select(func.count())
            .select_from(NationalSyncItem)
            .where(NationalSyncItem.state == "sent", NationalSyncItem.kind == "step")
        )
    national = summary["national_sync"]
    assert national["dossiers_synced"] == synced > 0 and national["steps_synced"] == steps > 0
    assert national["lag_p50_minutes"] is not None and summary["national_sync_by_agency"]
    assert (
        "Đồng bộ lên Cổng Dịch vụ công quốc gia" in r.text
        and "Tỷ lệ đúng hạn trên Cổng quốc gia" in r.text
    )
    # A period before the data holds nothing.
    empty = requests.get(
        f"{stack.base}/lienthong/api/summary?from=2001-01-01&to=2001-12-31",
        headers=auth,
        timeout=60,
    ).json()
    assert empty["dossiers_processed"] == 0 and empty["vnd_saved_measured"] == 0
    assert (
        requests.get(
            f"{stack.base}/lienthong/?from=2026-02-01&to=2026-01-01", headers=auth, timeout=60
        ).status_code
        == 400
    )


def test_dossier_timeline(stack, auth):
    code = stack.attached_code()
    r = requests.get(
        f"{stack.base}/lienthong/dossier", params={"code": code}, headers=auth, timeout=60
    )
    assert r.status_code == 200
    with Session(stack.res.engine) as s:
        events = list(s.scalars(select(LinkEvent).where(LinkEvent.dossier_code == code)))
        link = s.scalar(select(DossierLink).where(DossierLink.dossier_code == code))
    assert f"Diễn biến ({len(events)} sự kiện)" in r.text
    for label in ("Đã nhận từ Một cửa", "Đã chuyển sang iOffice", "Đã gắn kết quả"):
        assert label in r.text
    local = link.received_at.astimezone(timezone(timedelta(hours=7))).strftime("%d/%m/%Y %H:%M")
    assert local in r.text  # times shown in Vietnam time
    missing = requests.get(
        f"{stack.base}/lienthong/dossier?code=KHONG-CO", headers=auth, timeout=60
    )
    assert "Không tìm thấy hồ sơ có mã" in missing.text


def test_replay_starts_a_dag_run_as_the_user_and_calls_no_system(stack, auth):
    """The button asks Airflow for a ``quarantine_replay`` run as the signed-in user; the api-server
    itself sends nothing to the portal or iOffice (the stand-ins count every request)."""
    item = [q for q in stack.open_quarantine() if q.source == "ioffice_package"][-1]
    before = standin_requests(stack.standins)
    r = requests.post(
        f"{stack.base}/lienthong/quarantine/{item.id}/replay",
        headers=auth,
        timeout=120,
        data={"reason": "bên gửi đã ký lại"},
        allow_redirects=False,
    )
    assert r.status_code == 303, r.text
    assert standin_requests(stack.standins) == before, "the api-server called the portal or iOffice"
    location = r.headers["location"]
    assert f"replayed={item.id}&run_id=" in location
    run_id = unquote(location.rsplit("run_id=", 1)[1])
    run = dag_run(stack, "quarantine_replay", run_id)
    assert run["conf"] == {"quarantine_ids": [item.id], "reason": "bên gửi đã ký lại"}
    assert run["triggering_user_name"] == "admin" and run["run_type"] == "manual"
    with Session(stack.res.engine) as s:
        assert (
            s.get(Quarantine, item.id).status == "open"
        )  # the worker replays it, not the api-server
        audit = [
            e.detail
            for e in s.scalars(
                select(LinkEvent).where(LinkEvent.kind == "operator_action").order_by(LinkEvent.id)
            )
        ]
    assert (
        audit[-1]["outcome"] == "requested"
        and audit[-1]["run_id"] == run_id
        and audit[-1]["actor"] == "admin"
    )
    page = requests.get(f"{stack.base}{location}", headers=auth, timeout=60).text
    assert f"/dags/quarantine_replay/runs/{run_id}" in page and "Đã gửi yêu cầu xử lý lại" in page
    assert (
        requests.post(
            f"{stack.base}/lienthong/quarantine/999999/replay", headers=auth, timeout=60
        ).status_code
        == 404
    )


def test_masking_of_event_details():
    rows = dict(
        _masked_detail(
            {
                "note": "CCCD 012345678901, ĐT 0912345678",
                "n": 30,
                "phone": 84912345678,
                "MaVanBan": "VB-2022120100010",
            }
        )
    )
    assert rows["note"] == "CCCD *********901, ĐT *******678" and rows["n"] == "30"
    assert rows["phone"] == "********678" and rows["MaVanBan"] == "VB-2022120100010"


def test_watch_lists_overdue_and_stuck_links(stack, auth):
    """A link waiting for its signature past its due date, untouched for a week: on both lists."""

    with Session(stack.res.engine) as s, s.begin():
        now_portal, now = portal_now(s), datetime.now(UTC)
        s.add(
            DossierLink(
                dossier_id="watch-1",
                dossier_code="000.00.00.H36-221130-9999",
                agency_code="A",
                agency_name="UBND xã Thử Nghiệm",
                procedure_code="1.000001",
                procedure_name="Thủ tục thử",
                result_kind="decision",
                state="transferred",
                state_changed_at=now - timedelta(days=7),
                portal_status=4,
                portal_updated_at=now_portal,
                payload_hash="x",
                received_at=now_portal - timedelta(days=20),
                due_at=now_portal - timedelta(days=1),
                created_at=now,
            )
        )
    r = requests.get(f"{stack.base}/lienthong/watch", headers=auth, timeout=60)
    assert r.status_code == 200
    late, stuck = r.text.split('id="late"')[1].split('id="stuck"')
    assert "000.00.00.H36-221130-9999" in late and "Đã quá hạn" in late
    # Which stage waits, and how late in working days (the portal's clock; Tết and weekends out).
    assert "Chờ lãnh đạo ký số" in late and ("quá 1 ngày" in late or "(ngày nghỉ)" in late)
    assert "000.00.00.H36-221130-9999" in stuck and "Nằm quá lâu ở một trạng thái" in stuck


def test_watch_lists_quarantine_that_needs_a_person(stack, auth):
    """A quarantined decision dossier past its due date, and a record no automatic re-check will
    fix."""

    with Session(stack.res.engine) as s, s.begin():
        now_portal, now = portal_now(s), datetime.now(UTC)
        s.add(
            DossierLink(
                dossier_id="watch-q1",
                dossier_code="000.00.00.H36-221130-9998",
                agency_code="A",
                agency_name="UBND xã Thử Nghiệm",
                procedure_code="1.000001",
                procedure_name="Thủ tục thử",
                result_kind="decision",
                state="quarantined",
                state_changed_at=now,
                portal_status=2,
                portal_updated_at=now_portal,
                payload_hash="x",
                received_at=now_portal - timedelta(days=20),
                due_at=now_portal - timedelta(hours=3),
                created_at=now,
            )
        )
        for key, code, reason in (
            ("watch-q1", "000.00.00.H36-221130-9998", "no_route"),
            ("watch-q2", "000.00.00.H36-221130-9997", "untrusted"),
        ):
            s.add(
                Quarantine(
                    source="portal_dossier",
                    item_key=key,
                    dossier_code=code,
                    reason_code=reason,
                    reason_vi=f"Lý do thử {reason}",
                    detail="",
                    payload={},
                    status="open",
                    occurrences=1,
                    first_seen_at=now,
                    last_seen_at=now,
                    heal_attempts=0,
                )
            )
    r = requests.get(f"{stack.base}/lienthong/watch", headers=auth, timeout=60)
    assert r.status_code == 200
    section = r.text.split('id="needs-person"')[1].split('id="stuck"')[0]
    assert "000.00.00.H36-221130-9998" in section and "Sắp đến hạn / quá hạn" in section
    assert "000.00.00.H36-221130-9997" in section and "Không tự khắc phục được" in section


def test_service_index_page_matches_the_store(stack, auth):
    """Every unit and month of the index page, with the figures the report module computes from
    the store (the same formulas as the export's sheet)."""
    from lienthong.dashboard.data import data_period  # noqa: PLC0415 - as the page reads it
    from lienthong.report.service_index import service_index  # noqa: PLC0415

    period = data_period(stack.res.engine)
    frame = service_index(stack.res.engine, period.date_from, period.date_to)
    assert len(frame) > 0 and frame["received"].sum() > 0
    r = requests.get(f"{stack.base}/lienthong/index", headers=auth, timeout=60)
    assert r.status_code == 200
    table = r.text.split('id="service-index"')[1].split("</table>")[0]
    assert table.count("<tr>") - 1 == len(frame)  # one row per unit and month, plus the header
    first = frame.iloc[0]
    assert f"({int(first['e_results'])}/{int(first['decisions_finished'])})" in table
    assert "Công khai, minh bạch" in r.text and "Mức độ hài lòng" in r.text


def test_overview_filters_by_unit(stack, auth):
    with Session(stack.res.engine) as s:
        agency, count = s.execute(
            select(DossierLink.agency_code, func.count())
            .where(DossierLink.portal_status.not_in((1, 3)))
            .group_by(DossierLink.agency_code)
            .order_by(func.count().desc())
            .limit(1)
        ).one()
    url = f"{stack.base}/lienthong/api/summary"
    one = requests.get(url, params={"unit": agency}, headers=auth, timeout=60).json()
    assert one["dossiers_processed"] == count
    assert [u["agency_code"] for u in one["units"]] == [agency]
    everyone = requests.get(url, headers=auth, timeout=60).json()
    assert len(everyone["units"]) > 1 and everyone["dossiers_processed"] > count
    page = requests.get(
        f"{stack.base}/lienthong/", params={"unit": agency}, headers=auth, timeout=60
    )
    assert 'id="by-unit"' in page.text and f'<option value="{agency}" selected>' in page.text
    # The demo's routing has no unit history: "under today's units" is the units as received.
    today = requests.get(url, params={"view": "today"}, headers=auth, timeout=60)
    assert today.status_code == 200 and today.json()["units"] == everyone["units"]
    for bad in ({"unit": "000.99.99.H99"}, {"view": "yesterday"}):
        assert requests.get(url, params=bad, headers=auth, timeout=60).status_code == 400
