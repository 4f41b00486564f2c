"""Alerts to operators: a notifier, used by reconciliation and as the DAGs' failure callback.

It logs a warning and, when the connection ``lienthong_alerts`` exists (an HTTP webhook:
chat, e-mail gateway, ticketing), POSTs the Vietnamese message to it. Whatever stops the
message reaching the channel is logged as an error and raised: an alert must not vanish.

A webhook's URL is its credential (chat webhooks carry their token in the path or the query), so
logs and the raised error name only its scheme and host (:func:`masked_url`).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from airflow.sdk import BaseHook, BaseNotifier
from airflow.sdk.exceptions import AirflowNotFoundException

from lienthong.clients.connection_fields import base_url
from lienthong.clients.errors import KINDS, RemoteError
from lienthong.clients.http import post, raise_for_status
from lienthong.domain.masking import get_logger, mask_text

log = get_logger(__name__)
ALERTS_CONN = "lienthong_alerts"


class LienthongAlertNotifier(BaseNotifier):
    """Sends ``title`` + ``message`` to the operators' channel."""

    template_fields = ("title", "message")

    def __init__(
        self,
        title: str,
        message: str = "",
        conn_id: str = ALERTS_CONN,
        *,
        recipients: tuple[str, ...] = (),
        key: str | None = None,
    ):
        super().__init__()
        self.title, self.message, self.conn_id = title, message, conn_id
        self.recipients, self.key = recipients, key

    def notify(self, context: dict[str, Any]) -> None:
        """POST the alert. ``recipients`` (accounts the channel routes to, besides the operators)
        and ``key`` (stable per alert: a channel drops a repeat by it) go along when given."""
        body = {
            "title": self.title,
            "message": mask_text(self.message),
            "dag_id": getattr(context.get("dag"), "dag_id", None),
            "run_id": context.get("run_id"),
            **({"recipients": list(self.recipients)} if self.recipients else {}),
            **({"key": self.key} if self.key else {}),
        }
        log.warning("ALERT %s: %s", self.title, body["message"])
        conn = self._channel()
        if conn is None:
            return
        url = base_url(conn, (conn.extra_dejson or {}).get("path", ""))
        try:
            resp = post(
                url,
                data=json.dumps(body, ensure_ascii=False).encode(),
                timeout=10,
                headers={"Content-Type": "application/json; charset=utf-8"},
            )
            raise_for_status(resp)
        except RemoteError as exc:  # unreachable, refused, misconfigured: all undelivered
            raise _undelivered(self.title, self.conn_id, url, exc) from None

    def _channel(self) -> Any | None:
        """The webhook Connection; None (said in the log) when none is configured."""
        try:
            return BaseHook.get_connection(self.conn_id)
        except AirflowNotFoundException:
            log.warning(
                "alert %r only logged: no connection %s configured for the operators' channel",
                self.title,
                self.conn_id,
            )
            return None
        except Exception as exc:  # noqa: BLE001 - secrets backend or metadata DB: any cause is logged
            log.error(
                "alert %r NOT delivered: connection %s could not be read: %s",
                self.title,
                self.conn_id,
                exc,
            )
            raise


def masked_url(url: str) -> str:
    """``scheme://host[:port]/…``: where a webhook is, without what opens it (user info, path,
    query and fragment dropped)."""
    try:
        parts = urlsplit(url)
        port = f":{parts.port}" if parts.port else ""
        host = parts.hostname or "?"
    except ValueError:  # a port that is no number: say nothing of it
        return "(unreadable URL)"
    return f"{parts.scheme or '?'}://{host}{port}/…"


def _undelivered(title: str, conn_id: str, url: str, exc: RemoteError) -> RemoteError:
    """The failure logged and raised again as its kind, naming the webhook only by
    :func:`masked_url`: the original's message and cause hold the whole URL (``from None``)."""
    where = masked_url(url)
    status = f"HTTP {exc.status}" if exc.status else type(exc).__name__
    log.error("alert %r NOT delivered to %s (%s): %s", title, conn_id, where, status)
    kind = next((k for k in KINDS if isinstance(exc, k)), RemoteError)
    return kind(f"alert not delivered to {where}: {status}", url=where, status=exc.status)
