"""The national sync service's rules as pure functions: error codes, record and step validation,
the status order and the derived national state (see docs/standins.md, "National portal").

Each check answers ``None`` (valid) or an :class:`Outcome` carrying the code and its Vietnamese
message; the first problem found wins, in a fixed order so an answer is reproducible.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

OK = 0
SESSION_INVALID = 1
LOGIN_FAILED = 2
MISSING_FIELD = 3
ALREADY_EXISTS = 4
UNKNOWN_DOSSIER = 5
STATUS_BACKWARDS = 6
TOO_LONG = 7
INVALID_VALUE = 8
UNKNOWN_SERVICE = 9

MSG_OK = "Thành công"
MSG_SESSION_INVALID = "Phiên làm việc không hợp lệ hoặc đã hết hạn"
MSG_LOGIN_OK = "Đăng nhập thành công"
MSG_LOGIN_FAILED = "Sai tên đăng nhập hoặc mật khẩu"
MSG_MISSING_FIELD = "Thiếu trường bắt buộc: {field}"
MSG_ALREADY_EXISTS = "Hồ sơ {code} đã tồn tại, gửi lại với isUpdating=true"
MSG_UNKNOWN_DOSSIER = "Hồ sơ {code} không tồn tại"
MSG_STATUS_BACKWARDS = "Không thể chuyển trạng thái hồ sơ từ {old} về {new}"
MSG_TOO_LONG = "{field} vượt quá {limit} ký tự"
MSG_INVALID_VALUE = "Giá trị không hợp lệ của trường {field}: {reason}"
MSG_INVALID_REQUEST = "Dữ liệu yêu cầu không hợp lệ: {reason}"
MSG_UNKNOWN_SERVICE = "Dịch vụ {name} không tồn tại"

MAX_ITEMS = 500
MAX_HANDLER = 50  # NguoiXuLy

RECORD_SCALARS = (
    "MaHoSo",
    "MaTTHC",
    "TenTTHC",
    "MaLinhVuc",
    "TenLinhVuc",
    "SoBienNhan",
    "ChuHoSo",
    "LoaiDoiTuong",
    "MaDoiTuong",
    "Email",
    "SoDienThoai",
    "TrichYeuHoSo",
    "NgayTiepNhan",
    "NgayHenTra",
    "TrangThaiHoSo",
    "NgayTra",
    "NgayKetThucXuLy",
    "HinhThuc",
    "KenhThucHien",
    "DonViXuLy",
    "GhiChu",
)
RECORD_LISTS = ("TaiLieuNop", "DanhSachGiayToKetQua", "DanhSachLePhi", "DanhSachHoSoBoSung")
RECORD_REQUIRED = (
    "MaHoSo",
    "MaTTHC",
    "TenTTHC",
    "ChuHoSo",
    "LoaiDoiTuong",
    "NgayTiepNhan",
    "NgayHenTra",
    "TrangThaiHoSo",
    "KenhThucHien",
    "DonViXuLy",
)
RECORD_DATES = ("NgayTiepNhan", "NgayHenTra", "NgayTra", "NgayKetThucXuLy")

STEP_SCALARS = (
    "MaHoSo",
    "NguoiXuLy",
    "ChucDanh",
    "ThoiDiemXuLy",
    "PhongBanXuLy",
    "NoiDungXuLy",
    "TrangThai",
    "NgayBatDau",
    "NgayKetThucTheoQuyDinh",
)
STEP_REQUIRED = ("MaHoSo", "NguoiXuLy", "ThoiDiemXuLy", "NoiDungXuLy", "TrangThai")
STEP_DATES = ("ThoiDiemXuLy", "NgayBatDau", "NgayKetThucTheoQuyDinh")

# Allowed values: canonical decimal strings ("4", not "04").
STATUSES = frozenset(str(n) for n in range(1, 11))
SUBJECT_TYPES = frozenset({"1", "2", "3", "4"})  # LoaiDoiTuong
CHANNELS = frozenset({"1", "2", "3"})  # KenhThucHien

# 1 submitted · 2 accepted · 4/5/6 in processing · 9 finished · 3/7/8/10 final.
STATUS_RANK: dict[int, int] = {1: 0, 2: 1, 4: 2, 5: 2, 6: 2, 9: 3, 3: 4, 7: 4, 8: 4, 10: 4}
FINAL_RANK = 4

_DATE = re.compile(r"^[0-9]{14}$")


@dataclass(frozen=True)
class Outcome:
    """One item's (or one call's) answer: ``error_code`` and its Vietnamese ``message``."""

    code: int
    message: str

    @property
    def ok(self) -> bool:
        return self.code == OK


def invalid(field: str, reason: str) -> Outcome:
    return Outcome(INVALID_VALUE, MSG_INVALID_VALUE.format(field=field, reason=reason))


def invalid_request(reason: str) -> Outcome:
    return Outcome(INVALID_VALUE, MSG_INVALID_REQUEST.format(reason=reason))


def is_national_date(value: str) -> bool:
    """Exactly 14 digits ``yyyyMMddHHmmss`` naming a real moment."""
    if not _DATE.match(value):
        return False
    try:
        datetime(
            int(value[0:4]),
            int(value[4:6]),
            int(value[6:8]),
            int(value[8:10]),
            int(value[10:12]),
            int(value[12:14]),
        )
    except ValueError:
        return False
    return True


def parse_bool(value: Any) -> bool | None:
    """``isUpdating``: a JSON boolean or ``"true"``/``"false"`` (any case); ``None`` when
    neither."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return None


def _missing(item: dict[str, Any], required: tuple[str, ...]) -> Outcome | None:
    for field in required:
        if field not in item or item[field] == "":
            return Outcome(MISSING_FIELD, MSG_MISSING_FIELD.format(field=field))
    return None


def _not_strings(item: dict[str, Any], scalars: tuple[str, ...]) -> Outcome | None:
    for field in scalars:
        if field in item and not isinstance(item[field], str):
            return invalid(field, "phải là chuỗi ký tự")
    return None


def _bad_dates(item: dict[str, Any], dates: tuple[str, ...]) -> Outcome | None:
    for field in dates:
        value = item.get(field, "")
        if value != "" and not is_national_date(value):
            return invalid(field, "ngày phải có dạng yyyyMMddHHmmss và là ngày có thật")
    return None


def check_record(record: Any) -> Outcome | None:
    """A DongBoHoSoMC item, in this order: an object (8) · required fields (3) · scalars are strings
    and lists are lists of objects with string values (8) · dates (8) · code values (8)."""
    if not isinstance(record, dict):
        return invalid_request("mỗi phần tử của data phải là một đối tượng")
    if problem := _missing(record, RECORD_REQUIRED) or _not_strings(record, RECORD_SCALARS):
        return problem
    for field in RECORD_LISTS:
        if field not in record:
            continue
        value = record[field]
        if not isinstance(value, list) or not all(
            isinstance(entry, dict) and all(isinstance(v, str) for v in entry.values())
            for entry in value
        ):
            return invalid(field, "phải là danh sách đối tượng có giá trị chuỗi")
    if problem := _bad_dates(record, RECORD_DATES):
        return problem
    if record["TrangThaiHoSo"] not in STATUSES:
        return invalid("TrangThaiHoSo", "phải từ 1 đến 10")
    if record["LoaiDoiTuong"] not in SUBJECT_TYPES:
        return invalid("LoaiDoiTuong", "phải từ 1 đến 4")
    if record["KenhThucHien"] not in CHANNELS:
        return invalid("KenhThucHien", "phải từ 1 đến 3")
    return None


def check_step(step: Any) -> Outcome | None:
    """A CapNhatTienDoHoSoMC item, in this order: an object (8) · required fields (3) · strings (8)
    · ``NguoiXuLy`` at most 50 characters (7) · dates (8) · ``TrangThai`` 1–10 (8)."""
    if not isinstance(step, dict):
        return invalid_request("mỗi phần tử của data phải là một đối tượng")
    if problem := _missing(step, STEP_REQUIRED) or _not_strings(step, STEP_SCALARS):
        return problem
    if len(step["NguoiXuLy"]) > MAX_HANDLER:
        return Outcome(TOO_LONG, MSG_TOO_LONG.format(field="NguoiXuLy", limit=MAX_HANDLER))
    if problem := _bad_dates(step, STEP_DATES):
        return problem
    if step["TrangThai"] not in STATUSES:
        return invalid("TrangThai", "phải từ 1 đến 10")
    return None


def status_backwards(old: int, new: int) -> bool:
    """An update moving the dossier back (lower rank), or anywhere out of a final status."""
    return STATUS_RANK[new] < STATUS_RANK[old] or (STATUS_RANK[old] == FINAL_RANK and new != old)


def national_state(record: dict[str, Any]) -> str:
    """``not_received`` (1, 3) · ``late`` / ``on_time`` (9, 10: finishing date vs due date, by day;
    ``NgayTra`` stands in when ``NgayKetThucXuLy`` is empty) · ``received`` otherwise."""
    status = int(record.get("TrangThaiHoSo") or 0)
    if status in (1, 3):
        return "not_received"
    if status in (9, 10):
        finished = record.get("NgayKetThucXuLy") or record.get("NgayTra") or ""
        due = record.get("NgayHenTra") or ""
        return "late" if finished and due and finished[:8] > due[:8] else "on_time"
    return "received"
