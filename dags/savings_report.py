"""savings_report: the article's report (dossiers, time and money saved) for last month or any
period."""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

from airflow.sdk import Param, Variable, dag, get_current_context, task
from airflow.timetables.trigger import CronTriggerTimetable

from lienthong.domain.savings import DEFAULT_SAVINGS
from lienthong.orchestration.dag_settings import TIMEZONE, env_setting, link_dag

_HOURS = f"{DEFAULT_SAVINGS.hours_per_dossier:g}".replace(".", ",")  # Vietnamese decimal comma
_COST = f"{DEFAULT_SAVINGS.cost_per_hour_vnd:,}".replace(",", ".")  # Vietnamese thousands dot

DOC = """
### Báo cáo hiệu quả liên thông (savings report)

**Tiếng Việt.** Báo cáo theo cách của bài viết, cho tháng trước (chạy tự động 06:00 ngày 1 hằng
tháng) hoặc cho bất kỳ khoảng thời gian nào (chạy thủ công, nhập *Từ ngày* / *Đến ngày*): số hồ sơ
tiếp nhận, xử lý trên phần mềm Một cửa; số giờ và số tiền tiết kiệm **đo theo từng hồ sơ** đã liên
thông (`dossier_time_savings`) và **theo cách tính của bài viết** (số hồ sơ × số giờ mỗi hồ sơ × chi
phí một giờ công); tỷ lệ hồ sơ nhập trên Một cửa so với tổng số hồ sơ toàn huyện (số liệu do cán bộ
vận hành nạp: `python -m lienthong.report load-totals FILE`); tỷ lệ gắn kết quả; trước hạn / đúng
hạn / trễ hạn (ngày kết thúc xử lý so với ngày hẹn trả); văn bản không qua Một cửa. Kết quả: tệp CSV
và XLSX (các trang *Tổng hợp*, *Theo tháng*, *Theo đơn vị*, *Theo thủ tục*) trong thư mục báo cáo
(Variable `lienthong_reports_dir`, mặc định `$AIRFLOW_HOME/reports`).

**English.** The article's report for the previous month (monthly, 06:00 on the 1st,
Asia/Ho_Chi_Minh) or for any period on demand: dossiers processed on the portal, hours and VND saved
as measured per dossier and by the article's estimate (dossiers × hours per dossier × cost per hour;
defaults from the Variables `lienthong_minutes_saved_per_dossier` and
`lienthong_cost_per_hour_vnd`), the share of the district's dossiers entered on the portal (district
totals supplied by an operator), results attached, early / on time / late, bypass documents.
`compute_savings_report` returns the headline figures (no personal data); `export_savings_report`
writes the CSV files and the workbook and returns their paths. The same table prints with `python -m
lienthong.report --from YYYY-MM-DD --to YYYY-MM-DD`.
"""


def _settings(params: dict[str, Any]) -> tuple[float, int]:
    """Hours per dossier and cost per hour: the run's params, else the savings Variables."""
    from lienthong.orchestration.airflow_resources import savings_settings

    hours, cost = params.get("hours_per_dossier"), params.get("cost_per_hour")
    if hours in (None, "") or cost in (None, ""):
        savings = savings_settings()
        hours = savings.hours_per_dossier if hours in (None, "") else hours
        cost = savings.cost_per_hour_vnd if cost in (None, "") else cost
    return float(hours), int(cost)


def _period(context: dict[str, Any]):
    from lienthong.report.figures import VN_TZ, resolve_period

    params = context["params"]
    when = context.get("logical_date") or context["dag_run"].run_after
    return resolve_period(
        params.get("date_from"), params.get("date_to"), when.astimezone(VN_TZ).date()
    )


@dag(
    dag_id="savings_report",
    schedule=CronTriggerTimetable(
        env_setting("LIENTHONG_REPORT_CRON", "0 6 1 * *"), timezone=TIMEZONE
    ),
    dagrun_timeout=timedelta(hours=1),
    params={
        "date_from": Param(
            None,
            type=["null", "string"],
            format="date",
            title="Từ ngày",
            description="Ngày đầu kỳ báo cáo (YYYY-MM-DD). Để trống: tháng trước.",
        ),
        "date_to": Param(
            None,
            type=["null", "string"],
            format="date",
            title="Đến ngày",
            description="Ngày cuối kỳ báo cáo, tính cả ngày này. Để trống: tháng trước.",
        ),
        "hours_per_dossier": Param(
            None,
            type=["null", "number"],
            minimum=0,
            title="Số giờ tiết kiệm mỗi hồ sơ",
            description=f"Theo cách tính của bài viết ({_HOURS} giờ). Để trống: lấy từ "
            "Variable lienthong_minutes_saved_per_dossier.",
        ),
        "cost_per_hour": Param(
            None,
            type=["null", "integer"],
            minimum=0,
            title="Chi phí một giờ công (VNĐ)",
            description=f"Khoảng {_COST} VNĐ theo bài viết. Để trống: lấy từ Variable "
            "lienthong_cost_per_hour_vnd.",
        ),
    },
    doc_md=DOC,
    **link_dag(retries=2, max_active_runs=2, tags=("report",)),
)
def savings_report():
    @task
    def compute_savings_report() -> dict[str, Any]:
        from lienthong.orchestration.airflow_resources import store_engine
        from lienthong.report.figures import headline

        ctx = get_current_context()
        period = _period(ctx)
        hours, cost = _settings(ctx["params"])
        return headline(store_engine(), period.date_from, period.date_to, hours, cost)

    @task
    def export_savings_report(summary: dict[str, Any]) -> dict[str, Any]:
        from lienthong.orchestration.airflow_resources import routing_with_decisions, store_engine
        from lienthong.report.export import export_report
        from lienthong.report.figures import build_report

        home = os.environ.get("AIRFLOW_HOME", os.path.expanduser("~/airflow"))
        directory = Variable.get("lienthong_reports_dir", default=os.path.join(home, "reports"))
        report = build_report(
            store_engine(),
            summary["date_from"],
            summary["date_to"],
            summary["hours_per_dossier"],
            summary["cost_per_hour"],
            units=routing_with_decisions().registry,  # also by today's units, where they changed
        )
        return export_report(report, directory)

    export_savings_report(compute_savings_report())


savings_report()
