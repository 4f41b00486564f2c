"""Alerts to operators: a notifier, used by reconciliation and as the DAGs' failure callback.

It logs a warning and, when the connection ``lienthong_alerts`` exists (an HTTP webhook:
chat, e-mail gateway, ticketing), POST the Vietnamese message to it.
"""

from __future__ import annotations

import json
from typing import Any

from airflow.sdk import BaseNotifier

from lienthong.domain.masking import get_logger, mask_text

log = get_logger(__name__)
ALERTS_CONN = "lienthong_alerts"


def _webhook_url(conn) -> str:
    port = f":{conn.port}" if conn.port else ""
    return f"{conn.schema or 'https'}://{conn.host}{port}{(conn.extra_dejson or {}).get('path', '')}"


class LienthongAlertNotifier(BaseNotifier):
    """Sends ``title`` + ``message`` to the operators' channel."""

    template_fields = ("title", "message")

    def __init__(self, title: str, message: str = "", conn_id: str = ALERTS_CONN):
        super().__init__()
        self.title, self.message, self.conn_id = title, message, conn_id

    def notify(self, context: dict[str, Any]) -> None:
        body = {"title": self.title, "message": mask_text(self.message),
                "dag_id": getattr(context.get("dag"), "dag_id", None), "run_id": context.get("run_id")}
        log.warning("ALERT %s: %s", self.title, body["message"])
        from airflow.sdk import BaseHook

        try:
            conn = BaseHook.get_connection(self.conn_id)
        except Exception:
            return  # no channel configured: the log and the dashboard carry the alert
        import requests

        requests.post(_webhook_url(conn), data=json.dumps(body, ensure_ascii=False).encode(),
                      headers={"Content-Type": "application/json; charset=utf-8"}, timeout=10).raise_for_status()
