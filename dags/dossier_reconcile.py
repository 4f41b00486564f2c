"""dossier_reconcile: find what the link missed or left waiting; repair what is safe."""

from __future__ import annotations

from airflow.sdk import Param, dag, get_current_context, task
from airflow.timetables.trigger import CronTriggerTimetable

from lienthong.orchestration.dag_settings import TIMEZONE, env_setting, link_dag

DOC = """
### Đối soát liên thông (reconciliation)

Hằng ngày và khi cần. Đối chiếu văn bản đã ban hành trên iOffice với hồ sơ trên Một cửa:

* **đã giải quyết trên iOffice nhưng chưa kết thúc trên Một cửa** - tự động gắn kết quả và kết thúc;
* **đã ban hành nhưng chưa gắn kết quả** - tự động gắn kết quả (không gắn hai lần);
* **văn bản không qua Một cửa** (thủ tục bị bỏ qua Một cửa) - báo cáo;
* **hồ sơ chờ ký sắp đến hạn / quá hạn** (`NgayHenTra`) và **dừng quá lâu ở một bước** - báo cáo và
  cảnh báo (notifier `lienthong_alerts`).

Every finding is stored in `reconcile_finding` and shown on the dashboard; quarantined results are
reported, not repaired (an operator replays them).
"""


@dag(
    dag_id="dossier_reconcile",
    schedule=CronTriggerTimetable(
        env_setting("LIENTHONG_RECONCILE_CRON", "30 6 * * *"), timezone=TIMEZONE
    ),
    params={
        "days": Param(
            7,
            type="integer",
            minimum=1,
            maximum=366,
            title="Số ngày đối soát",
            description="Đối soát văn bản ban hành trong bấy nhiêu ngày gần nhất.",
        ),
        "date_from": Param(
            "",
            type="string",
            title="Từ ngày (không bắt buộc)",
            description="YYYY-MM-DD; để trống thì tính theo số ngày.",
        ),
        "date_to": Param(
            "", type="string", title="Đến ngày (không bắt buộc)", description="YYYY-MM-DD."
        ),
        "repair": Param(
            True,
            type="boolean",
            title="Tự động xử lý",
            description="Gắn kết quả còn thiếu khi an toàn; tắt để chỉ báo cáo.",
        ),
    },
    doc_md=DOC,
    **link_dag(retries=2, tags=("operators",)),
)
def dossier_reconcile():
    @task(pool="lienthong_ioffice")
    def reconcile_links() -> dict:
        from lienthong.orchestration.tasks import reconcile_links as run

        return run(get_current_context())

    @task
    def alert_operators(counts: dict) -> None:
        from lienthong.orchestration.tasks import alert_on_findings

        alert_on_findings(get_current_context(), counts)

    alert_operators(reconcile_links())


dossier_reconcile()
