"""The portal's dossier JSON read as the national record needs it (for the sync to DVCQG).

Still the portal's wire format (iGate field names, with the national step fields the portal
keeps in ``task``), so it belongs to the portal adapter; the DVCQG side is ``national_shapes``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field, ValidationError, field_validator

from lienthong.clients.portal_shapes import (
    _DossierCore,
    _invalid_from,
    _key_and_code,
    _Loose,
    _pick_name,
    _Procedure,
    parse_portal_datetime,
)
from lienthong.domain.dossier import InvalidDossier, Step
from lienthong.domain.national_record import NationalRecord, ResultPaper
from lienthong.domain.vocabulary import DossierStatus, parse_national_time


class _Sector(_Loose):
    code: str = ""
    name: Any = None


class _NationalProcedure(_Procedure):
    code: str = Field(min_length=1)
    sector: _Sector | None = None


class _NationalApplicantData(_Loose):
    fullname: str = ""
    identityNumber: str | None = None
    phoneNumber: str | None = None
    email: str | None = None


class _NationalApplicant(_Loose):
    data: _NationalApplicantData = Field(default_factory=_NationalApplicantData)


class _StepEntry(_Loose):
    id: str | None = None
    NguoiXuLy: str | None = None
    ChucDanh: str | None = None
    ThoiDiemXuLy: str | None = None
    PhongBanXuLy: str | None = None
    NoiDungXuLy: str | None = None
    content: str | None = None
    TrangThai: str | int | None = None
    NgayBatDau: str | None = None
    NgayKetThucTheoQuyDinh: str | None = None
    createdDate: datetime | None = None

    @field_validator("createdDate", mode="before")
    @classmethod
    def _date(cls, v: Any) -> Any:
        return parse_portal_datetime(v) if isinstance(v, str) else v


class _FormFile(_Loose):
    procedureForm: dict[str, Any] | None = None


class _ResultDocumentShape(_Loose):
    codeNotation: str | None = None
    documentType: str | None = None


class _ResultAttachment(_Loose):
    id: str
    filename: str | None = None
    document: _ResultDocumentShape | None = None


class _NationalShape(_DossierCore):
    applicant: _NationalApplicant = Field(default_factory=_NationalApplicant)
    applicantType: int | None = None
    channel: int | None = None
    procedure: _NationalProcedure
    task: list[_StepEntry] = Field(default_factory=list)
    dossierFormFile: list[_FormFile] = Field(default_factory=list)
    attachment: list[_ResultAttachment] = Field(default_factory=list)


def _step_of(code: str, index: int, entry: _StepEntry) -> Step:
    when = entry.ThoiDiemXuLy
    at = parse_national_time(when) if when else entry.createdDate
    if at is None:
        raise ValueError(f"task[{index}] has no time")
    status = int(entry.TrangThai) if entry.TrangThai not in (None, "") else 0
    due = entry.NgayKetThucTheoQuyDinh
    start = entry.NgayBatDau
    return Step(
        dossier_code=code,
        content=entry.NoiDungXuLy or entry.content or "",
        status=DossierStatus(status),
        at=at,
        person=entry.NguoiXuLy or "",
        title=entry.ChucDanh or "",
        unit=entry.PhongBanXuLy or "",
        due=parse_national_time(due) if due else None,
        started_at=parse_national_time(start) if start else None,
        ref=entry.id,
    )


def to_national_record(raw: dict[str, Any], file_url: Any) -> NationalRecord:
    """The dossier as the national record holds it, steps in the portal's order. ``file_url(id)``
    is where a result file is downloaded. Raises :class:`InvalidDossier` when the dossier cannot be
    read."""
    key, code = _key_and_code(raw if isinstance(raw, dict) else {})
    try:
        shape = _NationalShape.model_validate(raw)
        steps = tuple(_step_of(shape.code, i, entry) for i, entry in enumerate(shape.task))
    except ValidationError as err:
        raise _invalid_from(err, raw if isinstance(raw, dict) else {}) from None
    except ValueError as exc:  # a step's national date or status cannot be read
        raise InvalidDossier(
            "invalid_field",
            "Bước xử lý của hồ sơ có giá trị không hợp lệ",
            str(exc)[:300],
            key,
            code,
        ) from None
    app = shape.applicant.data
    sector = shape.procedure.sector or _Sector()
    return NationalRecord(
        code=shape.code,
        agency_code=shape.agency.code,
        agency_name=_pick_name(shape.agency.name),
        procedure_code=shape.procedure.code,
        procedure_name=_pick_name(shape.procedure.translate) or _pick_name(shape.procedure.name),
        sector_code=sector.code,
        sector_name=_pick_name(sector.name),
        applicant_name=app.fullname,
        applicant_type=shape.applicantType,
        applicant_id_number=app.identityNumber,
        applicant_email=app.email,
        applicant_phone=app.phoneNumber,
        summary=shape.summary or "",
        channel=shape.channel,
        status=shape.dossierStatus.id,
        received_at=shape.acceptedDate,
        due_at=shape.appointmentDate or shape.dueDate,
        finished_at=shape.completedDate,
        returned_at=shape.returnedDate,
        updated_at=shape.updatedDate,
        filed_documents=tuple(
            str((f.procedureForm or {}).get("name") or "") for f in shape.dossierFormFile
        ),
        results=tuple(
            ResultPaper(
                name=(
                    a.document.documentType
                    if a.document and a.document.documentType
                    else a.filename or ""
                ),
                notation=(a.document.codeNotation or "") if a.document else "",
                file_id=a.id,
                url=file_url(a.id),
            )
            for a in shape.attachment
        ),
        steps=steps,
    )
