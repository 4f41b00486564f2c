"""Builders of what lienthong sends: the iOffice push (``GuiHoSo``) and portal step records.

Pure functions: the vendor field names are the ones of interfaces.md §2-§3.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from lienthong.domain.dossier import Dossier
from lienthong.pipeline.routing import Route

VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
CORRELATION_PREFIX = "lienthong:"


def dvcqg_time(dt: datetime) -> str:
    """National format ``yyyyMMddHHmmss`` in Asia/Ho_Chi_Minh."""
    return dt.astimezone(VN_TZ).strftime("%Y%m%d%H%M%S")


def correlation_for(dossier_id: str) -> str:
    return CORRELATION_PREFIX + dossier_id


def dossier_id_from_correlation(value: str) -> str | None:
    return value[len(CORRELATION_PREFIX):] if value.startswith(CORRELATION_PREFIX) else None


def push_payload(d: Dossier, route: Route, now: datetime, callback_url: str = "") -> dict[str, Any]:
    """The ``GuiHoSo`` body: the dossier, its draft decision, the handler and the intended signer."""
    doc_type = route.procedure.document_type
    return {
        "IDHoSo": d.id,
        "MaHoSo": d.code,
        "ChuHoSo": d.applicant_name,
        "NguoiNop": d.applicant_name,
        "NguoiKy": {"Ten": route.unit.signer.name, "TaiKhoan": route.unit.signer.account,
                    "ChucVu": route.unit.signer.title},
        "NguoiTrinhKy": route.unit.handler.name,
        "DonVi": {"Ten": route.unit.ioffice_unit.name, "MaDinhDanh": route.unit.ioffice_unit.code},
        "VanBanDuThao": {
            "TrichYeu": f"V/v giải quyết hồ sơ {d.code}: {route.procedure.name}"[:500],
            "LoaiVanBan": doc_type.code if doc_type else "QĐ",
            "NgayTao": now.astimezone(VN_TZ).strftime("%d/%m/%Y"),
            "DinhKem": [],
        },
        "ThanhPhanHoSo": [],
        "TenHoSo": d.summary or route.procedure.name,
        "ThuTuc": {"Ma": d.procedure_code, "Ten": route.procedure.name},
        "ThamSoAn": correlation_for(d.id),
        "HccLinkAPI": callback_url,
        "LoaiHSLienthong": "1",
        "SoKyHieuVanBan": "",
        "NguoiKyVanBan": route.unit.signer.name,
        "HanXuLyVanBan": d.due_at.astimezone(VN_TZ).strftime("%d/%m/%Y") if d.due_at else "",
    }


def step_record(code: str, content: str, status: int, at: datetime, *, person: str = "Hệ thống liên thông",
                title: str = "Tự động", unit: str = "", due: datetime | None = None) -> dict[str, Any]:
    """A processing step with the national step fields (``CapNhatTienDoHoSoMC``)."""
    return {
        "MaHoSo": code,
        "NguoiXuLy": person[:50],
        "ChucDanh": title,
        "ThoiDiemXuLy": dvcqg_time(at),
        "PhongBanXuLy": unit,
        "NoiDungXuLy": content,
        "TrangThai": str(status),
        "NgayBatDau": dvcqg_time(at),
        "NgayKetThucTheoQuyDinh": dvcqg_time(due) if due else "",
    }
