"""What reconciliation can find, and the one Vietnamese label of each kind.

Below both finders (local and national), so neither imports the other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

FINDING_LABELS_VI: dict[str, str] = {
    "resolved_not_closed": "Đã giải quyết trên iOffice nhưng chưa kết thúc trên Một cửa",
    "issued_not_attached": "Đã ban hành nhưng chưa gắn kết quả trên Một cửa",
    "not_linked": "Có văn bản trên iOffice nhưng hồ sơ chưa được liên thông",
    "bypass": "Văn bản trên iOffice không qua Một cửa",
    "overdue": "Quá hạn trả kết quả, đang chờ ký/ban hành",
    "near_due": "Sắp đến hạn trả kết quả, đang chờ ký/ban hành",
    "stuck": "Dừng quá lâu ở một bước",
    "not_synced": "Chưa đồng bộ lên Cổng Dịch vụ công quốc gia",
    "synced_late": "Đồng bộ lên Cổng Dịch vụ công quốc gia chậm",
    "national_status_differs": "Trạng thái trên Cổng Dịch vụ công quốc gia khác Một cửa",
}


@dataclass
class Finding:
    kind: str
    dossier_code: str | None
    ioffice_doc_id: str | None
    detail: dict[str, Any] = field(default_factory=dict)
    repaired: bool = False
    repair_result: str | None = None
