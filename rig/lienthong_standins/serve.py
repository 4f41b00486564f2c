"""Run FastAPI apps as real HTTP servers (uvicorn) on loopback, in a background thread.

Used by the stand-ins' command and by tests that need the stand-ins in-process but
still over real sockets.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterable

import uvicorn


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerThread:
    """Serve several ``(app, port)`` pairs on 127.0.0.1 in one event loop on one thread."""

    def __init__(self, apps: Iterable[tuple[object, int]], log_level: str = "warning"):
        self._configs = [
            uvicorn.Config(app, host="127.0.0.1", port=port, log_level=log_level, access_log=False, date_header=False,
                           timeout_graceful_shutdown=2)
            for app, port in apps
        ]
        self._servers = [uvicorn.Server(c) for c in self._configs]
        for s in self._servers:
            s.install_signal_handlers = lambda: None  # type: ignore[method-assign]
        self._thread = threading.Thread(target=self._run, name="standins", daemon=True)

    def _run(self) -> None:
        asyncio.run(self._serve_all())

    async def _serve_all(self) -> None:
        await asyncio.gather(*(s.serve() for s in self._servers))

    def start(self, timeout: float = 15.0) -> "ServerThread":
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not all(s.started for s in self._servers):
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("stand-in servers did not start")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        for s in self._servers:
            s.should_exit = True
        self._thread.join(timeout=10)

    def __enter__(self) -> "ServerThread":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
