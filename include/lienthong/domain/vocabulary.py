"""The national dossier vocabulary (DVCQG) and iOffice result kinds, with Vietnamese labels."""

from __future__ import annotations

from datetime import datetime
from enum import IntEnum, StrEnum

from lienthong.domain.timeliness import VN_TZ

NATIONAL_TIME_FORMAT = "%Y%m%d%H%M%S"  # yyyyMMddHHmmss, Asia/Ho_Chi_Minh (interfaces.md §2)


class DossierStatus(IntEnum):
    """`TrangThaiHoSo` codes 1-10."""

    SUBMITTED = 1
    ACCEPTED = 2
    NOT_ACCEPTED = 3
    PROCESSING = 4
    MORE_DOCUMENTS = 5
    FINANCIAL_OBLIGATION = 6
    WITHDRAWN = 7
    STOPPED = 8
    FINISHED = 9
    RETURNED = 10


STATUS_LABELS_VI: dict[int, str] = {
    1: "Mới đăng ký",
    2: "Đã tiếp nhận",
    3: "Không được tiếp nhận",
    4: "Đang xử lý",
    5: "Yêu cầu bổ sung giấy tờ",
    6: "Yêu cầu thực hiện nghĩa vụ tài chính",
    7: "Công dân yêu cầu rút hồ sơ",
    8: "Dừng xử lý",
    9: "Đã xử lý xong",
    10: "Đã trả kết quả",
}


class ResultKind(StrEnum):
    """How a procedure's result is produced (the article's two kinds)."""

    DECISION = "decision"  # decision/certificate drafted, signed and issued in iOffice
    DIRECT = "direct"  # signed/certified directly on the filed papers; portal only


class PackageOutcome(StrEnum):
    """iOffice `LoaiKetQua`."""

    ISSUED = "01"
    SIGNED_NOT_ISSUED = "02"
    REJECTED = "03"
    SIGNED_APPROVED = "04"
    # Not in the public sources, which list 01-04: a revocation of the issued document, as edXML's
    # revocation messages carry it (the stand-in's code; a deployment maps its own in the adapter).
    REVOKED = "07"


class AckStatus(StrEnum):
    """iOffice `CapNhatTrangThaiVanBan.TrangThai`."""

    PROCESSED = "03"
    FAILED = "04"


STEP_TRANSFERRED_VI = "Chuyển xử lý trên iOffice"
STEP_SIGNED_VI = "Lãnh đạo đã ký số văn bản trên iOffice, chờ phát hành"
STEP_REJECTED_VI = "Lãnh đạo trả lại dự thảo trên iOffice, chuyển lại bước xử lý trước"
STEP_FINISHED_VI = "Đã ban hành văn bản {code}; kết quả đã ký số được gắn tự động từ iOffice"
STEP_REPLACED_VI = "Văn bản {new} thay thế văn bản {old}; kết quả đã được thay. Lý do: {reason}"
STEP_REVOKED_VI = (
    "Văn bản {code} đã bị thu hồi; kết quả đã gỡ khỏi hồ sơ, chờ văn bản mới. Lý do: {reason}"
)


def national_time(dt: datetime | None) -> str:
    """A time in the national format, as the portal's steps and DVCQG's bodies write it."""
    return dt.astimezone(VN_TZ).strftime(NATIONAL_TIME_FORMAT) if dt else ""


def parse_national_time(value: str) -> datetime:
    """Reads ``yyyyMMddHHmmss`` in Asia/Ho_Chi_Minh; anything else is a ``ValueError``."""
    if len(value) != 14 or not value.isdigit():
        raise ValueError(f"not yyyyMMddHHmmss: {value[:20]!r}")
    return datetime.strptime(value, NATIONAL_TIME_FORMAT).replace(tzinfo=VN_TZ)
