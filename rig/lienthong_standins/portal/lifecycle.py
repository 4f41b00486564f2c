"""Dossier lifecycle of the one-stop portal (national ``TrangThaiHoSo`` codes 1-10)."""

from __future__ import annotations

STATUS_NAMES: dict[int, tuple[str, str]] = {
    1: ("Mới đăng ký", "Newly submitted"),
    2: ("Đã tiếp nhận", "Accepted"),
    3: ("Không được tiếp nhận", "Not accepted"),
    4: ("Đang xử lý", "Processing"),
    5: ("Yêu cầu bổ sung giấy tờ", "Additional documents requested"),
    6: ("Yêu cầu thực hiện nghĩa vụ tài chính", "Financial obligation requested"),
    7: ("Công dân yêu cầu rút hồ sơ", "Withdrawn by applicant"),
    8: ("Dừng xử lý", "Processing stopped"),
    9: ("Đã xử lý xong", "Processing finished"),
    10: ("Đã trả kết quả", "Result returned"),
}

TRANSITIONS: dict[int, frozenset[int]] = {
    1: frozenset({2, 3}),
    2: frozenset({4, 5, 6, 7, 8}),
    4: frozenset({5, 6, 7, 8, 9}),
    5: frozenset({4, 7, 8}),
    6: frozenset({4, 7, 8}),
    9: frozenset({4, 10}),
    3: frozenset(),
    7: frozenset(),
    8: frozenset(),
    10: frozenset(),
}
FINAL = frozenset(s for s, nxt in TRANSITIONS.items() if not nxt)

#: The step the dossier waits for in each status (``currentTask[].name``).
CURRENT_TASK: dict[int, str] = {
    1: "Tiếp nhận hồ sơ",
    2: "Chuyển xử lý",
    4: "Thẩm định, trình ký",
    5: "Chờ bổ sung hồ sơ",
    6: "Chờ thực hiện nghĩa vụ tài chính",
    9: "Trả kết quả",
}


def allowed(current: int, target: int) -> bool:
    return target in TRANSITIONS.get(current, frozenset())


def status_json(status: int) -> dict:
    vi, en = STATUS_NAMES[status]
    return {"id": status, "name": [{"languageId": 228, "name": vi}, {"languageId": 46, "name": en}]}
