"""dossier_backfill: re-pull and link dossiers a window of days missed (operators' form)."""

from __future__ import annotations

from airflow.sdk import Param, dag, get_current_context, task

from lienthong.orchestration.dag_settings import link_dag

DOC = """
### Bổ sung hồ sơ bị sót (manual backfill)

**Dành cho cán bộ vận hành.** Chọn khoảng ngày tiếp nhận, có thể giới hạn theo đơn vị hoặc danh sách
mã hồ sơ, chọn *Chạy thử* để chỉ xem kết quả. Hệ thống tìm lại các hồ sơ trên Một cửa, bổ sung những
hồ sơ chưa liên thông (chuyển sang iOffice nếu thủ tục có kết quả là quyết định/giấy chứng nhận) và
không làm gì hai lần với hồ sơ đã có. Mỗi lần chạy được ghi vào nhật ký thao tác (người chạy, khoảng
ngày, kết quả), xem trang *Nhật ký thao tác* của bảng điều khiển Liên thông.

Operators: trigger with the form. Re-pulls dossiers received in the window (optionally only some
agencies or dossier codes) and links exactly what is missing; safe to run again (a second run
changes nothing). The run's return value and log say what was found and done; the triggering user,
the window and the outcome are recorded as an `operator_action` event in the store. For the
scheduled intake's own missed intervals, use the native `airflow backfill create --dag-id
dossier_intake`.
"""


@dag(
    dag_id="dossier_backfill",
    schedule=None,
    params={
        "date_from": Param(
            type="string",
            format="date",
            title="Từ ngày tiếp nhận",
            description="Ngày đầu của khoảng cần bổ sung (theo ngày tiếp nhận hồ sơ).",
        ),
        "date_to": Param(
            type="string",
            format="date",
            title="Đến ngày tiếp nhận",
            description="Ngày cuối của khoảng cần bổ sung (tính cả ngày này).",
        ),
        "agencies": Param(
            [],
            type="array",
            items={"type": "string"},
            title="Mã đơn vị (không bắt buộc)",
            description="Chỉ bổ sung hồ sơ của các đơn vị này, ví dụ 000.30.20.H36. "
            "Để trống: tất cả đơn vị.",
        ),
        "dossier_codes": Param(
            [],
            type="array",
            items={"type": "string"},
            title="Mã hồ sơ (không bắt buộc)",
            description="Chỉ bổ sung các hồ sơ có mã này (mỗi dòng một mã).",
        ),
        "dry_run": Param(
            False,
            type="boolean",
            title="Chạy thử",
            description="Chỉ liệt kê hồ sơ còn thiếu, không thay đổi dữ liệu.",
        ),
    },
    doc_md=DOC,
    **link_dag(retries=2, tags=("operators",)),
)
def dossier_backfill():
    @task(pool="lienthong_portal")
    def link_missed_dossiers() -> dict:
        from lienthong.orchestration.tasks import backfill_missed

        return backfill_missed(get_current_context())

    link_missed_dossiers()


dossier_backfill()
