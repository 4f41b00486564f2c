"""The deferrable sensor that waits for signed and issued decisions."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from airflow.sdk import BaseSensorOperator
from airflow.sdk.exceptions import AirflowException, AirflowSkipException

from lienthong.orchestration.triggers import PendingPackagesTrigger


class PendingPackagesSensor(BaseSensorOperator):
    """Defers at once to :class:`PendingPackagesTrigger`.

    Nothing arrived in the window: the run is skipped (a quiet day is normal). iOffice refused
    or unreachable: the task fails, so retries and the DAG's failure alert follow.
    """

    template_fields = ("poll_interval", "wait_timeout", "max_failures")

    def __init__(
        self,
        *,
        conn_id: str = "lienthong_ioffice",
        poll_interval: float | str = 15.0,
        wait_timeout: float | str = 240.0,
        max_failures: int | str = 5,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        self.conn_id = conn_id
        self.poll_interval = poll_interval
        self.wait_timeout = wait_timeout
        self.max_failures = max_failures

    def execute(self, context: Any) -> None:
        poll, wait = float(self.poll_interval), float(self.wait_timeout)
        self.defer(
            trigger=PendingPackagesTrigger(self.conn_id, poll, wait, int(self.max_failures)),
            method_name="execute_complete",
            timeout=timedelta(seconds=wait + 60),
        )

    def execute_complete(self, context: Any, event: dict[str, Any] | None = None) -> str:
        status = (event or {}).get("status")
        if status == "found":
            return "found"
        if status == "timeout":
            raise AirflowSkipException("no result package arrived from iOffice in this window")
        raise AirflowException(
            f"waiting for iOffice failed ({(event or {}).get('reason', 'unknown')}): "
            f"{(event or {}).get('message')}"
        )
