"""personal_data_retention: the store keeps citizens' personal data only while a step needs it
(the record of processing: docs/personal-data.md)."""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import dag, get_current_context, task
from airflow.timetables.trigger import CronTriggerTimetable

from lienthong.orchestration.dag_settings import TIMEZONE, env_setting, link_dag

DOC = """
### Xoá dữ liệu không còn cần thiết (personal data retention, Decree 13/2023/NĐ-CP)

Daily, every quarantine record that is **resolved**, or **open for longer than the retention
period** (Variable `lienthong_personal_data_retention_days`, default 90), is reduced to the keys a
replay needs to read the item again from its source (dossier id and code, iOffice document id…).
The reason, its Vietnamese text and the technical detail stay for operators; the stored copy of
the dossier goes. (Applicants' names, identity numbers, phones, e-mails and addresses are never
stored in the first place; this removes the rest, and whatever older versions kept.)

A record resolved by a replay or a re-check is reduced at once; this DAG catches the others.

After the same period it also thins every other free text that may name a citizen: decision
subjects (`dossier_link.doc_subject`, `bypass_document`, reconciliation findings, `package_trace`
events) become `[đã xoá]`, kept error texts keep only their kind and status, and settled national
record bodies keep only their technical fields. Rows, counts and dates stay, so reports do not
change; the operators' audit log is never touched. The record of processing is
`docs/personal-data.md`.

Each run leaves a `personal_data_purged` event with its counts. Safe to run again at any time.
"""


@dag(
    dag_id="personal_data_retention",
    schedule=CronTriggerTimetable(
        env_setting("LIENTHONG_RETENTION_CRON", "15 2 * * *"), timezone=TIMEZONE
    ),
    dagrun_timeout=timedelta(minutes=30),
    doc_md=DOC,
    **link_dag(retries=2, tags=("operators",)),
)
def personal_data_retention():
    @task
    def purge_personal_data() -> dict[str, int]:
        from lienthong.orchestration.tasks import purge_personal_data as run

        return run(get_current_context())

    purge_personal_data()


personal_data_retention()
