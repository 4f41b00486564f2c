"""The national (DVCQG) sync stand-in over real HTTP on loopback: login, DongBoHoSoMC,
CapNhatTienDoHoSoMC, TraCuuHoSoMC, sessions, faults, admin and restart."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import requests

from lienthong_standins import national
from lienthong_standins.clock import VN_TZ, SimClock
from lienthong_standins.faults import FaultInjector
from lienthong_standins.national.store import NationalStore
from lienthong_standins.serve import ServerThread

USER, PASSWORD = "national-test", "national-secret"
START = datetime(2022, 12, 1, 7, 30, tzinfo=VN_TZ)


@dataclass
class NationalEnv:
    root: str
    store: NationalStore
    clock: SimClock
    data_dir: Path

    @property
    def api(self) -> str:
        return self.root + "/api/dvcqg"

    def login(self, username: str = USER, password: str = PASSWORD) -> dict[str, Any]:
        r = requests.post(
            f"{self.api}/login", json={"username": username, "password": password}, timeout=10
        )
        assert r.status_code == 200
        return r.json()

    def session(self) -> str:
        body = self.login()
        assert body["error_code"] == 0
        return body["session"]

    def call(self, service: str, body: dict[str, Any], status: int = 200) -> dict[str, Any]:
        r = requests.post(f"{self.api}/{service}", json=body, timeout=10)
        assert r.status_code == status, r.text
        return r.json()

    def sync(
        self, session: str, records: list[Any], updating: bool | str = False
    ) -> dict[str, Any]:
        return self.call(
            "DongBoHoSoMC", {"session": session, "isUpdating": updating, "data": records}
        )

    def steps(self, session: str, items: list[Any]) -> dict[str, Any]:
        return self.call("CapNhatTienDoHoSoMC", {"session": session, "data": items})

    def lookup(self, session: str, codes: list[str] | str) -> dict[str, Any]:
        return self.call("TraCuuHoSoMC", {"session": session, "MaHoSo": codes})

    def faults(self, *rules: dict[str, Any], seed: int = 1) -> None:
        requests.post(
            self.root + "/_admin/faults", json={"seed": seed, "rules": list(rules)}, timeout=10
        ).raise_for_status()

    def stats(self) -> dict[str, Any]:
        return requests.get(self.root + "/_admin/stats", timeout=10).json()


@pytest.fixture
def make_national(tmp_path: Path) -> Iterator[Callable[..., NationalEnv]]:
    """Start a national stand-in (clock frozen); the same ``name`` reuses its data dir (restart)."""
    running: list[tuple[ServerThread, NationalStore]] = []

    def start(session_ttl: float = 600, name: str = "national") -> NationalEnv:
        data_dir = tmp_path / name
        data_dir.mkdir(exist_ok=True)
        clock = SimClock(START, speed=0, state_file=data_dir / "clock.json")
        app, store = national.build(
            data_dir, clock, FaultInjector(), {USER: PASSWORD}, session_ttl=session_ttl
        )
        server = ServerThread([(app, 0)]).start()
        running.append((server, store))
        return NationalEnv(f"http://127.0.0.1:{server.ports[0]}", store, clock, data_dir)

    yield start
    for server, store in running:
        server.stop()
        store.close()


@pytest.fixture
def env(make_national: Callable[..., NationalEnv]) -> NationalEnv:
    return make_national()


def record(code: str = "000.30.20.H36-221201-0001", **fields: Any) -> dict[str, Any]:
    base = {
        "MaHoSo": code,
        "MaTTHC": "2.002492",
        "TenTTHC": "Cấp giấy phép xây dựng nhà ở riêng lẻ",
        "MaLinhVuc": "G09-XD01",
        "TenLinhVuc": "Xây dựng",
        "SoBienNhan": "BN-0001",
        "ChuHoSo": "Nguyễn Thị Hoa",
        "LoaiDoiTuong": "1",
        "MaDoiTuong": "",
        "Email": "hoa@example.vn",
        "SoDienThoai": "0912345678",
        "TrichYeuHoSo": "Xin cấp phép xây dựng",
        "NgayTiepNhan": "20221201080500",
        "NgayHenTra": "20221208170000",
        "TrangThaiHoSo": "2",
        "NgayTra": "",
        "NgayKetThucXuLy": "",
        "HinhThuc": "0",
        "KenhThucHien": "2",
        "DonViXuLy": "000.30.20.H36",
        "GhiChu": "",
        "TaiLieuNop": [{"TepDinhKemId": "f1", "TenTepDinhKem": "don.pdf"}],
        "DanhSachGiayToKetQua": [],
        "DanhSachLePhi": [],
        "DanhSachHoSoBoSung": [],
    }
    return base | fields


def step(code: str = "000.30.20.H36-221201-0001", **fields: Any) -> dict[str, Any]:
    base = {
        "MaHoSo": code,
        "NguoiXuLy": "Trần Văn Bình",
        "ChucDanh": "Chuyên viên",
        "ThoiDiemXuLy": "20221201090000",
        "PhongBanXuLy": "Phòng Quản lý đô thị",
        "NoiDungXuLy": "Thẩm định hồ sơ",
        "TrangThai": "4",
        "NgayBatDau": "20221201090000",
        "NgayKetThucTheoQuyDinh": "20221208170000",
    }
    return base | fields


def codes(answer: dict[str, Any]) -> list[int]:
    assert answer["error_code"] == 0, answer
    return [r["error_code"] for r in answer["results"]]


def held(env: NationalEnv, session: str, code: str = "000.30.20.H36-221201-0001") -> dict[str, Any]:
    data = env.lookup(session, [code])["data"]
    assert len(data) == 1
    return data[0]


# ------------------------------------------------------------------ login and sessions
def test_login_ok_and_bad(env: NationalEnv) -> None:
    ok = env.login()
    assert (
        ok["error_code"] == 0
        and ok["message"] == "Đăng nhập thành công"
        and len(ok["session"]) >= 20
    )
    assert env.login()["session"] != ok["session"]
    bad = env.login(password="wrong")
    assert bad == {"error_code": 2, "message": "Sai tên đăng nhập hoặc mật khẩu", "session": ""}
    assert env.login(username="nobody")["error_code"] == 2
    stats = env.stats()
    assert stats["logins"] == 2 and stats["outcomes"]["login:2"] == 2


def test_missing_or_unknown_session_applies_nothing(env: NationalEnv) -> None:
    for body in (
        {"isUpdating": False, "data": [record()]},
        {"session": "forged", "data": [record()]},
    ):
        answer = env.call("DongBoHoSoMC", body)
        assert answer == {"error_code": 1, "message": "Phiên làm việc không hợp lệ hoặc đã hết hạn"}
    assert env.stats()["records"] == 0


def test_session_expires_after_ttl_then_login_again(
    make_national: Callable[..., NationalEnv],
) -> None:
    env = make_national(session_ttl=0.5)
    session = env.session()
    assert codes(env.sync(session, [record()])) == [0]
    time.sleep(0.8)
    assert env.sync(session, [record("X-2")])["error_code"] == 1
    assert env.lookup(session, ["X-2"])["error_code"] == 1
    fresh = env.session()
    assert codes(env.sync(fresh, [record("X-2")])) == [0]
    assert env.stats()["sessions_expired"] == 1


def test_admin_expires_every_session(env: NationalEnv) -> None:
    a, b = env.session(), env.session()
    assert requests.post(env.root + "/_admin/expire-sessions", timeout=10).json() == {"expired": 2}
    assert env.lookup(a, "x")["error_code"] == 1 and env.lookup(b, "x")["error_code"] == 1
    assert env.lookup(env.session(), "x")["error_code"] == 0


# ------------------------------------------------------------------ DongBoHoSoMC
def test_create_then_create_again_then_update_replaces(env: NationalEnv) -> None:
    session = env.session()
    created = env.sync(session, [record(Extra="kept")])
    assert created["results"] == [
        {
            "MaHoSo": "000.30.20.H36-221201-0001",
            "error_code": 0,
            "message": created["results"][0]["message"],
        }
    ]
    again = env.sync(session, [record(TrichYeuHoSo="changed")])
    assert again["results"][0]["error_code"] == 4
    assert (
        again["results"][0]["message"]
        == "Hồ sơ 000.30.20.H36-221201-0001 đã tồn tại, gửi lại với isUpdating=true"
    )
    assert held(env, session)["HoSo"]["TrichYeuHoSo"] == "Xin cấp phép xây dựng"

    replacement = record(TrangThaiHoSo="4", GhiChu="đang xử lý")
    assert codes(env.sync(session, [replacement], updating="true")) == [0]
    got = held(env, session)
    assert got["HoSo"] == replacement  # replaced whole: the extra key of the first version is gone
    assert got["TrangThaiQuocGia"] == "received"
    assert got["TaoLuc"] == got["CapNhatLuc"] == "20221201073000"


def test_update_of_unknown_dossier(env: NationalEnv) -> None:
    answer = env.sync(env.session(), [record("KHONG-CO")], updating=True)
    assert answer["results"][0] == {
        "MaHoSo": "KHONG-CO",
        "error_code": 5,
        "message": "Hồ sơ KHONG-CO không tồn tại",
    }


@pytest.mark.parametrize(
    ("old", "new", "code"),
    [
        ("9", "4", 6),
        ("10", "9", 6),
        ("4", "2", 6),
        ("3", "4", 6),
        ("7", "10", 6),
        ("2", "4", 0),
        ("4", "5", 0),
        ("5", "4", 0),
        ("4", "9", 0),
        ("9", "10", 0),
        ("10", "10", 0),
        ("1", "3", 0),
    ],
)
def test_status_order(env: NationalEnv, old: str, new: str, code: int) -> None:
    session = env.session()
    assert codes(env.sync(session, [record(TrangThaiHoSo=old)])) == [0]
    answer = env.sync(session, [record(TrangThaiHoSo=new, GhiChu="moved")], updating=True)
    assert codes(answer) == [code]
    if code == 6:
        assert (
            answer["results"][0]["message"]
            == f"Không thể chuyển trạng thái hồ sơ từ {old} về {new}"
        )
        assert held(env, session)["HoSo"]["TrangThaiHoSo"] == old
    else:
        assert held(env, session)["HoSo"]["TrangThaiHoSo"] == new


@pytest.mark.parametrize(
    ("fields", "drop", "field"),
    [
        ({}, "MaTTHC", "MaTTHC"),
        ({"ChuHoSo": ""}, None, "ChuHoSo"),
        ({"MaTTHC": ""}, "DonViXuLy", "MaTTHC"),  # the first missing one in the required order
        ({}, "KenhThucHien", "KenhThucHien"),
    ],
)
def test_missing_required_field_is_named(
    env: NationalEnv, fields: dict[str, Any], drop: str | None, field: str
) -> None:
    item = record(**fields)
    if drop:
        del item[drop]
    result = env.sync(env.session(), [item])["results"][0]
    assert result["error_code"] == 3 and result["message"] == f"Thiếu trường bắt buộc: {field}"


@pytest.mark.parametrize(
    "fields",
    [
        {"LoaiDoiTuong": 1},
        {"TrangThaiHoSo": 4},
        {"GhiChu": None},
        {"SoBienNhan": ["x"]},
        {"NgayTiepNhan": "2022-12-01 08:05"},
        {"NgayHenTra": "20221332170000"},
        {"NgayTra": "20220230080000"},
        {"NgayKetThucXuLy": "2022120108050"},
        {"TrangThaiHoSo": "11"},
        {"TrangThaiHoSo": "04"},
        {"LoaiDoiTuong": "5"},
        {"KenhThucHien": "4"},
        {"TaiLieuNop": "don.pdf"},
        {"TaiLieuNop": [{"Kich thuoc": 12}]},
    ],
)
def test_invalid_values(env: NationalEnv, fields: dict[str, Any]) -> None:
    result = env.sync(env.session(), [record(**fields)])["results"][0]
    assert result["error_code"] == 8, result
    assert result["message"].startswith("Giá trị không hợp lệ của trường ")
    assert env.stats()["records"] == 0


def test_batch_applies_items_independently_in_order(env: NationalEnv) -> None:
    session = env.session()
    batch = [
        record("A-1"),
        record("A-2", ChuHoSo=""),
        "not an object",
        record("A-1"),
        record("A-3"),
        record("A-3", TrangThaiHoSo="4"),
    ]
    answer = env.sync(session, batch)
    assert codes(answer) == [0, 3, 8, 4, 0, 4]
    assert [r["MaHoSo"] for r in answer["results"]] == ["A-1", "A-2", "", "A-1", "A-3", "A-3"]
    assert answer["message"] == "Đã xử lý 6 bản ghi: 2 thành công, 4 lỗi"
    # in order: a create then an update of the same code in one batch both apply
    answer = env.sync(session, [record("A-4", TrangThaiHoSo="2")])
    assert codes(answer) == [0]
    answer = env.sync(
        session, [record("A-4", TrangThaiHoSo="4"), record("A-4", TrangThaiHoSo="9")], updating=True
    )
    assert codes(answer) == [0, 0]
    assert held(env, session, "A-4")["HoSo"]["TrangThaiHoSo"] == "9"
    stats = env.stats()
    assert stats["records"] == 3
    assert stats["outcomes"]["DongBoHoSoMC:0"] == 5 and stats["outcomes"]["DongBoHoSoMC:4"] == 2


def test_malformed_requests(env: NationalEnv) -> None:
    session = env.session()
    assert (
        env.call("DongBoHoSoMC", {"session": session, "data": {"MaHoSo": "x"}})["error_code"] == 8
    )
    assert (
        env.call("DongBoHoSoMC", {"session": session, "data": [record()] * 501})["error_code"] == 8
    )
    assert env.sync(session, [record()], updating="yes")["error_code"] == 8
    r = requests.post(
        f"{env.api}/DongBoHoSoMC",
        data=b"{not json",
        timeout=10,
        headers={"Content-Type": "application/json"},
    )
    assert r.status_code == 200 and r.json()["error_code"] == 8
    assert env.lookup(session, ["x"] * 501)["error_code"] == 8
    assert env.stats()["records"] == 0
    # isUpdating defaults to false; 500 items are fine
    batch = [record(f"B-{i:03d}") for i in range(500)]
    assert codes(env.call("DongBoHoSoMC", {"session": session, "data": batch})) == [0] * 500


def test_unknown_service(env: NationalEnv) -> None:
    answer = env.call("LayDanhSachHoSo", {"session": env.session()})
    assert answer["error_code"] == 9 and "LayDanhSachHoSo" in answer["message"]


# ------------------------------------------------------------------ CapNhatTienDoHoSoMC
def test_steps_kept_in_arrival_order_duplicates_twice(env: NationalEnv) -> None:
    session = env.session()
    env.sync(session, [record()])
    first, second = (
        step(NoiDungXuLy="Tiếp nhận"),
        step(NoiDungXuLy="Thẩm định", ThoiDiemXuLy="20221201080000"),
    )
    assert codes(env.steps(session, [first, second])) == [0, 0]
    assert codes(env.steps(session, [first])) == [0]
    got = held(env, session)
    assert got["TienDo"] == [
        first,
        second,
        first,
    ]  # as sent, arrival order (not ThoiDiemXuLy), no dedup
    assert env.stats()["steps"] == 3


def test_step_rejections(env: NationalEnv) -> None:
    session = env.session()
    env.sync(session, [record()])
    items = [
        step("KHONG-CO"),
        step(NguoiXuLy="N" * 51),
        step(NguoiXuLy="Đ" * 50),
        step(NoiDungXuLy=""),
        step(TrangThai=4),
        step(ThoiDiemXuLy="20221201250000"),
        step(NgayBatDau="", NgayKetThucTheoQuyDinh=""),
        step(TrangThai="0"),
        {k: v for k, v in step().items() if k != "ThoiDiemXuLy"},
    ]
    answer = env.steps(session, items)
    assert codes(answer) == [5, 7, 0, 3, 8, 8, 0, 8, 3]
    results = answer["results"]
    assert results[0]["message"] == "Hồ sơ KHONG-CO không tồn tại"
    assert results[1]["message"] == "NguoiXuLy vượt quá 50 ký tự"
    assert results[3]["message"] == "Thiếu trường bắt buộc: NoiDungXuLy"
    assert results[8]["message"] == "Thiếu trường bắt buộc: ThoiDiemXuLy"
    assert len(held(env, session)["TienDo"]) == 2


# ------------------------------------------------------------------ TraCuuHoSoMC
def test_lookup_and_national_state(env: NationalEnv) -> None:
    session = env.session()
    due = "20221208170000"
    env.sync(
        session,
        [
            record("S-1", TrangThaiHoSo="1"),
            record("S-3", TrangThaiHoSo="3"),
            record("S-4", TrangThaiHoSo="4"),
            record(
                "S-ON", TrangThaiHoSo="9", NgayHenTra=due, NgayKetThucXuLy="20221208235959"
            ),  # same day, later hour
            record(
                "S-LATE",
                TrangThaiHoSo="10",
                NgayHenTra=due,
                NgayKetThucXuLy="20221209000001",
                NgayTra="20221201000000",
            ),
            record(
                "S-TRA", TrangThaiHoSo="10", NgayHenTra=due, NgayTra="20221210080000"
            ),  # NgayTra stands in
            record("S-NONE", TrangThaiHoSo="9", NgayHenTra=due),
        ],
    )
    answer = env.lookup(
        session, ["S-LATE", "KHONG-CO", "S-1", "S-3", "S-4", "S-ON", "S-TRA", "S-NONE", "S-1"]
    )
    assert answer["error_code"] == 0
    states = {d["MaHoSo"]: d["TrangThaiQuocGia"] for d in answer["data"]}
    assert [d["MaHoSo"] for d in answer["data"]] == [
        "S-LATE",
        "S-1",
        "S-3",
        "S-4",
        "S-ON",
        "S-TRA",
        "S-NONE",
    ]
    assert states == {
        "S-1": "not_received",
        "S-3": "not_received",
        "S-4": "received",
        "S-ON": "on_time",
        "S-LATE": "late",
        "S-TRA": "late",
        "S-NONE": "on_time",
    }
    one = env.lookup(session, "S-4")["data"]
    assert len(one) == 1 and set(one[0]) == {
        "MaHoSo",
        "HoSo",
        "TienDo",
        "TrangThaiQuocGia",
        "TaoLuc",
        "CapNhatLuc",
    }


def test_stamps_follow_the_simulated_clock(env: NationalEnv) -> None:
    session = env.session()
    env.sync(session, [record()])
    requests.post(
        env.root + "/_admin/advance", json={"seconds": 3600}, timeout=10
    ).raise_for_status()
    env.steps(session, [step()])
    got = held(env, session)
    assert (got["TaoLuc"], got["CapNhatLuc"]) == ("20221201073000", "20221201083000")


# ------------------------------------------------------------------ faults and admin
def test_expired_token_fault_answers_error_1_and_ends_the_session(env: NationalEnv) -> None:
    session = env.session()
    env.faults({"endpoint": "/api/dvcqg/DongBoHoSoMC", "kind": "expired_token"})
    r = requests.post(
        f"{env.api}/DongBoHoSoMC", json={"session": session, "data": [record()]}, timeout=10
    )
    assert r.status_code == 200 and r.json()["error_code"] == 1
    env.faults()
    assert env.sync(session, [record()])["error_code"] == 1  # that session is gone
    assert codes(env.sync(env.session(), [record()])) == [0]
    assert env.stats()["faults_fired"]["expired_token"] == 1


def test_duplicate_fault_loses_the_answer_after_the_commit(env: NationalEnv) -> None:
    session = env.session()
    env.faults(
        {"endpoint": "/api/dvcqg/DongBoHoSoMC", "kind": "duplicate"},
        {"endpoint": "/api/dvcqg/CapNhatTienDoHoSoMC", "kind": "duplicate"},
    )
    lost = env.call("DongBoHoSoMC", {"session": session, "data": [record()]}, status=502)
    assert lost == {"error": "injected: response lost after commit"}
    env.call("CapNhatTienDoHoSoMC", {"session": session, "data": [step()]}, status=502)
    env.faults()
    assert codes(env.sync(session, [record()])) == [4]  # the blind retry
    assert codes(env.steps(session, [step()])) == [0]
    assert len(held(env, session)["TienDo"]) == 2


def test_transport_faults_still_apply(env: NationalEnv) -> None:
    env.faults({"endpoint": "/api/dvcqg/login", "kind": "5xx", "status": 503})
    r = requests.post(f"{env.api}/login", json={"username": USER, "password": PASSWORD}, timeout=10)
    assert r.status_code == 503
    env.faults()
    assert env.login()["error_code"] == 0


def test_admin_records_forget_and_stats(env: NationalEnv) -> None:
    session = env.session()
    env.sync(session, [record("F-1"), record("F-2", TrangThaiHoSo="3")])
    env.steps(session, [step("F-1"), step("F-2")])
    listed = requests.get(env.root + "/_admin/records", timeout=10).json()
    assert [(r["MaHoSo"], len(r["TienDo"]), r["TrangThaiQuocGia"]) for r in listed] == [
        ("F-1", 1, "received"),
        ("F-2", 1, "not_received"),
    ]
    assert set(listed[0]) == {"MaHoSo", "HoSo", "TienDo", "TrangThaiQuocGia"}
    gone = requests.delete(env.root + "/_admin/records/F-1", timeout=10).json()
    assert gone == {"MaHoSo": "F-1", "deleted": True}
    assert env.lookup(session, ["F-1"])["data"] == []
    assert codes(env.steps(session, [step("F-1")])) == [5]
    assert codes(env.sync(session, [record("F-1")])) == [0]  # resent after the loss
    assert held(env, session, "F-1")["TienDo"] == []
    stats = env.stats()
    assert (stats["records"], stats["steps"]) == (2, 1)
    assert stats["outcomes"]["CapNhatTienDoHoSoMC:5"] == 1 and stats["requests"] >= 7
    assert (
        requests.post(env.root + "/_admin/advance", json={"seconds": 0}, timeout=10).json()[
            "performed"
        ]
        == {}
    )


def test_restart_keeps_records_and_steps(make_national: Callable[..., NationalEnv]) -> None:
    first = make_national(name="kept")
    session = first.session()
    first.sync(session, [record()])
    first.steps(session, [step(), step(NoiDungXuLy="Trình ký")])
    before = held(first, session)
    again = make_national(name="kept")
    fresh = again.session()
    assert held(again, fresh) == before
    assert codes(again.sync(fresh, [record()])) == [4]


@pytest.mark.slow
def test_cli_mentions_national_port() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "lienthong_standins", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    assert "--national-port" in out and "--national-session-ttl" in out
