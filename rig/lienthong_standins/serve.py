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


def _listen(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted connections inherit it: without it a response's headers and body, written apart,
    # wait on Nagle and the client's delayed ACK, ~40 ms a call (the plain loop of `make bench`
    # ran at 26/s instead of 800/s, and every test talking to the stand-ins paid it).
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind(("127.0.0.1", port))
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    return sock


class ServerThread:
    """Serve several ``(app, port)`` pairs on 127.0.0.1 in one event loop on one thread.

    The listening sockets are bound here, before the thread starts: port 0 takes a free port with
    no window in which another process could take it (``ports`` tells which), and a port already
    in use fails at once with the OS's own error."""

    def __init__(self, apps: Iterable[tuple[object, int]], log_level: str = "warning"):
        pairs = list(apps)
        self._sockets = [_listen(port) for _, port in pairs]
        self.ports = [sock.getsockname()[1] for sock in self._sockets]
        self._configs = [
            uvicorn.Config(
                app,
                host="127.0.0.1",
                port=port,
                log_level=log_level,
                access_log=False,
                date_header=False,
                timeout_graceful_shutdown=2,
            )
            for (app, _), port in zip(pairs, self.ports, strict=True)
        ]
        self._servers = [uvicorn.Server(c) for c in self._configs]
        for s in self._servers:
            s.install_signal_handlers = lambda: None  # type: ignore[method-assign]
        self._thread = threading.Thread(target=self._run, name="standins", daemon=True)
        self._error: BaseException | None = None

    def _run(self) -> None:
        try:
            asyncio.run(self._serve_all())
        except BaseException as exc:  # noqa: BLE001 - reported by start()
            self._error = exc
            raise

    async def _serve_all(self) -> None:
        await asyncio.gather(
            *(s.serve(sockets=[sock]) for s, sock in zip(self._servers, self._sockets, strict=True))
        )

    def start(self, timeout: float = 60.0) -> ServerThread:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not all(s.started for s in self._servers):
            if not self._thread.is_alive():
                raise RuntimeError(f"stand-in servers did not start: {self._error!r}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"stand-in servers did not start within {timeout:.0f} s")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        for s in self._servers:
            s.should_exit = True
        self._thread.join(timeout=10)
        for sock in self._sockets:
            sock.close()

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
