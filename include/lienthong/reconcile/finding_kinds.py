"""What reconciliation can find, and the one Vietnamese label of each kind.

Below both finders (local and national), so neither imports the other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class FindingKind(StrEnum):
    """A kind of finding; its value is the stored ``reconcile_finding.kind`` and the count key."""

    RESOLVED_NOT_CLOSED = "resolved_not_closed"
    ISSUED_NOT_ATTACHED = "issued_not_attached"
    NOT_LINKED = "not_linked"
    BYPASS = "bypass"
    OVERDUE = "overdue"
    NEAR_DUE = "near_due"
    STUCK = "stuck"
    NOT_SYNCED = "not_synced"
    SYNCED_LATE = "synced_late"
    NATIONAL_STATUS_DIFFERS = "national_status_differs"


FINDING_LABELS_VI: dict[FindingKind, str] = {
    FindingKind.RESOLVED_NOT_CLOSED: "Đã giải quyết trên iOffice nhưng chưa kết thúc trên Một cửa",
    FindingKind.ISSUED_NOT_ATTACHED: "Đã ban hành nhưng chưa gắn kết quả trên Một cửa",
    FindingKind.NOT_LINKED: "Có văn bản trên iOffice nhưng hồ sơ chưa được liên thông",
    FindingKind.BYPASS: "Văn bản trên iOffice không qua Một cửa",
    FindingKind.OVERDUE: "Quá hạn trả kết quả, đang chờ ký/ban hành",
    FindingKind.NEAR_DUE: "Sắp đến hạn trả kết quả, đang chờ ký/ban hành",
    FindingKind.STUCK: "Dừng quá lâu ở một bước",
    FindingKind.NOT_SYNCED: "Chưa đồng bộ lên Cổng Dịch vụ công quốc gia",
    FindingKind.SYNCED_LATE: "Đồng bộ lên Cổng Dịch vụ công quốc gia chậm",
    FindingKind.NATIONAL_STATUS_DIFFERS: "Trạng thái trên Cổng Dịch vụ công quốc gia khác Một cửa",
}


# Kinds a person must look at: reconciliation alerts when any of them is left unrepaired.
ALERTING: frozenset[FindingKind] = frozenset(
    {
        FindingKind.OVERDUE,
        FindingKind.NEAR_DUE,
        FindingKind.STUCK,
        FindingKind.BYPASS,
        FindingKind.RESOLVED_NOT_CLOSED,
        FindingKind.ISSUED_NOT_ATTACHED,
        FindingKind.NOT_SYNCED,
        FindingKind.NATIONAL_STATUS_DIFFERS,
    }
)


def repaired_key(kind: FindingKind) -> str:
    """The count key of the findings of ``kind`` that reconciliation repaired itself."""
    return f"{kind}_repaired"


@dataclass
class Finding:
    kind: FindingKind
    dossier_code: str | None
    ioffice_doc_id: str | None
    detail: dict[str, Any] = field(default_factory=dict)
    repaired: bool = False
    repair_result: str | None = None

    def __post_init__(self) -> None:
        self.kind = FindingKind(self.kind)  # an unknown kind fails here, not in a report
