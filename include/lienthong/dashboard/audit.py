"""Operator actions on quarantine records (replay, payload view), in the store's event log.

Who (the Airflow user), when (the event's time), what (action + target) and the outcome, as one
``operator_action`` event on the dossier's timeline. Refused attempts are recorded too: an auditor
wants to see who tried. Written in its own transaction so the record survives a failed action.
"""

from __future__ import annotations

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from lienthong.pipeline.route_decisions import ROUTE_DECIDED
from lienthong.store.ledger import RunContext, record_quarantine_action

REPLAY = "replay"
VIEW_PAYLOAD = "view_payload"

ACTION_LABELS_VI = {
    REPLAY: "Xử lý lại mục cách ly",
    VIEW_PAYLOAD: "Xem dữ liệu gốc của mục cách ly",
    "backfill": "Bổ sung hồ sơ bị sót",
    "reconcile_repair": "Đối soát: tự động xử lý",
    ROUTE_DECIDED: "Chọn nơi xử lý cho thủ tục chưa có tuyến (Required Action)",
}
OUTCOME_LABELS_VI = {
    "requested": "Đã gửi yêu cầu, xử lý trên Airflow (quarantine_replay)",
    "resolved": "Thành công, đã hết cách ly",
    "open": "Chưa thành công, mục vẫn bị cách ly",
    "shown": "Đã xem",
    "denied": "Bị từ chối (không có quyền)",
    "not_found": "Không tìm thấy",
    "decision": "Chuyển iOffice theo đơn vị đã chọn",
    "direct": "Trả kết quả trực tiếp, không qua iOffice",
    "success": "Thành công",
    "dry_run": "Chạy thử, không thay đổi dữ liệu",
    "attached": "Đã gắn kết quả",
    "already_done": "Đã xong từ trước",
    "adopted": "Đã nhận vào liên thông",
    "quarantined": "Bị cách ly",
    "busy": "Đang được một lượt chạy khác xử lý, sẽ thử lại ở lượt sau",
}


def outcome_label(outcome: str) -> str:
    if outcome.startswith("failed"):
        return f"Lỗi ({outcome.removeprefix('failed').lstrip(': ') or 'không rõ'})"
    return OUTCOME_LABELS_VI.get(outcome, outcome)


def run_for(actor: str, action: str) -> RunContext:
    """The dashboard's provenance: ``dashboard:<user>`` as the run, the action as the task."""
    return RunContext(run_id=f"dashboard:{actor}", task_id=action)


def record_on_quarantine(
    engine: Engine, actor: str, action: str, quarantine_id: int, outcome: str, **extra: str
) -> None:
    """Record an action on a quarantine record, on its dossier's timeline when it has a dossier."""
    with Session(engine) as session, session.begin():
        record_quarantine_action(
            session,
            run_for(actor, action),
            actor=actor,
            action=action,
            quarantine_id=quarantine_id,
            outcome=outcome,
            **extra,
        )
