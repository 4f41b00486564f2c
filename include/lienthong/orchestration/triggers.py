"""Deferrable waiting for iOffice result packages, without holding a worker slot.

The trigger runs in the triggerer's event loop: async I/O only (the iOffice adapter's async
client), the connection read with the async lookup, JSON-safe kwargs. It is loud: every failed
poll is logged, a refused credential ends the wait at once, and so do ``max_failures`` failed
polls in a row - the sensor then fails and the DAG's alert fires, instead of an outage passing
for a quiet day.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from airflow.triggers.base import BaseEventTrigger, BaseTrigger, TriggerEvent

from lienthong.clients.errors import CredentialsRefused, RemoteError
from lienthong.orchestration.hooks import IOfficeHook


def _serialized(trigger: BaseTrigger, *names: str) -> tuple[str, dict[str, Any]]:
    """What the triggerer rebuilds a trigger from: its class path and its keyword arguments, which
    every trigger here keeps as attributes of the same names."""
    cls = type(trigger)
    return f"{cls.__module__}.{cls.__qualname__}", {name: getattr(trigger, name) for name in names}


def _log_failed_poll(emit: Callable[..., None], failures: int, exc: Exception) -> None:
    """One line per failed poll, at the caller's level: how many in a row and the error's kind, its
    text cut short (an answer body can be long)."""
    emit("iOffice poll failed (%d in a row): %s: %s", failures, type(exc).__name__, str(exc)[:200])


class PendingPackagesTrigger(BaseTrigger):
    """Fires ``found`` when iOffice lists a pending package, ``timeout`` when the window passes
    quietly, ``error`` when iOffice refuses the credential or cannot be polled."""

    def __init__(
        self,
        conn_id: str,
        poll_interval: float = 15.0,
        timeout: float = 600.0,
        max_failures: int = 5,
    ):
        super().__init__()
        self.conn_id = conn_id
        self.poll_interval = poll_interval
        self.timeout = timeout
        self.max_failures = max_failures

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return _serialized(self, "conn_id", "poll_interval", "timeout", "max_failures")

    async def run(self) -> AsyncIterator[TriggerEvent]:
        deadline = time.monotonic() + self.timeout
        failures = 0
        async with await IOfficeHook.async_client(self.conn_id) as ioffice:
            while True:
                try:
                    if await ioffice.has_pending():
                        yield TriggerEvent({"status": "found"})
                        return
                    failures = 0
                except RemoteError as exc:  # every kind is a failed poll; a refused one ends it
                    failures += 1
                    _log_failed_poll(self.log.warning, failures, exc)
                    if isinstance(exc, CredentialsRefused):
                        yield TriggerEvent(
                            {
                                "status": "error",
                                "reason": "auth",
                                "message": (
                                    f"iOffice refused the credential of {self.conn_id}: {exc}"
                                ),
                            }
                        )
                        return
                    if failures >= self.max_failures:
                        yield TriggerEvent(
                            {
                                "status": "error",
                                "reason": "unreachable",
                                "message": (
                                    f"iOffice could not be polled {failures} times in a row; "
                                    f"last error {type(exc).__name__}: {str(exc)[:200]}"
                                ),
                            }
                        )
                        return
                if time.monotonic() >= deadline:
                    yield TriggerEvent({"status": "timeout"})
                    return
                await asyncio.sleep(self.poll_interval)


class PackagesOfferedTrigger(BaseEventTrigger):
    """For an ``AssetWatcher``: an asset event each time iOffice offers packages not reported yet.

    It watches a state (what is pending), not a stream, so nothing is lost when the triggerer
    restarts: the new instance reports what is still pending once more, and the run it starts finds
    the work done or does it. A package leaves the reported set when it leaves the pending list.
    Polling failures are logged as errors and retried with backoff (an event trigger has no task to
    fail); the DAG's own alert covers runs that fail.
    """

    def __init__(self, conn_id: str, poll_interval: float = 10.0, max_backoff: float = 300.0):
        super().__init__()
        self.conn_id = conn_id
        self.poll_interval = poll_interval
        self.max_backoff = max_backoff

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return _serialized(self, "conn_id", "poll_interval", "max_backoff")

    async def run(self) -> AsyncIterator[TriggerEvent]:
        reported: set[str] = set()
        failures = 0
        while True:
            try:
                async with await IOfficeHook.async_client(self.conn_id) as ioffice:
                    while True:
                        pending = set(await ioffice.pending_ids())
                        failures = 0
                        new = pending - reported
                        reported = (reported & pending) | new
                        if new:
                            yield TriggerEvent(
                                {"new_packages": len(new), "pending_packages": len(pending)}
                            )
                        await asyncio.sleep(self.poll_interval)
            except RemoteError as exc:  # logged, polled again: an event trigger has no task to fail
                failures += 1
                _log_failed_poll(self.log.error, failures, exc)
                await asyncio.sleep(
                    min(self.poll_interval * 2 ** min(failures, 10), self.max_backoff)
                )
