"""The dossier as lienthong needs it, independent of any vendor's JSON shape."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from lienthong.domain.vocabulary import DossierStatus

SYSTEM_PERSON_VI = "Hệ thống liên thông"


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
    due_note: str = ""  # what the step that set the due date says (an extension's reason)


class InvalidDossier(ValueError):
    """A dossier the link cannot take as it is: the reason is specific and shown to officials."""

    def __init__(self, reason_code: str, message_vi: str, detail: str, key: str, code: str | None):
        super().__init__(f"{reason_code}: {detail}")
        self.reason_code = reason_code
        self.message_vi = message_vi
        self.detail = detail
        self.key = key
        self.code = code


@dataclass(frozen=True)
class Step:
    """A processing step as the national vocabulary records it: who did what, when, in which
    status."""

    dossier_code: str
    content: str
    status: DossierStatus
    at: datetime
    person: str = SYSTEM_PERSON_VI
    title: str = "Tự động"
    unit: str = ""
    due: datetime | None = None
    started_at: datetime | None = None  # when the step began (default: ``at``)
    ref: str | None = None  # the local system's id for the step, when it has one


@dataclass(frozen=True)
class ResultDocument:
    """What the portal records about an attached result: the decision's identity and its hash."""

    code_notation: str
    doc_type: str
    subject: str
    signer: str
    promulgated_on: datetime | None
    sha256: str


@dataclass(frozen=True)
class Progress:
    """A dossier's status on the portal now, and when it was finished there (if it was)."""

    status: int
    finished_at: datetime | None
