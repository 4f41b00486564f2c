"""national_sync: every dossier's record and processing steps on to the national portal (DVCQG)."""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import CronDataIntervalTimetable, dag, get_current_context, task

from lienthong.orchestration.dag_settings import TIMEZONE, env_setting, link_dag, overlap_param

DOC = """
### Đồng bộ hồ sơ lên Cổng Dịch vụ công quốc gia (national sync)

Every 5 minutes, reads the dossiers changed on the one-stop portal since its own cursor (all of
them, not only decision dossiers) and sends the national portal each dossier's record
(`DongBoHoSoMC`) when first seen and whenever it changes, and each new processing step
(`CapNhatTienDoHoSoMC`): **in order per dossier, exactly once**, batched.

* Ledger first: what to send is queued in the store (`national_sync_item`) with the cursor, then
  sent (a dossier the portal serves broken is not sent as served: it is read again each run until
  it reads); a run that dies after a send and before recording the answer is settled on the next run
  (records are re-sent as updates; steps are looked up on the national side, never sent twice).
* Session login with refresh on expiry; transient failures back off and retry.
* What the national side refuses (missing field, status going backwards, `NguoiXuLy` over 50
  characters, unknown dossier…) is quarantined with its reason; replay it from the dashboard or
  `quarantine_replay` once the local data is fixed.
* Connection `lienthong_dvcqg`; which agencies sync and when a sync is late: Variable
  `lienthong_national_sync` (`{"agencies": [...], "late_after_minutes": 30}`; not set: all, 30).
"""


@dag(
    dag_id="national_sync",
    schedule=CronDataIntervalTimetable(
        env_setting("LIENTHONG_NATIONAL_SYNC_CRON", "*/5 * * * *"), timezone=TIMEZONE
    ),
    dagrun_timeout=timedelta(minutes=30),
    params={"overlap_minutes": overlap_param()},
    doc_md=DOC,
    **link_dag(tags=("portal", "dvcqg")),
)
def national_sync():
    @task(pool="lienthong_dvcqg")
    def sync_dossiers_to_national() -> dict[str, int]:
        from lienthong.orchestration.tasks import sync_national

        ctx = get_current_context()
        return sync_national(ctx, ctx["params"]["overlap_minutes"])

    sync_dossiers_to_national()


national_sync()
