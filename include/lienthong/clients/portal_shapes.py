"""The portal's (VNPT iGate style) dossier JSON, validated and mapped to :class:`Dossier`.

Everything that knows iGate field names lives here and in ``portal.py``.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from lienthong.clients.http import InvalidResponse
from lienthong.domain.dossier import Dossier, InvalidDossier, Progress, ResultDocument, Step
from lienthong.domain.dossier_checks import text_problem
from lienthong.domain.vocabulary import national_time, parse_national_time

VI, EN = 228, 46


class _Loose(BaseModel):
    model_config = ConfigDict(extra="ignore")


class _Name(_Loose):
    languageId: int
    name: str


def _pick_name(value: Any) -> str:
    """Names come as a string or a multilingual list; prefer Vietnamese."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        items = [_Name.model_validate(v) for v in value]
        for lang in (VI, EN):
            for item in items:
                if item.languageId == lang:
                    return item.name
        if items:
            return items[0].name
    return ""


def parse_portal_datetime(value: str) -> datetime:
    """iGate dates are ISO-8601 with a ``+0700`` offset; anything else is a broken date."""
    dt = datetime.fromisoformat(value)
    if dt.tzinfo is None:
        raise ValueError("date without a UTC offset")
    return dt


class _Status(_Loose):
    id: int = Field(ge=1, le=10)


class _ApplicantData(_Loose):
    fullname: str = Field(min_length=1)
    identityNumber: str | None = Field(None, pattern=r"^\d{9}$|^\d{12}$")
    phoneNumber: str | None = Field(None, pattern=r"^\+?\d{9,12}$")


class _Applicant(_Loose):
    data: _ApplicantData


class _Procedure(_Loose):
    id: str
    code: str = Field(pattern=r"^\d\.\d{6}$")
    translate: Any = None
    name: Any = None


class _Agency(_Loose):
    id: str
    code: str = Field(min_length=3)
    name: Any = None


class _Task(_Loose):
    mustAttachResultsFile: bool | None = None
    content: str | None = None
    NoiDungXuLy: str | None = None
    NgayKetThucTheoQuyDinh: str | None = None  # the legal end date the step set (an extension's)


class _Document(_Loose):
    codeNotation: str | None = None


class _Attachment(_Loose):
    id: str
    document: _Document | None = None


# the dossier's dates: read by one rule (an offset is required), reported as ``broken_date``
_DATE_FIELDS = (
    "acceptedDate",
    "appointmentDate",
    "dueDate",
    "completedDate",
    "returnedDate",
    "updatedDate",
)


class _DossierCore(_Loose):
    """What every reading of a portal dossier checks the same way: its code, status, agency and
    dates (each date by :func:`_read_date`)."""

    code: str = Field(min_length=5)
    dossierStatus: _Status
    summary: str | None = None
    agency: _Agency
    acceptedDate: datetime
    appointmentDate: datetime | None = None
    dueDate: datetime | None = None
    completedDate: datetime | None = None
    returnedDate: datetime | None = None
    updatedDate: datetime

    @field_validator(*_DATE_FIELDS, mode="before")
    @classmethod
    def _date(cls, v: Any) -> Any:
        return _read_date(v)


class PortalDossierShape(_DossierCore):
    id: str = Field(pattern=r"^[0-9a-f]{24}$")
    applicant: _Applicant
    applicantType: int | None = Field(None, ge=1, le=4)
    procedure: _Procedure
    currentTask: list[_Task] = Field(default_factory=list)
    task: list[_Task] = Field(default_factory=list)
    attachment: list[_Attachment] = Field(default_factory=list)


def _read_date(v: Any) -> Any:
    if v is None or isinstance(v, datetime):
        return v
    if not isinstance(v, str):
        raise ValueError("broken_date")
    try:
        return parse_portal_datetime(v)
    except ValueError as exc:
        raise ValueError(f"broken_date: {exc}") from exc


_FIELD_VI = {
    "id": "mã định danh hồ sơ",
    "code": "mã hồ sơ (MaHoSo)",
    "dossierStatus": "trạng thái hồ sơ",
    "applicant": "chủ hồ sơ",
    "procedure": "thủ tục hành chính",
    "agency": "đơn vị xử lý",
    "acceptedDate": "ngày tiếp nhận",
    "appointmentDate": "ngày hẹn trả",
    "dueDate": "hạn xử lý",
    "updatedDate": "ngày cập nhật",
    "identityNumber": "số định danh cá nhân",
    "phoneNumber": "số điện thoại",
    "fullname": "họ tên chủ hồ sơ",
}


def payload_hash(raw: dict[str, Any]) -> str:
    return hashlib.sha256(
        json.dumps(raw, sort_keys=True, ensure_ascii=False, default=str).encode()
    ).hexdigest()


# pydantic error types meaning "a value of the wrong JSON type", not "a wrong value"
_TYPE_ERRORS = {
    "int_parsing",
    "int_type",
    "int_from_float",
    "float_parsing",
    "float_type",
    "string_type",
    "bool_parsing",
    "bool_type",
    "list_type",
    "dict_type",
    "model_type",
    "model_attributes_type",
}


def _key_and_code(raw: dict[str, Any]) -> tuple[str, str | None]:
    ident, code = raw.get("id"), raw.get("code")
    key = (
        str(ident)
        if isinstance(ident, (str, int)) and ident != ""
        else (str(code) if isinstance(code, str) and code else payload_hash(raw)[:24])
    )
    return key[:64], (code[:64] if isinstance(code, str) else None)


# a wrong value where the national code lists decide what is right: its own reason, not
# ``invalid_field``
_VALUE_REASONS = {
    ("dossierStatus", "id"): (
        "unknown_status",
        "Mã trạng thái hồ sơ không thuộc bộ mã quốc gia (1–10)",
    ),
    ("procedure", "code"): (
        "unknown_procedure",
        "Mã thủ tục hành chính không đúng định dạng quốc gia",
    ),
}


def _invalid_from(err: ValidationError, raw: dict[str, Any]) -> InvalidDossier:
    first = err.errors()[0]
    loc = [str(p) for p in first["loc"]]
    fld = next((p for p in reversed(loc) if not p.isdigit()), loc[0] if loc else "?")
    label = _FIELD_VI.get(fld, fld)
    key, code = _key_and_code(raw)
    detail = (
        f"{'.'.join(loc)}: {first['msg']}"  # the message, never the input (it may be personal data)
    )
    if first["type"] == "missing":
        return InvalidDossier("missing_field", f"Thiếu trường bắt buộc: {label}", detail, key, code)
    if fld in _DATE_FIELDS or "broken_date" in first["msg"]:
        return InvalidDossier(
            "broken_date", f"Ngày tháng không hợp lệ ở trường {label}", detail, key, code
        )
    if first["type"] in _TYPE_ERRORS:
        return InvalidDossier(
            "wrong_type",
            f"Sai kiểu dữ liệu ở trường {label}",
            f"{detail} ({first['type']})",
            key,
            code,
        )
    reason, message = _VALUE_REASONS.get(
        tuple(loc[:2]), ("invalid_field", f"Giá trị không hợp lệ ở trường {label}")
    )
    return InvalidDossier(reason, message, detail, key, code)


def to_dossier(raw: dict[str, Any], known_procedures: frozenset[str] | None = None) -> Dossier:
    """Validate one portal dossier; raise :class:`InvalidDossier` with a specific reason."""
    if not isinstance(raw, dict):
        raise InvalidDossier(
            "wrong_type",
            "Hồ sơ không phải một đối tượng JSON",
            f"item is {type(raw).__name__}",
            payload_hash({"item": raw})[:24],
            None,
        )
    problem = text_problem(raw, *_key_and_code(raw))
    if problem is not None:
        raise problem
    try:
        shape = PortalDossierShape.model_validate(raw)
    except ValidationError as err:
        raise _invalid_from(err, raw) from None
    if known_procedures is not None and shape.procedure.code not in known_procedures:
        raise InvalidDossier(
            "unknown_procedure",
            f"Mã thủ tục {shape.procedure.code} không có trong danh mục thủ tục liên thông",
            f"procedure.code {shape.procedure.code} not in the routing configuration",
            shape.id,
            shape.code,
        )
    app = shape.applicant.data
    must_attach = any(t.mustAttachResultsFile for t in shape.currentTask)
    steps = tuple(s for t in shape.task for s in (t.NoiDungXuLy or t.content,) if s)
    return Dossier(
        id=shape.id,
        code=shape.code,
        status=shape.dossierStatus.id,
        agency_code=shape.agency.code,
        agency_name=_pick_name(shape.agency.name),
        procedure_code=shape.procedure.code,
        procedure_name=_pick_name(shape.procedure.translate) or _pick_name(shape.procedure.name),
        applicant_name=app.fullname,
        applicant_id_number=app.identityNumber,
        applicant_phone=app.phoneNumber,
        applicant_type=shape.applicantType,
        summary=shape.summary or "",
        received_at=shape.acceptedDate,
        due_at=shape.appointmentDate or shape.dueDate,
        finished_at=shape.completedDate,
        returned_at=shape.returnedDate,
        updated_at=shape.updatedDate,
        must_attach_result=must_attach,
        payload_hash=payload_hash(raw),
        attached_notations=tuple(
            a.document.codeNotation
            for a in shape.attachment
            if a.document and a.document.codeNotation
        ),
        step_contents=steps,
        due_note=_due_note(shape.task, shape.appointmentDate or shape.dueDate),
    )


def _due_note(tasks: list[_Task], due: datetime | None) -> str:
    """What the latest step that set the current due date says of it (an extension's reason)."""
    if due is None:
        return ""
    for task in reversed(tasks):
        try:
            end = parse_national_time(task.NgayKetThucTheoQuyDinh or "")
        except ValueError:
            continue
        if end.date() == due.astimezone(end.tzinfo).date():
            return (task.NoiDungXuLy or task.content or "")[:1000]
    return ""


def format_portal_datetime(dt: datetime) -> str:
    s = dt.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]
    return s + dt.strftime("%z")


def step_body(step: Step) -> dict[str, Any]:
    """A processing step with the national step fields (``CapNhatTienDoHoSoMC``)."""
    return {
        "MaHoSo": step.dossier_code,
        "NguoiXuLy": step.person[:50],
        "ChucDanh": step.title,
        "ThoiDiemXuLy": national_time(step.at),
        "PhongBanXuLy": step.unit,
        "NoiDungXuLy": step.content,
        "TrangThai": str(int(step.status)),
        "NgayBatDau": national_time(step.at),
        "NgayKetThucTheoQuyDinh": national_time(step.due) if step.due else "",
    }


def step_identity(step: Step) -> tuple[str, str]:
    """How a step is recognised on the portal: its content and its time, as written."""
    body = step_body(step)
    return body["NoiDungXuLy"], body["ThoiDiemXuLy"]


def step_identities(raw: dict[str, Any]) -> set[tuple[str, str]]:
    return {
        (str(t.get("NoiDungXuLy")), str(t.get("ThoiDiemXuLy")))
        for t in raw.get("task") or []
        if isinstance(t, dict)
    }


def result_document_body(doc: ResultDocument) -> dict[str, Any]:
    return {
        "codeNotation": doc.code_notation,
        "documentType": doc.doc_type,
        "subject": doc.subject,
        "signer": doc.signer,
        "promulgationDate": doc.promulgated_on.isoformat() if doc.promulgated_on else None,
        "sha256": doc.sha256,
    }


def attachment_with(raw: dict[str, Any], notation: str) -> str | None:
    """The id of the attached result with this number/notation, if the dossier has one."""
    for att in raw.get("attachment") or []:
        if (att.get("document") or {}).get("codeNotation") == notation:
            return att.get("id")
    return None


def status_of(raw: dict[str, Any]) -> int | None:
    value = (raw.get("dossierStatus") or {}).get("id")
    return None if value is None else int(value)


def to_progress(raw: dict[str, Any]) -> Progress:
    finished = raw.get("completedDate")
    return Progress(
        status=status_of(raw) or 0,
        finished_at=parse_portal_datetime(finished) if finished else None,
    )


def sort_key(raw: dict[str, Any]) -> tuple[datetime, str] | None:
    """Keyset paging position (updatedDate, id); None when the dossier's date cannot be read."""
    try:
        return datetime.fromisoformat(raw["updatedDate"]), str(raw["id"])
    except (KeyError, TypeError, ValueError):
        return None


def check_page(resp: Any, body: Any) -> None:
    """A search page must be a Spring page whose items add up: one that says it holds more than it
    shows (an item skipped by a broken replica or proxy) is refused, so the scan retries it."""
    if not isinstance(body, dict) or not isinstance(body.get("content"), list):
        raise InvalidResponse(str(resp.url), "search answer without a content list")
    content, total = body["content"], body.get("totalElements")
    number, size = body.get("number"), body.get("size")
    if (
        all(isinstance(v, int) for v in (total, number, size))
        and len(content) < size
        and number * size + len(content) < total
    ):
        raise InvalidResponse(
            str(resp.url),
            f"page {number} holds {len(content)} of {size} items "
            f"but the search counts {total}: items were skipped",
        )


def check_dossier(resp: Any, body: Any) -> None:
    if not isinstance(body, dict):
        raise InvalidResponse(str(resp.url), f"dossier answer is a JSON {type(body).__name__}")


def code_of(raw: dict[str, Any]) -> str | None:
    return raw.get("code")


REMOVED_VI = "[đã xoá]"
KEPT_TEXT_CHARS = 200
KEEP, MARK = "keep", "mark"

# What a quarantine record keeps of a portal dossier: the fields ``to_dossier`` and
# ``to_national_record`` read, so an operator sees which one was wrong. ``KEEP``: technical values
# kept as they are (ids, codes, dates, statuses, the procedure's and agency's names). ``MARK``:
# read by the link but personal, or free text that may name the applicant (the summary, a step's
# text, a file name): kept only as "present" (``[đã xoá]``), so a missing or malformed field still
# shows. A dict is a nested object's allowlist, a 1-tuple a list's items. Anything else the portal
# sends (birthday, address, form files and their file names, notes) is dropped before storing.
_STEP = {
    "id": KEEP,
    "mustAttachResultsFile": KEEP,
    "ChucDanh": KEEP,
    "ThoiDiemXuLy": KEEP,
    "PhongBanXuLy": KEEP,
    "TrangThai": KEEP,
    "NgayBatDau": KEEP,
    "NgayKetThucTheoQuyDinh": KEEP,
    "createdDate": KEEP,
    "NguoiXuLy": MARK,
    "NoiDungXuLy": MARK,
    "content": MARK,
}
KEPT_FIELDS: dict[str, Any] = {
    "id": KEEP,
    "code": KEEP,
    "dossierStatus": {"id": KEEP},
    "applicant": {
        "data": {"fullname": MARK, "identityNumber": MARK, "phoneNumber": MARK, "email": MARK}
    },
    "applicantType": KEEP,
    "channel": KEEP,
    "summary": MARK,
    "procedure": {
        "id": KEEP,
        "code": KEEP,
        "translate": KEEP,
        "name": KEEP,
        "sector": {"code": KEEP, "name": KEEP},
    },
    "agency": {"id": KEEP, "code": KEEP, "name": KEEP},
    "acceptedDate": KEEP,
    "appointmentDate": KEEP,
    "dueDate": KEEP,
    "completedDate": KEEP,
    "returnedDate": KEEP,
    "updatedDate": KEEP,
    "currentTask": (_STEP,),
    "task": (_STEP,),
    "dossierFormFile": ({"procedureForm": {"name": KEEP}},),
    "attachment": (
        {"id": KEEP, "filename": MARK, "document": {"codeNotation": KEEP, "documentType": KEEP}},
    ),
}


def _marked(value: Any) -> Any:
    """A personal or free-text value as kept: its presence and JSON type, not its content."""
    return value if value in (None, "") or isinstance(value, (bool, int, float)) else REMOVED_VI


def _allowed(value: Any, allow: Any) -> Any:
    if allow == KEEP:
        return value[:KEPT_TEXT_CHARS] if isinstance(value, str) else value
    if allow == MARK:
        return _marked(value)
    if isinstance(allow, tuple):
        return [_allowed(v, allow[0]) for v in value] if isinstance(value, list) else _marked(value)
    if not isinstance(value, dict):
        return _marked(value)
    return {key: _allowed(value[key], sub) for key, sub in allow.items() if key in value}


def without_personal_data(raw: dict[str, Any]) -> dict[str, Any]:
    """The dossier as a quarantine record keeps it: the allowlist :data:`KEPT_FIELDS` of what the
    link reads, personal and free-text values reduced to their presence, everything else dropped.
    An operator sees which field was wrong; nothing identifies the applicant (a replay re-reads the
    dossier from the portal, so no step needs more; Decree 13/2023 asks that it not be kept)."""
    out = json.loads(json.dumps(raw, default=str))
    if not isinstance(out, dict):
        return {"item_type": type(raw).__name__}
    return _allowed(out, KEPT_FIELDS)


def file_path(file_id: str) -> str:
    return f"/fi/file/{file_id}"


def routing_keys(raw: Any) -> tuple[str, str, str, str] | None:
    """(procedure code, procedure name, agency code, agency name) of a dossier as the portal served
    it, however broken the rest is; None when either code is missing."""
    if not isinstance(raw, dict):
        return None
    procedure, agency = raw.get("procedure"), raw.get("agency")
    if not isinstance(procedure, dict) or not isinstance(agency, dict):
        return None
    p_code, a_code = procedure.get("code"), agency.get("code")
    if not isinstance(p_code, str) or not isinstance(a_code, str) or not p_code or not a_code:
        return None
    try:
        p_name = _pick_name(procedure.get("translate")) or _pick_name(procedure.get("name"))
        a_name = _pick_name(agency.get("name"))
    except ValueError:  # a name list that does not read: the codes still route
        p_name, a_name = "", ""
    return p_code[:32], p_name[:500], a_code[:64], a_name[:255]
