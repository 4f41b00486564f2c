"""Simulated clock shared by both stand-ins.

The stand-ins model an office where things happen over hours and days; tests and
demos need that time to pass on demand (``/_admin/advance``) or faster than real
time (``speed``). The clock is persisted so a restart resumes where it stopped.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from lienthong_standins.behaviour import Behaviour

VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
BOGUS_DATE = datetime(2100, 1, 1, tzinfo=VN_TZ)  # behaviour ``bogus_date``: a broken server clock


@dataclass
class _Anchor:
    sim: datetime
    real: float
    speed: float


class SimClock:
    """Simulated wall clock: ``sim = anchor.sim + (real - anchor.real) * speed``."""

    def __init__(self, start: datetime, speed: float = 0.0, state_file: Path | None = None):
        self._lock = threading.Lock()
        self._state_file = state_file
        loaded = self._load() if state_file else None
        if loaded is not None:
            self._anchor = _Anchor(sim=loaded, real=time.monotonic(), speed=speed)
        else:
            self._anchor = _Anchor(sim=start.astimezone(VN_TZ), real=time.monotonic(), speed=speed)
        self._save()

    def now(self) -> datetime:
        with self._lock:
            a = self._anchor
            return a.sim + timedelta(seconds=(time.monotonic() - a.real) * a.speed)

    @property
    def speed(self) -> float:
        return self._anchor.speed

    def advance(self, seconds: float) -> datetime:
        """Move simulated time forward; never backwards (the office cannot undo work)."""
        if seconds < 0:
            raise ValueError("the simulated clock only moves forward")
        current = self.now()
        with self._lock:
            self._anchor = _Anchor(
                sim=current + timedelta(seconds=seconds),
                real=time.monotonic(),
                speed=self._anchor.speed,
            )
        self._save()
        return self.now()

    def set_speed(self, speed: float) -> None:
        current = self.now()
        with self._lock:
            self._anchor = _Anchor(sim=current, real=time.monotonic(), speed=speed)
        self._save()

    def persist(self) -> None:
        self._save()

    def _load(self) -> datetime | None:
        assert self._state_file is not None
        if not self._state_file.exists():
            return None
        data = json.loads(self._state_file.read_text())
        return datetime.fromisoformat(data["sim"]).astimezone(VN_TZ)

    def _save(self) -> None:
        if self._state_file is None:
            return
        tmp = self._state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps({"sim": self.now().isoformat(), "speed": self._anchor.speed}))
        tmp.replace(self._state_file)


class SimDateMiddleware:
    """Answer with the simulated time in the HTTP ``Date`` header, as a real server tells its clock.

    Clients that need "the system's now" (reconciliation's due-date checks) read it from there,
    which in production is simply the present. With ``behaviour.bogus_date`` on, the header says
    :data:`BOGUS_DATE` instead: a server whose clock is broken.
    """

    def __init__(self, app, clock: SimClock, behaviour: Behaviour | None = None):
        self.app, self.clock, self.behaviour = app, clock, behaviour

    def _date(self) -> datetime:
        return BOGUS_DATE if self.behaviour and self.behaviour.bogus_date else self.clock.now()

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_date(message):
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"date"]
                headers.append((b"date", format_datetime(self._date(), usegmt=False).encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_date)
