"""Dossier documents in iGate's JSON shape: creation and the changes the portal applies.

Pure functions over plain dicts; the store persists the result as a JSON blob next to the
columns it filters on.
"""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

from lienthong_standins.clock import VN_TZ
from lienthong_standins.district import EN, SECTOR_BY_CODE, VI, Agency, Official, Person, Procedure
from lienthong_standins.portal.lifecycle import CURRENT_TASK, FINAL, status_json


def to_ms(dt: datetime) -> int:
    return int(round(dt.timestamp() * 1000))


def from_ms(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, VN_TZ)


def fmt_date(ms: int | None) -> str | None:
    """iGate date: ``2022-12-01T08:05:00.000+0700``."""
    if ms is None:
        return None
    dt = from_ms(ms)
    return f"{dt:%Y-%m-%dT%H:%M:%S}.{dt.microsecond // 1000:03d}+0700"


def fmt_national(ms: int) -> str:
    """National (DVCQG) date: ``yyyyMMddHHmmss``."""
    return f"{from_ms(ms):%Y%m%d%H%M%S}"


def names(vi: str, en: str) -> list[dict[str, Any]]:
    return [{"languageId": VI, "name": vi}, {"languageId": EN, "name": en}]


def current_task(status: int, must_attach: bool) -> list[dict[str, Any]]:
    if status in FINAL:
        return []
    return [
        {
            "name": CURRENT_TASK.get(status, "Xử lý"),
            "mustAttachResultsFile": must_attach,
            "canUseDigitalSignVNPTCA": must_attach,
            "canUseDigitalSignSmartCA": False,
            "canUseDigitalSignVGCA": False,
        }
    ]


def step_record(
    *,
    official: Official,
    unit: str,
    content: str,
    status: int,
    at_ms: int,
    start_ms: int,
    due_ms: int,
) -> dict[str, str]:
    """A processing step with the national step fields (CapNhatTienDoHoSoMC)."""
    return {
        "NguoiXuLy": official.name[:50],
        "ChucDanh": official.title,
        "ThoiDiemXuLy": fmt_national(at_ms),
        "PhongBanXuLy": unit,
        "NoiDungXuLy": content,
        "TrangThai": str(status),
        "NgayBatDau": fmt_national(start_ms),
        "NgayKetThucTheoQuyDinh": fmt_national(due_ms),
    }


def new_dossier(
    *,
    id: str,
    code: str,
    procedure: Procedure,
    agency: Agency,
    applicant: Person,
    applicant_type: int,
    channel: int,
    applied_ms: int,
    accepted_ms: int,
    due_ms: int,
    receiver: Official,
    form_files: list[dict[str, Any]],
) -> dict[str, Any]:
    """A freshly accepted dossier (status 2), as the one-stop desk enters it."""
    sector = SECTOR_BY_CODE[procedure.sector]
    must_attach = procedure.result_kind == "decision"
    summary = f"{applicant.fullname} - {procedure.name}"
    return {
        "id": id,
        "code": code,
        "dossierStatus": status_json(2),
        "applicant": {
            "data": {
                "fullname": applicant.fullname,
                "identityNumber": applicant.identity_number,
                "phoneNumber": applicant.phone,
                "email": applicant.email,
                "address": applicant.address,
                "birthYear": applicant.birth_year,
            }
        },
        "applicantType": applicant_type,
        "channel": channel,
        "summary": summary[:500],
        "procedure": {
            "id": procedure.id,
            "code": procedure.code,
            "translate": [{"languageId": VI, "name": procedure.name}],
            "sector": {
                "id": sector.id,
                "code": sector.code,
                "name": names(sector.name, sector.name_en),
            },
        },
        "agency": {
            "id": agency.id,
            "code": agency.code,
            "name": names(agency.name, agency.name_en),
        },
        "appliedDate": fmt_date(applied_ms),
        "acceptedDate": fmt_date(accepted_ms),
        "appointmentDate": fmt_date(due_ms),
        "dueDate": fmt_date(due_ms),
        "completedDate": None,
        "returnedDate": None,
        "updatedDate": fmt_date(accepted_ms),
        "processingTime": procedure.processing_days,
        "processingTimeUnit": "d",
        "currentTask": current_task(2, must_attach),
        "task": [
            {
                "id": f"{id[:20]}0001",
                "createdDate": fmt_date(accepted_ms),
                **step_record(
                    official=receiver,
                    unit="Bộ phận Một cửa",
                    content="Tiếp nhận hồ sơ",
                    status=2,
                    at_ms=accepted_ms,
                    start_ms=accepted_ms,
                    due_ms=due_ms,
                ),
            }
        ],
        "dossierFormFile": [
            {
                "procedureForm": {"name": f["form"]},
                "file": [{"id": f["id"], "filename": f["filename"], "size": f["size"]}],
            }
            for f in form_files
        ],
        "attachment": [],
    }


def with_status(
    doc: dict[str, Any],
    status: int,
    at_ms: int,
    stamp_ms: int,
    must_attach: bool,
    step: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """``doc`` moved to ``status`` at ``at_ms`` (``stamp_ms`` = its new updatedDate)."""
    out = copy.deepcopy(doc)
    out["dossierStatus"] = status_json(status)
    out["currentTask"] = current_task(status, must_attach)
    if status == 9:
        out["completedDate"] = fmt_date(at_ms)
    if status == 10:
        out["returnedDate"] = fmt_date(at_ms)
    if status == 4 and doc["dossierStatus"]["id"] == 9:
        out["completedDate"] = None  # sent back for re-processing
    if step is not None:
        out = with_step(out, step, stamp_ms)
    out["updatedDate"] = fmt_date(stamp_ms)
    return out


def with_step(doc: dict[str, Any], step: dict[str, Any], stamp_ms: int) -> dict[str, Any]:
    out = copy.deepcopy(doc)
    n = len(out["task"]) + 1
    out["task"].append(
        {"id": f"{out['id'][:20]}{n:04d}", "createdDate": fmt_date(stamp_ms), **step}
    )
    out["updatedDate"] = fmt_date(stamp_ms)
    return out


def with_attachment(
    doc: dict[str, Any], attachment: dict[str, Any], stamp_ms: int
) -> dict[str, Any]:
    out = copy.deepcopy(doc)
    out["attachment"].append({**attachment, "attachedDate": fmt_date(stamp_ms)})
    out["updatedDate"] = fmt_date(stamp_ms)
    return out


def with_extension(
    doc: dict[str, Any], official: Official, new_due_ms: int, reason: str, at_ms: int, stamp_ms: int
) -> dict[str, Any]:
    """``doc`` with its deadline extended (gia hạn): the appointment date moves to ``new_due_ms``
    and a step records the new date (``NgayKetThucTheoQuyDinh``) with the reason, as the national
    step vocabulary carries it. The stand-in takes any date, earlier ones too (a bad input)."""
    out = copy.deepcopy(doc)
    out["appointmentDate"] = out["dueDate"] = fmt_date(new_due_ms)
    day = datetime.fromtimestamp(new_due_ms / 1000, VN_TZ)
    step = step_record(
        official=official,
        unit="Bộ phận Một cửa",
        content=f"Gia hạn thời gian giải quyết đến ngày {day:%d/%m/%Y}. Lý do: {reason}",
        status=int(doc["dossierStatus"]["id"]),
        at_ms=at_ms,
        start_ms=at_ms,
        due_ms=new_due_ms,
    )
    return with_step(out, step, stamp_ms)
