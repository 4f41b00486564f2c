"""Contract tests of the portal stand-in over real HTTP (docs/standins.md, Portal)."""

from __future__ import annotations

import hashlib
import random
import time
from typing import Any

import pytest
import requests
from sqlalchemy import select

from lienthong_standins.district import DISTRICT, PROCEDURE_BY_CODE
from lienthong_standins.faults import BAD_PAGE_VARIANTS, MALFORMED_NAMED_ONLY, MALFORMED_VARIANTS
from lienthong_standins.portal.malform import BROKEN_DATE, REQUIRED_FIELDS, UNKNOWN_PROCEDURE
from lienthong_standins.portal.store import dossiers

from .conftest import CLIENT_ID, TOKEN_PATH, PortalEnv

SEARCH = "/pa/dossier/search"


def search(s: requests.Session, env: PortalEnv, **params: Any) -> dict[str, Any]:
    r = s.get(
        env.url + SEARCH, params={k.replace("_", "-"): v for k, v in params.items()}, timeout=10
    )
    assert r.status_code == 200, r.text
    return r.json()


def all_visible(s: requests.Session, env: PortalEnv) -> list[dict[str, Any]]:
    return search(s, env, size=500, sort="updatedDate,asc")["content"]


def step(name: str = "Nguyễn Văn Hùng", content: str = "Thẩm định hồ sơ") -> dict[str, str]:
    return {
        "NguoiXuLy": name,
        "ChucDanh": "Chuyên viên",
        "ThoiDiemXuLy": "20221201090000",
        "PhongBanXuLy": "Phòng Tài chính - Kế hoạch",
        "NoiDungXuLy": content,
        "TrangThai": "4",
        "NgayBatDau": "20221201090000",
        "NgayKetThucTheoQuyDinh": "20221206090000",
    }


# ------------------------------------------------------------------------------ auth


def test_token_requires_valid_client_credentials(env: PortalEnv) -> None:
    bad = requests.post(
        env.url + TOKEN_PATH,
        data={"grant_type": "client_credentials"},
        auth=(CLIENT_ID, "wrong"),
        timeout=10,
    )
    assert bad.status_code == 401 and bad.json()["error"] == "invalid_client"
    none = requests.post(
        env.url + TOKEN_PATH, data={"grant_type": "client_credentials"}, timeout=10
    )
    assert none.status_code == 401
    ok = requests.post(
        env.url + TOKEN_PATH,
        data={"grant_type": "client_credentials"},
        auth=(CLIENT_ID, "test-secret"),
        timeout=10,
    )
    body = ok.json()
    assert ok.status_code == 200 and body["token_type"] == "Bearer" and body["expires_in"] == 300
    assert len(body["access_token"]) >= 32


def test_api_needs_a_live_bearer_token(env: PortalEnv) -> None:
    assert requests.get(env.url + SEARCH, timeout=10).status_code == 401
    r = requests.get(env.url + SEARCH, headers={"Authorization": "Bearer not-a-token"}, timeout=10)
    assert r.status_code == 401 and "invalid_token" in r.headers["www-authenticate"]
    assert requests.get(env.url + "/fi/file/abc", timeout=10).status_code == 401
    assert env.session().get(env.url + SEARCH, timeout=10).status_code == 200


def test_tokens_expire_on_real_time(make_portal) -> None:
    env = make_portal(token_ttl=1)
    s = env.session()
    assert s.get(env.url + SEARCH, timeout=10).status_code == 200
    time.sleep(1.3)
    assert (
        s.get(env.url + SEARCH, timeout=10).status_code == 401
    )  # the sim clock is frozen: real time counts
    s.headers["Authorization"] = f"Bearer {env.token()}"
    assert s.get(env.url + SEARCH, timeout=10).status_code == 200


# ------------------------------------------------------------------------------ search


def test_dossiers_appear_as_the_clock_passes_their_acceptance(env: PortalEnv) -> None:
    s = env.session()
    before = search(s, env)["totalElements"]
    env.advance(3600)
    after = search(s, env)["totalElements"]
    assert after > before
    env.advance(9 * 3600)
    assert search(s, env)["totalElements"] == 300
    stats = requests.get(env.url + "/_admin/stats", timeout=10).json()
    assert stats["dossiers"]["visible"] == 300 == stats["dossiers"]["total"]


def test_hidden_dossier_is_not_found_until_accepted(env: PortalEnv) -> None:
    s = env.session()
    with env.store.engine.connect() as c:
        row = c.execute(
            select(dossiers.c.id, dossiers.c.accepted_ms).order_by(dossiers.c.accepted_ms.desc())
        ).first()
    assert s.get(f"{env.url}/pa/dossier/{row.id}", timeout=10).status_code == 404
    env.advance(10 * 3600)
    r = s.get(f"{env.url}/pa/dossier/{row.id}", timeout=10)
    assert r.status_code == 200 and r.json()["id"] == row.id
    assert s.get(f"{env.url}/pa/dossier/not-an-id", timeout=10).status_code == 404
    assert s.get(f"{env.url}/pa/dossier/{'0' * 24}", timeout=10).status_code == 404


def test_dossier_shape_and_dates(day_env: PortalEnv) -> None:
    s = day_env.session()
    d = search(s, day_env, size=1)["content"][0]
    for key in (
        "id",
        "code",
        "dossierStatus",
        "applicant",
        "procedure",
        "agency",
        "acceptedDate",
        "appointmentDate",
        "dueDate",
        "updatedDate",
        "processingTime",
        "currentTask",
        "task",
        "dossierFormFile",
        "attachment",
    ):
        assert key in d, key
    assert len(d["id"]) == 24 and int(d["id"], 16) >= 0
    assert d["acceptedDate"].endswith("+0700") and len(d["acceptedDate"]) == len(
        "2022-12-01T08:05:00.000+0700"
    )
    assert d["code"].startswith(d["agency"]["code"] + "-221201-")
    assert {n["languageId"] for n in d["agency"]["name"]} == {228, 46}
    assert len(d["applicant"]["data"]["identityNumber"]) == 12


def test_filters(day_env: PortalEnv) -> None:
    s = day_env.session()
    everything = all_visible(s, day_env)
    assert len(everything) == 300
    sample = everything[17]
    assert [d["id"] for d in search(s, day_env, code=sample["code"])["content"]] == [sample["id"]]
    by_proc = search(s, day_env, procedure_code=sample["procedure"]["code"], size=500)
    assert by_proc["totalElements"] == sum(
        d["procedure"]["code"] == sample["procedure"]["code"] for d in everything
    )
    assert (
        search(s, day_env, procedure_id=sample["procedure"]["id"])["totalElements"]
        == by_proc["totalElements"]
    )
    by_agency = search(s, day_env, agency_id=sample["agency"]["id"])["totalElements"]
    assert by_agency == sum(d["agency"]["id"] == sample["agency"]["id"] for d in everything)

    assert search(s, day_env, ancestor_agency_id=DISTRICT.id)["totalElements"] == 300
    for status_list in ("2", "4,9", "10"):
        wanted = {int(x) for x in status_list.split(",")}
        got = search(s, day_env, dossier_status=status_list, size=500)
        assert got["totalElements"] == sum(d["dossierStatus"]["id"] in wanted for d in everything)
        assert all(d["dossierStatus"]["id"] in wanted for d in got["content"])
    morning = search(
        s,
        day_env,
        accepted_from="2022-12-01T07:00:00.000+0700",
        accepted_to="2022-12-01T12:00:00.000+0700",
    )["totalElements"]
    assert morning == sum(d["acceptedDate"] < "2022-12-01T12:00" for d in everything)
    assert 0 < morning < 300
    r = s.get(day_env.url + SEARCH, params={"accepted-from": "2022-99-99"}, timeout=10)
    assert r.status_code == 400


def test_spring_paging_envelope(day_env: PortalEnv) -> None:
    s = day_env.session()
    p0 = search(s, day_env, size=40, page=0)
    assert (
        p0["totalElements"],
        p0["totalPages"],
        p0["number"],
        p0["size"],
        p0["numberOfElements"],
    ) == (300, 8, 0, 40, 40)
    assert p0["first"] and not p0["last"]
    last = search(s, day_env, size=40, page=7)
    assert last["numberOfElements"] == 20 and last["last"]
    assert search(s, day_env, size=9999)["size"] == 500
    desc = [d["updatedDate"] for d in p0["content"]]
    assert desc == sorted(desc, reverse=True)  # default sort updatedDate,desc


def _keyset_client(s: requests.Session, env: PortalEnv, size: int, between_pages) -> dict[str, str]:
    """A client that pages by ``updated-from`` + ``sort=updatedDate,asc`` with the id as tiebreak,
    remembering the (updatedDate, id) of the last dossier it saw. Returns id -> updatedDate seen
    last."""
    seen: dict[str, str] = {}
    cursor: tuple[str, str] = ("", "")
    page, rounds = 0, 0
    while True:
        params: dict[str, Any] = {"sort": "updatedDate,asc", "size": size, "page": page}
        if cursor[0]:
            params["updated-from"] = cursor[0]
        body = search(s, env, **params)
        fresh = [d for d in body["content"] if (d["updatedDate"], d["id"]) > cursor]
        for d in fresh:
            seen[d["id"]] = d["updatedDate"]
        if body["last"]:
            return seen  # caught up with the present
        if fresh:
            cursor, page = (fresh[-1]["updatedDate"], fresh[-1]["id"]), 0
        else:
            page += 1  # a full page of ties with the cursor: look further
        between_pages(rounds)
        rounds += 1
        assert rounds < 200


def test_keyset_paging_sees_every_dossier_while_others_change(day_env: PortalEnv) -> None:
    s = day_env.session()
    writer = day_env.session()
    ids = [d["id"] for d in all_visible(s, day_env)]
    rng = random.Random(3)
    touched: dict[str, int] = {}

    def change_some(_round: int) -> None:
        for did in rng.sample(ids, 4):  # seen or not yet seen, the client cannot know
            r = writer.post(
                f"{day_env.url}/pa/dossier/{did}/step",
                json=step(content=f"Bước {_round}"),
                timeout=10,
            )
            assert r.status_code == 200
            touched[did] = touched.get(did, 0) + 1

    seen = _keyset_client(s, day_env, 25, change_some)
    assert set(seen) == set(ids)  # nothing missed
    final = {d["id"]: d["updatedDate"] for d in all_visible(s, day_env)}
    assert seen == final  # and it saw every change made before its last page, in its latest state
    assert len(touched) > 20  # the test did change many dossiers while paging


def test_naive_offset_paging_misses_dossiers_under_the_same_changes(day_env: PortalEnv) -> None:
    """What the client must NOT rely on: page numbers over a changing ordering skip dossiers."""
    s = day_env.session()
    writer = day_env.session()
    ids = [d["id"] for d in all_visible(s, day_env)]
    seen: list[str] = []
    for page in range(12):
        body = search(s, day_env, sort="updatedDate,asc", size=25, page=page)
        seen += [d["id"] for d in body["content"]]
        for did in seen[:3]:  # dossiers already read change and move to the end of the ordering
            writer.post(
                f"{day_env.url}/pa/dossier/{did}/step", json=step(), timeout=10
            ).raise_for_status()
    missed = set(ids) - set(seen)
    assert missed, "offset paging over a changing ordering was expected to skip dossiers"


def test_updated_date_changes_on_every_change_even_with_a_frozen_clock(day_env: PortalEnv) -> None:
    s = day_env.session()
    d = search(s, day_env, dossier_status="2", size=1)["content"][0]
    stamps = [d["updatedDate"]]
    for _ in range(3):
        r = s.post(f"{day_env.url}/pa/dossier/{d['id']}/step", json=step(), timeout=10)
        stamps.append(r.json()["updatedDate"])
    assert stamps == sorted(stamps) and len(set(stamps)) == 4


# ------------------------------------------------------------------------------ lifecycle


def _decision_dossier(s: requests.Session, env: PortalEnv) -> dict[str, Any]:
    for d in search(s, env, dossier_status="2", size=500)["content"]:
        if PROCEDURE_BY_CODE[d["procedure"]["code"]].result_kind == "decision":
            return d
    raise AssertionError("no decision dossier waiting")


def put_status(
    s: requests.Session, env: PortalEnv, did: str, status: int, **extra: Any
) -> requests.Response:
    return s.put(
        f"{env.url}/pa/dossier/{did}/status", json={"statusId": status, **extra}, timeout=10
    )


def test_lifecycle_rules_and_result_requirement(day_env: PortalEnv) -> None:
    s = day_env.session()
    d = _decision_dossier(s, day_env)
    assert d["currentTask"][0]["mustAttachResultsFile"] is True
    did = d["id"]
    bad = put_status(s, day_env, did, 9)
    assert bad.status_code == 409 and bad.json()["error"] == "ILLEGAL_TRANSITION"
    assert put_status(s, day_env, did, 10).json()["error"] == "ILLEGAL_TRANSITION"
    moved = put_status(s, day_env, did, 4, step=step())
    assert moved.status_code == 200 and moved.json()["dossierStatus"]["id"] == 4
    assert moved.json()["task"][-1]["NoiDungXuLy"] == "Thẩm định hồ sơ"
    done = put_status(s, day_env, did, 9)
    assert done.status_code == 200 and done.json()["completedDate"] is not None
    refused = put_status(s, day_env, did, 10)
    assert refused.status_code == 409 and refused.json()["error"] == "RESULT_REQUIRED"

    pdf = b"%PDF-1.7\n% signed decision\n%%EOF\n"
    up = s.post(
        f"{day_env.url}/fi/file/--multiple",
        files=[("files", ("QD-123.pdf", pdf, "application/pdf"))],
        timeout=10,
    )
    assert up.status_code == 200
    meta = up.json()[0]
    assert meta["size"] == len(pdf) and meta["sha256"] == hashlib.sha256(pdf).hexdigest()
    body = {
        "fileId": meta["id"],
        "filename": "QD-123.pdf",
        "document": {
            "codeNotation": "123/QĐ-UBND",
            "documentType": "QĐ",
            "subject": "Quyết định cấp phép",
            "signer": "Hà Minh Chi",
            "promulgationDate": "01/12/2022",
        },
    }
    unknown = s.post(
        f"{day_env.url}/pa/dossier/{did}/result", json={**body, "fileId": "f" * 24}, timeout=10
    )
    assert unknown.status_code == 404
    att = s.post(f"{day_env.url}/pa/dossier/{did}/result", json=body, timeout=10)
    assert (
        att.status_code == 200
        and att.json()["attachment"][-1]["document"]["codeNotation"] == "123/QĐ-UBND"
    )
    again = s.post(f"{day_env.url}/pa/dossier/{did}/result", json=body, timeout=10)
    assert again.status_code == 409 and again.json()["error"] == "ALREADY_ATTACHED"
    returned = put_status(s, day_env, did, 10)
    assert returned.status_code == 200 and returned.json()["returnedDate"] is not None
    assert returned.json()["currentTask"] == []
    assert put_status(s, day_env, did, 4).json()["error"] == "ILLEGAL_TRANSITION"  # 10 is final
    stats = requests.get(day_env.url + "/_admin/stats", timeout=10).json()
    assert stats["attachments"] == 1 and stats["files"]["uploaded"] == 1


def test_step_validation(day_env: PortalEnv) -> None:
    s = day_env.session()
    d = _decision_dossier(s, day_env)
    r = s.post(f"{day_env.url}/pa/dossier/{d['id']}/step", json=step(name="x" * 51), timeout=10)
    assert r.status_code == 422
    assert (
        s.post(f"{day_env.url}/pa/dossier/{'a' * 24}/step", json=step(), timeout=10).status_code
        == 404
    )


# ------------------------------------------------------------------------------ files


def test_files_upload_download_delete(env: PortalEnv) -> None:
    s = env.session()
    files = [
        ("files", ("a.pdf", b"%PDF-a", "application/pdf")),
        ("files", ("Biên bản.txt", "xin chào".encode(), "text/plain")),
    ]
    metas = s.post(f"{env.url}/fi/file/--multiple", files=files, timeout=10).json()
    assert [m["filename"] for m in metas] == ["a.pdf", "Biên bản.txt"]
    got = s.get(f"{env.url}/fi/file/{metas[1]['id']}", timeout=10)
    assert got.content == "xin chào".encode() and got.headers["content-type"].startswith(
        "text/plain"
    )
    assert s.delete(f"{env.url}/fi/file/{metas[1]['id']}", timeout=10).status_code == 204
    assert s.get(f"{env.url}/fi/file/{metas[1]['id']}", timeout=10).status_code == 404
    assert s.delete(f"{env.url}/fi/file/{metas[1]['id']}", timeout=10).status_code == 404


def test_filed_forms_are_downloadable_pdfs(day_env: PortalEnv) -> None:
    s = day_env.session()
    d = search(s, day_env, size=1)["content"][0]
    f = d["dossierFormFile"][0]["file"][0]
    got = s.get(f"{day_env.url}/fi/file/{f['id']}", timeout=10)
    assert (
        got.status_code == 200
        and got.content.startswith(b"%PDF-")
        and len(got.content) == f["size"]
    )


# ------------------------------------------------------------------------------ the desk


def test_desk_processes_direct_dossiers_and_leaves_decisions_for_the_link(env: PortalEnv) -> None:
    s = env.session()
    performed = env.advance(10 * 3600)["performed"]
    assert performed["desk_moves"] > 0
    docs = all_visible(s, env)
    direct = [d for d in docs if PROCEDURE_BY_CODE[d["procedure"]["code"]].result_kind == "direct"]
    decision = [
        d for d in docs if PROCEDURE_BY_CODE[d["procedure"]["code"]].result_kind == "decision"
    ]
    assert all(d["dossierStatus"]["id"] == 2 for d in decision)
    assert {d["dossierStatus"]["id"] for d in direct} - {2, 4, 9, 10} == set()
    env.advance(7 * 24 * 3600)
    docs = all_visible(s, env)
    direct = [d for d in docs if PROCEDURE_BY_CODE[d["procedure"]["code"]].result_kind == "direct"]
    assert direct and all(d["dossierStatus"]["id"] == 10 for d in direct)
    assert all(
        d["returnedDate"] and d["completedDate"] and d["updatedDate"] >= d["returnedDate"]
        for d in direct
    )
    assert all(len(d["task"]) == 4 for d in direct)
    assert all(d["dossierStatus"]["id"] == 2 for d in docs if d not in direct)


# ------------------------------------------------------------------------------ faults


def test_fault_latency(env: PortalEnv) -> None:
    s = env.session()
    env.faults({"endpoint": SEARCH, "kind": "latency", "latency_ms": 400})
    t = time.perf_counter()
    assert s.get(env.url + SEARCH, timeout=10).status_code == 200
    assert time.perf_counter() - t >= 0.4


def test_fault_5xx(env: PortalEnv) -> None:
    s = env.session()
    env.faults({"endpoint": SEARCH, "kind": "5xx", "status": 502})
    assert s.get(env.url + SEARCH, timeout=10).status_code == 502
    env.faults()
    assert s.get(env.url + SEARCH, timeout=10).status_code == 200


def test_fault_timeout(env: PortalEnv) -> None:
    s = env.session()
    env.faults({"endpoint": SEARCH, "kind": "timeout", "hold_seconds": 1.5})
    with pytest.raises(requests.Timeout):
        s.get(env.url + SEARCH, timeout=0.3)


def test_fault_reset(env: PortalEnv) -> None:
    s = env.session()
    env.faults({"endpoint": SEARCH, "kind": "reset"})
    with pytest.raises((requests.ConnectionError, requests.exceptions.ChunkedEncodingError)):
        s.get(env.url + SEARCH, timeout=5)


def test_fault_expired_token_spares_the_token_endpoint(env: PortalEnv) -> None:
    env.faults({"endpoint": "*", "kind": "expired_token"})
    fresh = env.token()  # the token endpoint still answers
    r = requests.get(env.url + SEARCH, headers={"Authorization": f"Bearer {fresh}"}, timeout=10)
    assert r.status_code == 401 and r.json()["error"] == "invalid_token"
    env.faults()
    assert (
        requests.get(
            env.url + SEARCH, headers={"Authorization": f"Bearer {fresh}"}, timeout=10
        ).status_code
        == 200
    )


@pytest.mark.parametrize("variant", MALFORMED_VARIANTS + MALFORMED_NAMED_ONLY)
def test_fault_malformed_variants(day_env: PortalEnv, variant: str) -> None:
    s = day_env.session()
    clean = search(s, day_env, size=5, sort="updatedDate,asc")["content"]
    day_env.faults({"endpoint": "/pa/dossier", "kind": "malformed", "variant": variant})
    bad = search(s, day_env, size=5, sort="updatedDate,asc")["content"]
    one = s.get(f"{day_env.url}/pa/dossier/{clean[0]['id']}", timeout=10).json()
    assert one == bad[0]  # keyed: the same dossier is damaged the same way everywhere
    for c, b in zip(clean, bad, strict=True):
        assert b != c and b["id"] == c["id"]
        if variant == "missing_field":
            assert [f for f in REQUIRED_FIELDS if f not in b]
        elif variant == "broken_date":
            assert b["acceptedDate"] == BROKEN_DATE
        elif variant == "unknown_procedure":
            assert b["procedure"]["code"] == UNKNOWN_PROCEDURE
        elif variant == "control_characters":
            assert any(ch in b["summary"] for ch in "\x00\ud800")


@pytest.mark.parametrize("variant", BAD_PAGE_VARIANTS)
def test_fault_bad_page_variants(day_env: PortalEnv, variant: str) -> None:
    s = day_env.session()
    clean = search(s, day_env, size=5, sort="updatedDate,asc")
    day_env.faults({"endpoint": SEARCH, "kind": "bad_page", "variant": variant})
    r = s.get(day_env.url + SEARCH, params={"size": 5, "sort": "updatedDate,asc"}, timeout=10)
    assert r.status_code == 200
    if variant in ("html_200", "truncated_json"):
        with pytest.raises(ValueError):
            r.json()
        return
    ids, total = [d["id"] for d in r.json()["content"]], r.json()["totalElements"]
    assert total == clean["totalElements"]
    assert len(ids) == 4 if variant == "skip" else len(ids) == 6 and len(set(ids)) == 5


def test_fault_malformed_is_keyed_by_dossier(day_env: PortalEnv) -> None:
    s = day_env.session()
    clean = {d["id"]: d for d in all_visible(s, day_env)}
    day_env.faults({"endpoint": SEARCH, "kind": "malformed", "rate": 0.3}, seed=5)

    def bad_ids() -> set[str]:
        return {d["id"] for d in all_visible(s, day_env) if d != clean[d["id"]]}

    first, second = bad_ids(), bad_ids()
    assert first == second and 40 < len(first) < 140


# ------------------------------------------------------------------------------ admin


def test_stats_and_district_totals(env: PortalEnv) -> None:
    stats = requests.get(env.url + "/_admin/stats", timeout=10).json()
    assert stats["dossiers"]["total"] == 300 and stats["files"]["total"] > 300
    assert "by_status" in stats["dossiers"] and stats["attachments"] == 0
    totals = requests.get(env.url + "/_admin/district-totals", timeout=10).json()["totals"]
    assert totals == [{"period": "2022-12-01", "total": 615}]
    clock = requests.get(env.url + "/_admin/clock", timeout=10).json()
    assert clock["now"].startswith("2022-12-01T07:30") and clock["speed"] == 0
