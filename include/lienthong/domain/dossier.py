"""The dossier as lienthong needs it, independent of any vendor's JSON shape."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Dossier:
    id: str
    code: str
    status: int
    agency_code: str
    agency_name: str
    procedure_code: str
    procedure_name: str
    applicant_name: str
    applicant_id_number: str | None
    applicant_phone: str | None
    applicant_type: int | None
    summary: str
    received_at: datetime
    due_at: datetime | None
    finished_at: datetime | None
    returned_at: datetime | None
    updated_at: datetime
    must_attach_result: bool
    payload_hash: str
    attached_notations: tuple[str, ...] = field(default=())
    step_contents: tuple[str, ...] = field(default=())


class InvalidDossier(ValueError):
    """A dossier the link cannot take as it is: the reason is specific and shown to officials."""

    def __init__(self, reason_code: str, message_vi: str, detail: str, key: str, code: str | None):
        super().__init__(f"{reason_code}: {detail}")
        self.reason_code = reason_code
        self.message_vi = message_vi
        self.detail = detail
        self.key = key
        self.code = code
