"""Child processes of the dev stacks: start in their own session, stop politely, kill whole trees.

A task process runs in a process group of its own (the Task SDK supervisor sets it), so killing
a component's group does not reach it: trees are frozen (SIGSTOP), collected, then signalled.
"""

from __future__ import annotations

import http.client
import os
import signal
import subprocess
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import psutil


def descendants(pid: int) -> list[psutil.Process]:
    """``pid`` and everything under it, frozen first so nothing forks while we look."""
    try:
        root = psutil.Process(pid)
    except psutil.NoSuchProcess:
        return []
    seen: dict[int, psutil.Process] = {}
    for _ in range(5):
        found = [root]
        try:
            found += root.children(recursive=True)
        except psutil.NoSuchProcess:
            pass
        new = [p for p in found if p.pid not in seen]
        if not new:
            break
        for p in new:
            seen[p.pid] = p
            try:
                p.send_signal(signal.SIGSTOP)
            except psutil.NoSuchProcess:
                pass
    return list(seen.values())


def kill_tree(pid: int, sig: int = signal.SIGKILL) -> list[int]:
    """Send ``sig`` to ``pid`` and all its descendants at once; return the pids signalled."""
    procs = descendants(pid)
    for p in procs:
        try:
            p.send_signal(sig)
            if sig != signal.SIGKILL:
                p.send_signal(signal.SIGCONT)
        except psutil.NoSuchProcess:
            pass
    return [p.pid for p in procs]


@dataclass
class Child:
    """One started component: its command, environment and log file."""

    name: str
    argv: list[str]
    env: dict[str, str]
    log_path: Path
    proc: subprocess.Popen | None = None
    _log: object | None = field(default=None, repr=False)

    def start(self) -> Child:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "a")
        self.proc = subprocess.Popen(
            self.argv,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> list[int]:
        """SIGKILL the component and every process under it, as when its host is lost."""
        assert self.proc is not None
        pids = kill_tree(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)
        self._close()
        return pids

    def stop(self, timeout: float = 20.0) -> None:
        """SIGTERM, wait, then SIGKILL whatever of the tree is left."""
        if self.proc is None:
            return
        tree = []
        if self.alive():
            try:
                tree = psutil.Process(self.proc.pid).children(recursive=True)
            except psutil.NoSuchProcess:
                pass
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                kill_tree(self.proc.pid)
                self.proc.wait(timeout=10)
        for p in tree:
            try:
                p.kill()
            except psutil.NoSuchProcess:
                pass
        self._close()

    def _close(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None


def wait_http(url: str, timeout: float, alive=lambda: True) -> bool:
    """Until ``url`` answers 2xx (or ``alive()`` turns false, or time runs out)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and alive():
        try:
            with urllib.request.urlopen(url, timeout=2):
                return True
        except (OSError, http.client.HTTPException):  # not up yet (refused, reset, half an answer)
            time.sleep(1)
    return False
