"""Adapter for the document-management system (VNPT-iOffice role, `LTQLVB`-style link API).

Pushes dossiers for processing (``GuiHoSo``), lists/reads/acknowledges result
packages, looks documents up. Every answer is ``{data, error{code, ...}}``.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import requests

from lienthong.clients.http import RemoteRefused, RetryPolicy, make_session, raise_for_status, retrying
from lienthong.domain.masking import get_logger

log = get_logger(__name__)
VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


@dataclass(frozen=True)
class IOfficeSettings:
    base_url: str  # including the base path, e.g. https://host/api/lienthong
    token: str = field(repr=False)
    auth_scheme: str = "Bearer"
    parent_unit: str = ""
    timeout: float = 20.0
    verify: bool | str = True
    trust_roots_pem: str = field(default="", repr=False)
    max_result_bytes: int = 10 * 1024 * 1024
    retry: RetryPolicy = RetryPolicy()

    @classmethod
    def from_connection(cls, conn: Any, **overrides: Any) -> "IOfficeSettings":
        extra = conn.extra_dejson or {}
        scheme = conn.schema or "https"
        port = f":{conn.port}" if conn.port else ""
        pem = extra.get("trust_roots_pem", "")
        if not pem and extra.get("trust_roots_file"):
            pem = Path(extra["trust_roots_file"]).read_text()
        values = dict(
            base_url=f"{scheme}://{conn.host}{port}{extra.get('base_path', '')}",
            token=conn.password,
            auth_scheme=extra.get("auth_scheme", "Bearer"),
            parent_unit=extra.get("parent_unit", ""),
            timeout=float(extra.get("timeout", cls.timeout)),
            verify=extra.get("verify", True),
            trust_roots_pem=pem,
            max_result_bytes=int(extra.get("max_result_bytes", cls.max_result_bytes)),
        )
        values.update(overrides)
        return cls(**values)


class IOfficeError(Exception):
    def __init__(self, code: int, internal: str, user: str):
        super().__init__(f"iOffice error {code}: {internal}")
        self.code, self.internal, self.user = code, internal, user


@dataclass(frozen=True)
class PushResult:
    doc_id: str
    created: bool  # False when iOffice already had a document for this dossier


@dataclass(frozen=True)
class ResultFile:
    name: str
    content: bytes


@dataclass(frozen=True)
class Package:
    """One result package: the document's current outcome (``LoaiKetQua``)."""

    doc_id: str
    dossier_code: str
    outcome: str
    unit_code: str
    unit_name: str
    correlation: str
    subject: str
    doc_type: str
    code_notation: str
    signer: str
    signer_title: str
    signed_on: datetime | None
    promulgated_on: datetime | None
    files: tuple[ResultFile, ...]

    def meta(self) -> dict[str, Any]:
        """JSON-safe metadata without file bodies (for quarantine records and events)."""
        return {"MaVanBan": self.doc_id, "MaHoSo": self.dossier_code, "LoaiKetQua": self.outcome,
                "SoKyHieu": self.code_notation, "LoaiVanBan": self.doc_type, "TrichYeu": self.subject,
                "DonVi": self.unit_code, "files": [{"Ten": f.name, "size": len(f.content)} for f in self.files]}


def parse_vn_date(value: str | None) -> datetime | None:
    """iOffice dates are ``dd/MM/yyyy``; the day starts at 00:00 in Vietnam."""
    if not value:
        return None
    return datetime.strptime(value.strip()[:10], "%d/%m/%Y").replace(tzinfo=VN_TZ)


class IOfficeClient:
    def __init__(self, settings: IOfficeSettings):
        self.s = settings
        self.session = make_session(verify=settings.verify)
        self.session.headers["Authorization"] = f"{settings.auth_scheme} {settings.token}"
        self._retrying = retrying(settings.retry)

    def _call(self, method: str, path: str, ok_codes: tuple[int, ...] = (200,), **kwargs: Any) -> dict[str, Any]:
        def attempt() -> dict[str, Any]:
            resp = self.session.request(method, self.s.base_url + path, timeout=self.s.timeout, **kwargs)
            if resp.status_code not in ok_codes:
                raise_for_status(resp)
            body = resp.json()
            return body

        body = self._retrying(attempt)
        err = body.get("error") or {}
        code = int(err.get("code", 200))
        if code not in ok_codes:
            raise IOfficeError(code, err.get("internalMessage", ""), err.get("userMessage", ""))
        return body

    def push(self, payload: dict[str, Any]) -> PushResult:
        """``GuiHoSo``; a repeated push answers "already exists" naming the existing document."""
        body = self._call("POST", "/GuiHoSo", ok_codes=(200, 409), json=payload)
        data = body.get("data") or {}
        code = int((body.get("error") or {}).get("code", 200))
        if not data.get("MaVanBan"):
            raise IOfficeError(code, "no MaVanBan in answer", "")
        return PushResult(doc_id=str(data["MaVanBan"]), created=code == 200)

    def lookup(self, dossier_code: str) -> dict[str, Any] | None:
        return self._call("GET", "/TraCuuHoSo", params={"MaHoSo": dossier_code}).get("data")

    def list_pending(self, top: int = 500) -> list[dict[str, Any]]:
        params = {"maDonViCha": self.s.parent_unit, "top": top}
        return list(self._call("GET", "/LayDanhSachGoiTinVanBan", params=params).get("data") or [])

    def get_package(self, doc_id: str) -> Package:
        data = self._call("GET", "/LayGoiTinVanBan", params={"MaVanBan": doc_id}).get("data") or {}
        return to_package(doc_id, data)

    def acknowledge(self, doc_id: str, status: str) -> None:
        self._call("POST", "/CapNhatTrangThaiVanBan", json={"MaVanBan": doc_id, "TrangThai": status})

    def list_documents(self, date_from: datetime, date_to: datetime) -> list[dict[str, Any]]:
        params = {"tuNgay": date_from.strftime("%d/%m/%Y"), "denNgay": date_to.strftime("%d/%m/%Y")}
        return list(self._call("GET", "/DanhSachVanBan", params=params).get("data") or [])

    def close(self) -> None:
        self.session.close()


def to_package(doc_id: str, data: dict[str, Any]) -> Package:
    """Map a ``LayGoiTinVanBan`` answer; attachment bodies are decoded, never logged."""
    vb = data.get("VanBanDi") or {}
    unit = data.get("DonVi") or {}
    files = []
    for att in vb.get("DinhKem") or []:
        try:
            content = base64.b64decode(att.get("Base64") or "", validate=True)
        except (ValueError, TypeError):
            content = b""
        files.append(ResultFile(name=att.get("Ten") or "ketqua.pdf", content=content))
    return Package(
        doc_id=str(data.get("MaVanBan") or doc_id),
        dossier_code=str(data.get("MaHoSo") or ""),
        outcome=str(data.get("LoaiKetQua") or ""),
        unit_code=str(unit.get("MaDinhDanh") or unit.get("Ma") or "") if isinstance(unit, dict) else str(unit),
        unit_name=str(unit.get("Ten") or "") if isinstance(unit, dict) else "",
        correlation=str(data.get("ThamSoAn") or ""),
        subject=str(vb.get("TrichYeu") or ""),
        doc_type=str(vb.get("LoaiVanBan") or ""),
        code_notation=str(vb.get("SoKyHieu") or ""),
        signer=str(vb.get("NguoiKy") or ""),
        signer_title=str(vb.get("ChucVu") or ""),
        signed_on=parse_vn_date(vb.get("NgayKy")),
        promulgated_on=parse_vn_date(vb.get("NgayBanHanh")),
        files=tuple(files),
    )


