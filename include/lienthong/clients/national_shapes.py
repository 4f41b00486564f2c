"""The national public-service portal's (DVCQG) sync wire format: record and step bodies, answers.

Everything that knows a DVCQG field name or error code lives here and in ``national.py``. All values
are strings; dates are ``yyyyMMddHHmmss`` in Asia/Ho_Chi_Minh (interfaces.md §2).
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from lienthong.clients.http import InvalidResponse
from lienthong.domain.dossier import Step
from lienthong.domain.national_record import (
    ItemResult,
    NationalHolding,
    NationalRecord,
    Outcome,
    national_timeliness,
)
from lienthong.domain.vocabulary import national_time, parse_national_time

OK, SESSION_INVALID, LOGIN_FAILED, ALREADY_EXISTS, UNKNOWN_DOSSIER = 0, 1, 2, 4, 5
# Refusals an operator must see, each with its own reason code (quarantine records,
# docs/bad-inputs.md).
REFUSAL_REASONS: dict[int, tuple[str, str]] = {
    3: ("national_missing_field", "Cổng DVCQG từ chối: thiếu trường bắt buộc"),
    5: ("national_unknown_dossier", "Cổng DVCQG từ chối: hồ sơ chưa có trên Cổng DVCQG"),
    6: ("national_status_backwards", "Cổng DVCQG từ chối: trạng thái hồ sơ lùi lại"),
    7: ("national_too_long", "Cổng DVCQG từ chối: giá trị vượt quá độ dài cho phép"),
    8: ("national_invalid_value", "Cổng DVCQG từ chối: giá trị không hợp lệ"),
}
OTHER_REFUSAL = ("national_refused", "Cổng DVCQG từ chối bản ghi")

RECORD_SERVICE, STEP_SERVICE, LOOKUP_SERVICE = "DongBoHoSoMC", "CapNhatTienDoHoSoMC", "TraCuuHoSoMC"
PERSONAL_FIELDS = ("ChuHoSo", "MaDoiTuong", "Email", "SoDienThoai", "TrichYeuHoSo")
REMOVED_VI = "[đã xoá]"
STEP_FIELDS = (
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


def parse_time(value: Any) -> datetime | None:
    """A national time, or ``None`` where the answer holds none or an unreadable one."""
    try:
        return parse_national_time(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def record_body(rec: NationalRecord) -> dict[str, Any]:
    """``DongBoHoSoMC``'s record: every field a string, lists of string objects."""
    return {
        "MaHoSo": rec.code,
        "MaTTHC": rec.procedure_code,
        "TenTTHC": rec.procedure_name,
        "MaLinhVuc": rec.sector_code,
        "TenLinhVuc": rec.sector_name,
        "SoBienNhan": rec.code,
        "ChuHoSo": rec.applicant_name,
        "LoaiDoiTuong": _text(rec.applicant_type),
        "MaDoiTuong": _text(rec.applicant_id_number),
        "Email": _text(rec.applicant_email),
        "SoDienThoai": _text(rec.applicant_phone),
        "TrichYeuHoSo": rec.summary,
        "NgayTiepNhan": national_time(rec.received_at),
        "NgayHenTra": national_time(rec.due_at),
        "TrangThaiHoSo": str(rec.status),
        "NgayTra": national_time(rec.returned_at),
        "NgayKetThucXuLy": national_time(rec.finished_at),
        "HinhThuc": "0",
        "KenhThucHien": _text(rec.channel),
        "DonViXuLy": rec.agency_code,
        "GhiChu": "",
        "TaiLieuNop": [{"TenTepDinhKem": name} for name in rec.filed_documents],
        "DanhSachGiayToKetQua": [
            {
                "TenGiayTo": p.name,
                "MaGiayToKetQua": p.notation,
                "GiayToId": p.file_id,
                "DuongDanTepTinKetQua": p.url,
            }
            for p in rec.results
        ],
        "DanhSachLePhi": [],
        "DanhSachHoSoBoSung": [],
    }


def step_body(step: Step) -> dict[str, str]:
    """``CapNhatTienDoHoSoMC``'s step, sent as the local system recorded it (never shortened: a
    value the national side refuses is quarantined with its reason, not silently cut)."""
    return {
        "MaHoSo": step.dossier_code,
        "NguoiXuLy": step.person,
        "ChucDanh": step.title,
        "ThoiDiemXuLy": national_time(step.at),
        "PhongBanXuLy": step.unit,
        "NoiDungXuLy": step.content,
        "TrangThai": str(int(step.status)),
        "NgayBatDau": national_time(step.started_at or step.at),
        "NgayKetThucTheoQuyDinh": national_time(step.due),
    }


def step_digest(body: dict[str, Any]) -> str:
    """A step's identity on both sides: its national fields, nothing else."""
    fields = {k: _text(body.get(k)) for k in STEP_FIELDS}
    return hashlib.sha256(
        json.dumps(fields, sort_keys=True, ensure_ascii=False).encode()
    ).hexdigest()


def record_digest(body: dict[str, Any]) -> str:
    """A record's identity: the fields this adapter sends (extra keys the national side adds
    ignored)."""
    fields = {k: body.get(k) for k in RECORD_KEYS}
    return hashlib.sha256(
        json.dumps(fields, sort_keys=True, ensure_ascii=False, default=str).encode()
    ).hexdigest()


RECORD_KEYS = (
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
    "TaiLieuNop",
    "DanhSachGiayToKetQua",
    "DanhSachLePhi",
    "DanhSachHoSoBoSung",
)


def code_of(body: dict[str, Any]) -> str:
    return _text(body.get("MaHoSo"))


# What a settled record keeps, beside the personal fields (present as ``[đã xoá]``): the technical
# fields reconciliation and operators read. The filed documents' and result papers' names (file
# names may name the applicant) go; their count, numbers and ids stay.
SETTLED_KEYS = tuple(
    k for k in RECORD_KEYS if k not in (*PERSONAL_FIELDS, "TaiLieuNop", "DanhSachGiayToKetQua")
)
SETTLED_RESULT_KEYS = ("MaGiayToKetQua", "GiayToId")


def without_personal_data(body: dict[str, Any]) -> dict[str, Any]:
    """What the outbox keeps once a record is settled (sent, refused or superseded): an allowlist
    of its technical fields; the applicant's identity, the summary and the names of the filed
    documents and result papers removed. Safe to apply again."""
    out: dict[str, Any] = {k: body[k] for k in SETTLED_KEYS if k in body}
    out.update({k: REMOVED_VI for k in PERSONAL_FIELDS if body.get(k) not in ("", None)})
    if isinstance(body.get("TaiLieuNop"), list):
        out["TaiLieuNop"] = [{"TenTepDinhKem": REMOVED_VI} for _ in body["TaiLieuNop"]]
    if isinstance(body.get("DanhSachGiayToKetQua"), list):
        out["DanhSachGiayToKetQua"] = [
            {k: p[k] for k in SETTLED_RESULT_KEYS if k in p} if isinstance(p, dict) else REMOVED_VI
            for p in body["DanhSachGiayToKetQua"]
        ]
    return out


def applicant_names(body: dict[str, Any]) -> tuple[str, ...]:
    """The applicant's name as a record body holds it (none in a step's or a settled body), for
    masking the national side's answers about it."""
    name = body.get("ChuHoSo")
    return (name,) if isinstance(name, str) and name not in ("", REMOVED_VI) else ()


def check_envelope(resp: Any, body: Any) -> None:
    if not isinstance(body, dict) or "error_code" not in body:
        raise InvalidResponse(str(resp.url), "answer without error_code")


def error_code(body: dict[str, Any]) -> int:
    try:
        return int(body.get("error_code"))
    except (TypeError, ValueError):
        return -1


def item_results(url: str, body: dict[str, Any], count: int) -> list[tuple[int, str]]:
    """Per-item (error code, message) of a batch answer, in the order sent."""
    results = body.get("results")
    if not isinstance(results, list) or len(results) != count:
        raise InvalidResponse(
            url,
            f"{count} items sent, {len(results) if isinstance(results, list) else 0} "
            "results answered",
        )
    return [
        (error_code(r) if isinstance(r, dict) else -1, _text((r or {}).get("message"))[:500])
        for r in results
    ]


def refusal(code: int, message: str) -> ItemResult:
    reason, reason_vi = REFUSAL_REASONS.get(code, OTHER_REFUSAL)
    return ItemResult(Outcome.REFUSED, reason, f"{reason_vi}: {message}" if message else reason_vi)


def holding_of(item: dict[str, Any]) -> NationalHolding:
    """What the national side holds for one dossier (``TraCuuHoSoMC``)."""
    record = item.get("HoSo") or {}
    steps = [s for s in item.get("TienDo") or [] if isinstance(s, dict)]
    try:
        status = int(record.get("TrangThaiHoSo"))
    except (TypeError, ValueError):
        status = 0
    derived = item.get("TrangThaiQuocGia")
    if not isinstance(derived, str) or not derived:
        derived = national_timeliness(
            status,
            parse_time(record.get("NgayKetThucXuLy")),
            parse_time(record.get("NgayTra")),
            parse_time(record.get("NgayHenTra")),
        )
    return NationalHolding(
        code=_text(item.get("MaHoSo")),
        status=status,
        timeliness=derived,
        record_digest=record_digest(record),
        step_digests=tuple(step_digest(s) for s in steps),
        received_at=parse_time(record.get("NgayTiepNhan")),
        due_at=parse_time(record.get("NgayHenTra")),
        finished_at=parse_time(record.get("NgayKetThucXuLy")),
        updated_at=parse_time(item.get("CapNhatLuc")),
    )


def holdings(url: str, body: dict[str, Any]) -> list[NationalHolding]:
    data = body.get("data")
    if not isinstance(data, list):
        raise InvalidResponse(url, "lookup answer without a data list")
    return [holding_of(item) for item in data if isinstance(item, dict)]
