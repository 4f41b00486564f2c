"""Deferrable waiting for iOffice result packages, without holding a worker slot.

The trigger runs in the triggerer's event loop: async I/O only (httpx), the
connection read with the async lookup, JSON-safe kwargs.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
from airflow.triggers.base import BaseTrigger, TriggerEvent


class PendingPackagesTrigger(BaseTrigger):
    """Fires when iOffice lists at least one unacknowledged package, or when ``timeout`` passes."""

    def __init__(self, conn_id: str, poll_interval: float = 15.0, timeout: float = 600.0):
        super().__init__()
        self.conn_id = conn_id
        self.poll_interval = poll_interval
        self.timeout = timeout

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (f"{type(self).__module__}.{type(self).__qualname__}",
                {"conn_id": self.conn_id, "poll_interval": self.poll_interval, "timeout": self.timeout})

    async def run(self) -> AsyncIterator[TriggerEvent]:
        from airflow.sdk import BaseHook

        conn = await BaseHook.aget_connection(self.conn_id)
        extra = conn.extra_dejson or {}
        port = f":{conn.port}" if conn.port else ""
        url = f"{conn.schema or 'https'}://{conn.host}{port}{extra.get('base_path', '')}/LayDanhSachGoiTinVanBan"
        headers = {"Authorization": f"{extra.get('auth_scheme', 'Bearer')} {conn.password}"}
        params = {"maDonViCha": extra.get("parent_unit", ""), "top": 1}
        deadline = time.monotonic() + self.timeout
        async with httpx.AsyncClient(timeout=float(extra.get("timeout", 10)), verify=extra.get("verify", True)) as client:
            while True:
                try:
                    resp = await client.get(url, params=params, headers=headers)
                    if resp.status_code == 200 and (resp.json().get("data") or []):
                        yield TriggerEvent({"status": "found"})
                        return
                    if resp.status_code in (401, 403):
                        yield TriggerEvent({"status": "error", "message": f"iOffice refused auth ({resp.status_code})"})
                        return
                except (httpx.HTTPError, ValueError):
                    pass  # transient: poll again
                if time.monotonic() >= deadline:
                    yield TriggerEvent({"status": "timeout"})
                    return
                await asyncio.sleep(self.poll_interval)
