"""iOffice's wire format (interfaces.md §3): the ``GuiHoSo`` body, result packages, document lists.

Pure functions between iOffice JSON and typed values; the only module besides
:mod:`lienthong.clients.ioffice` that knows iOffice's field names.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from lienthong.clients.errors import CredentialsRefused, RequestRejected
from lienthong.domain.dossier import Dossier
from lienthong.domain.timeliness import VN_TZ
from lienthong.domain.vocabulary import PackageOutcome

if TYPE_CHECKING:
    from lienthong.pipeline.routing import Route

CORRELATION_PREFIX = "lienthong:"  # our value in ThamSoAn: finds the dossier again from a package
# Why a package could not be read at all (``Package.unreadable``; the pipeline's reason codes).
OVERSIZED_PACKAGE = "oversized_package"  # the answer passed the byte cap
TOO_DEEP = "too_deep"  # its JSON nests deeper than the link reads
_BASE64_SPACING = "\r\n\t "  # MIME-style wrapping, not part of the encoded text


class IOfficeError(RequestRejected):
    """iOffice answered with an error code in its body (401/403 there are
    :class:`~lienthong.clients.errors.CredentialsRefused`): it understood and refused."""

    def __init__(self, code: int, internal: str, user: str):
        super().__init__(f"iOffice error {code}: {internal}", status=code)
        self.code, self.internal, self.user = code, internal, user


@dataclass(frozen=True)
class PushResult:
    doc_id: str
    created: bool  # False when iOffice already had a document for this dossier


@dataclass(frozen=True)
class ResultFile:
    name: str
    content: bytes
    decoded: bool = True  # False: the body was not valid base64 (``content`` is then empty)
    # (bytes its base64 text encodes, the limit) when that is over the limit: never decoded, and
    # ``content`` is empty.
    too_large: tuple[int, int] | None = None

    @property
    def size(self) -> int:
        """The file's size: decoded, or what its base64 text encodes when it was too large."""
        return self.too_large[0] if self.too_large else len(self.content)


@dataclass(frozen=True)
class Package:
    """One result package: the document's current outcome (a :class:`PackageOutcome` code)."""

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
    declared_dossier_id: str = ""  # the dossier id the package states outright (IDHoSo), if any
    replaces: str = ""  # the MaVanBan of the issued document this one replaces (a correction)
    change_reason: str = ""  # why it replaces, or why the document is revoked
    # Not read at all (:data:`OVERSIZED_PACKAGE`, :data:`TOO_DEEP`): only ``doc_id`` is known.
    unreadable: str = ""
    unreadable_detail: str = ""
    # Which iOffice it came from (a Connection id; None: the default one). Not on the wire: set by
    # the pipeline, so the package is verified and acknowledged where it was read.
    source: str | None = None

    @property
    def dossier_id(self) -> str | None:
        """The portal dossier id we put in the push, when the package carries it back."""
        return dossier_id_from_correlation(self.correlation)

    def meta(self) -> dict[str, Any]:
        """JSON-safe metadata without file bodies (for quarantine records and events)."""
        return {
            "doc_id": self.doc_id,
            "dossier_code": self.dossier_code,
            "outcome": self.outcome,
            "code_notation": self.code_notation,
            "doc_type": self.doc_type,
            "subject": self.subject,
            "unit": self.unit_code,
            "files": [
                {"name": f.name[:200], "size": f.size, "decoded": f.decoded} for f in self.files
            ],
        } | ({"unreadable": self.unreadable} if self.unreadable else {})


@dataclass(frozen=True)
class IssuedDocument:
    """One entry of iOffice's list of issued documents (for reconciliation)."""

    doc_id: str
    dossier_code: str
    code_notation: str
    doc_type: str
    subject: str
    unit_code: str
    unit_name: str
    promulgated_on: datetime | None

    def meta(self) -> dict[str, Any]:
        return {
            "code_notation": self.code_notation,
            "unit": self.unit_code,
            "promulgated_on": self.promulgated_on.date().isoformat()
            if self.promulgated_on
            else None,
        }


def correlation_for(dossier_id: str) -> str:
    return CORRELATION_PREFIX + dossier_id


def dossier_id_from_correlation(value: str) -> str | None:
    return value[len(CORRELATION_PREFIX) :] if value.startswith(CORRELATION_PREFIX) else None


def parse_vn_date(value: str | None) -> datetime | None:
    """iOffice dates are ``dd/MM/yyyy``; the day starts at 00:00 in Vietnam."""
    if not value:
        return None
    return datetime.strptime(value.strip()[:10], "%d/%m/%Y").replace(tzinfo=VN_TZ)


def vn_date(dt: datetime) -> str:
    return dt.astimezone(VN_TZ).strftime("%d/%m/%Y")


def checked(body: dict[str, Any], ok_codes: tuple[int, ...]) -> dict[str, Any]:
    """Every answer is ``{data, error{code, ...}}``; a code outside ``ok_codes`` is an error: a
    refused token (401/403) :class:`~lienthong.clients.errors.CredentialsRefused`, any other
    :class:`IOfficeError`."""
    err = body.get("error") or {}
    code = int(err.get("code", 200))
    if code in ok_codes:
        return body
    if code in (401, 403):
        internal = err.get("internalMessage", "")
        raise CredentialsRefused(f"iOffice error {code}: {internal}", status=code)
    raise IOfficeError(code, err.get("internalMessage", ""), err.get("userMessage", ""))


def push_body(d: Dossier, route: Route, now: datetime, callback_url: str = "") -> dict[str, Any]:
    """The ``GuiHoSo`` body: the dossier, its draft decision, the handler and the intended
    signer."""
    doc_type = route.procedure.document_type
    return {
        "IDHoSo": d.id,
        "MaHoSo": d.code,
        "ChuHoSo": d.applicant_name,
        "NguoiNop": d.applicant_name,
        "NguoiKy": {
            "Ten": route.unit.signer.name,
            "TaiKhoan": route.unit.signer.account,
            "ChucVu": route.unit.signer.title,
        },
        "NguoiTrinhKy": route.unit.handler.name,
        "DonVi": {"Ten": route.unit.ioffice_unit.name, "MaDinhDanh": route.unit.ioffice_unit.code},
        "VanBanDuThao": {
            "TrichYeu": f"V/v giải quyết hồ sơ {d.code}: {route.procedure.name}"[:500],
            "LoaiVanBan": doc_type.code if doc_type else "QĐ",
            "NgayTao": vn_date(now),
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
        "HanXuLyVanBan": vn_date(d.due_at) if d.due_at else "",
    }


def push_result(body: dict[str, Any]) -> PushResult:
    """``GuiHoSo`` answers 200 (created) or 409 "already exists", both naming the document."""
    data = body.get("data") or {}
    code = int((body.get("error") or {}).get("code", 200))
    if not data.get("MaVanBan"):
        raise IOfficeError(code, "no MaVanBan in answer", "")
    return PushResult(doc_id=str(data["MaVanBan"]), created=code == 200)


def pending_params(parent_unit: str, top: int) -> dict[str, Any]:
    return {"maDonViCha": parent_unit, "top": top}


def pending_doc_ids(body: dict[str, Any]) -> list[str]:
    """Document ids of the pending packages, each once even when delivered twice."""
    seen: dict[str, None] = {}
    for item in body.get("data") or []:
        doc_id = str(item.get("MaVanBan") or "")
        if doc_id:
            seen.setdefault(doc_id, None)
    return list(seen)


def ack_body(doc_id: str, status: str) -> dict[str, Any]:
    return {"MaVanBan": doc_id, "TrangThai": status}


def _unit(value: Any) -> tuple[str, str]:
    if isinstance(value, dict):
        return str(value.get("MaDinhDanh") or value.get("Ma") or ""), str(value.get("Ten") or "")
    return str(value or ""), ""


def decode_file(value: Any) -> tuple[bytes, bool]:
    """``(content, decoded)`` of an attachment's base64 body; never raises. Line breaks (MIME-style
    wrapping) are allowed; any other character outside the standard alphabet, or bad padding, makes
    the body undecodable, which the pipeline refuses rather than attaching an empty file."""
    if value is None or value == "":
        return b"", True
    if not isinstance(value, str):
        return b"", False
    try:
        return base64.b64decode(re.sub(r"[\r\n\t ]+", "", value), validate=True), True
    except (ValueError, TypeError):
        return b"", False


def encoded_size(value: str) -> int:
    """How many bytes a base64 text encodes, from its length alone (padding counted as data: at
    most 2 bytes too many), so a huge body is judged before any copy or decoding of it."""
    spacing = sum(value.count(ch) for ch in _BASE64_SPACING)
    return (len(value) - spacing) * 3 // 4


def unreadable_package(doc_id: str, reason: str, detail: str) -> Package:
    """A package the adapter could not read (``reason``: :data:`OVERSIZED_PACKAGE`,
    :data:`TOO_DEEP`): known by its document id only, for the pipeline to refuse."""
    return Package(
        doc_id=doc_id,
        dossier_code="",
        outcome="",
        unit_code="",
        unit_name="",
        correlation="",
        subject="",
        doc_type="",
        code_notation="",
        signer="",
        signer_title="",
        signed_on=None,
        promulgated_on=None,
        files=(),
        unreadable=reason,
        unreadable_detail=detail,
    )


def _result_file(att: dict[str, Any], max_file_bytes: int | None) -> ResultFile:
    name, body = str(att.get("Ten") or "ketqua.pdf"), att.get("Base64")
    if max_file_bytes is not None and isinstance(body, str):
        size = encoded_size(body)
        if size > max_file_bytes + 2:  # surely over, whatever its padding
            return ResultFile(name, b"", decoded=False, too_large=(size, max_file_bytes))
    content, decoded = decode_file(body)
    return ResultFile(name=name, content=content, decoded=decoded)


def to_package(doc_id: str, data: dict[str, Any], max_file_bytes: int | None = None) -> Package:
    """Map a ``LayGoiTinVanBan`` answer; attachment bodies are decoded, never logged. A body whose
    base64 text encodes more than ``max_file_bytes`` is not decoded (``ResultFile.too_large``)."""
    vb = data.get("VanBanDi") or {}
    unit_code, unit_name = _unit(data.get("DonVi"))
    files = [_result_file(att, max_file_bytes) for att in vb.get("DinhKem") or []]
    return Package(
        doc_id=str(data.get("MaVanBan") or doc_id),
        dossier_code=str(data.get("MaHoSo") or ""),
        outcome=str(data.get("LoaiKetQua") or ""),
        unit_code=unit_code,
        unit_name=unit_name,
        correlation=str(data.get("ThamSoAn") or ""),
        subject=str(vb.get("TrichYeu") or ""),
        doc_type=str(vb.get("LoaiVanBan") or ""),
        code_notation=str(vb.get("SoKyHieu") or ""),
        signer=str(vb.get("NguoiKy") or ""),
        signer_title=str(vb.get("ChucVu") or ""),
        signed_on=parse_vn_date(vb.get("NgayKy")),
        promulgated_on=parse_vn_date(vb.get("NgayBanHanh")),
        files=tuple(files),
        declared_dossier_id=str(data.get("IDHoSo") or ""),
        replaces=str(_object(vb.get("ThayTheVanBan")).get("MaVanBan") or ""),
        change_reason=_change_reason(data, vb)[:1000],
    )


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _change_reason(data: dict[str, Any], vb: dict[str, Any]) -> str:
    """The reason a replacement (``ThayTheVanBan.LyDo``) or a revocation (``ThuHoi.LyDo``) gives."""
    for holder in (_object(vb.get("ThayTheVanBan")), _object(vb.get("ThuHoi"))):
        if holder.get("LyDo"):
            return str(holder["LyDo"])
    revoked = data.get("LoaiKetQua") == PackageOutcome.REVOKED
    return str(data.get("LyDo") or "") if revoked else ""


def document_list_params(date_from: date, date_to: date) -> dict[str, str]:
    """Issued between two Vietnamese calendar dates, both included."""
    return {"tuNgay": date_from.strftime("%d/%m/%Y"), "denNgay": date_to.strftime("%d/%m/%Y")}


def to_issued_document(item: dict[str, Any]) -> IssuedDocument:
    unit_code, unit_name = _unit(item.get("DonVi"))
    return IssuedDocument(
        doc_id=str(item["MaVanBan"]),
        dossier_code=str(item.get("MaHoSo") or ""),
        code_notation=str(item.get("SoKyHieu") or ""),
        doc_type=str(item.get("LoaiVanBan") or ""),
        subject=str(item.get("TrichYeu") or ""),
        unit_code=unit_code,
        unit_name=unit_name,
        promulgated_on=parse_vn_date(item.get("NgayBanHanh")),
    )
