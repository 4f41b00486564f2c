"""The national stand-in's state: dossier records and their steps in one SQLite file (WAL), and the
login sessions in memory.

A record is kept whole, as sent (JSON), next to its status and its simulated-clock stamps; steps
are appended with an autoincrement id, so their order is the order they arrived in. Sessions live
in memory: a restart ends them, and a client simply logs in again.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Column,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    delete,
    event,
    func,
    insert,
    select,
    update,
)

from lienthong_standins.clock import VN_TZ, SimClock
from lienthong_standins.national import rules
from lienthong_standins.national.rules import Outcome

metadata = MetaData()

records = Table(
    "records",
    metadata,
    Column("code", String(100), primary_key=True),  # MaHoSo
    Column("status", Integer, nullable=False),  # TrangThaiHoSo
    Column("record", Text, nullable=False),  # the record as sent (JSON)
    Column("created_ms", Integer, nullable=False),  # simulated clock
    Column(
        "updated_ms", Integer, nullable=False
    ),  # simulated clock: last write of the record or a step
)

steps = Table(
    "steps",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),  # arrival order
    Column("code", String(100), nullable=False),
    Column("step", Text, nullable=False),  # the step as sent (JSON)
    Column("received_ms", Integer, nullable=False),
    Index("ix_steps_code", "code", "id"),
)


def fmt_national(ms: int) -> str:
    """Simulated-clock ms as ``yyyyMMddHHmmss`` (Asia/Ho_Chi_Minh)."""
    return f"{datetime.fromtimestamp(ms / 1000, VN_TZ):%Y%m%d%H%M%S}"


class Sessions:
    """Opaque login sessions, each valid ``ttl`` real seconds; counts the ones that ended early or
    expired."""

    def __init__(self, ttl: float):
        self.ttl = ttl
        self._lock = threading.Lock()
        self._expires: dict[str, float] = {}
        self.expired = 0

    def issue(self) -> str:
        token = secrets.token_urlsafe(32)
        now = time.monotonic()
        with self._lock:
            self._expires = {t: e for t, e in self._expires.items() if e > now - 3600}
            self._expires[token] = now + self.ttl
        return token

    def valid(self, token: Any) -> bool:
        """Whether ``token`` names a live session; an expired one is dropped (and counted) here."""
        if not isinstance(token, str) or not token:
            return False
        with self._lock:
            expires = self._expires.get(token)
            if expires is None:
                return False
            if expires > time.monotonic():
                return True
            del self._expires[token]
            self.expired += 1
            return False

    def end(self, token: str) -> None:
        """End one session now (the ``expired_token`` fault)."""
        with self._lock:
            if self._expires.pop(token, None) is not None:
                self.expired += 1

    def end_all(self) -> int:
        """End every session now; how many there were."""
        with self._lock:
            n = len(self._expires)
            self._expires.clear()
            self.expired += n
        return n


class NationalStore:
    def __init__(self, path: Path, clock: SimClock, session_ttl: float = 600):
        self.path = path
        self.clock = clock
        self.sessions = Sessions(session_ttl)
        self.engine = create_engine(
            f"sqlite:///{path}", connect_args={"check_same_thread": False, "timeout": 30}
        )

        @event.listens_for(self.engine, "connect")
        def _pragmas(conn, _record):  # noqa: ANN001
            cur = conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        metadata.create_all(self.engine)
        self._lock = threading.RLock()

    def now_ms(self) -> int:
        return int(round(self.clock.now().timestamp() * 1000))

    # ------------------------------------------------------------------ writes
    def sync_record(self, record: dict[str, Any], updating: bool) -> Outcome:
        """Create (``updating`` false) or replace (true) a validated record, atomically."""
        code, status = record["MaHoSo"], int(record["TrangThaiHoSo"])
        doc = json.dumps(record, ensure_ascii=False)
        with self._lock, self.engine.begin() as c:
            old = c.execute(select(records.c.status).where(records.c.code == code)).scalar()
            now = self.now_ms()
            if not updating:
                if old is not None:
                    return Outcome(rules.ALREADY_EXISTS, rules.MSG_ALREADY_EXISTS.format(code=code))
                c.execute(
                    insert(records).values(
                        code=code, status=status, record=doc, created_ms=now, updated_ms=now
                    )
                )
                return Outcome(rules.OK, f"Đã tiếp nhận hồ sơ {code}")
            if old is None:
                return Outcome(rules.UNKNOWN_DOSSIER, rules.MSG_UNKNOWN_DOSSIER.format(code=code))
            if rules.status_backwards(old, status):
                return Outcome(
                    rules.STATUS_BACKWARDS, rules.MSG_STATUS_BACKWARDS.format(old=old, new=status)
                )
            c.execute(
                update(records)
                .where(records.c.code == code)
                .values(status=status, record=doc, updated_ms=now)
            )
            return Outcome(rules.OK, f"Đã cập nhật hồ sơ {code}")

    def add_step(self, step: dict[str, Any]) -> Outcome:
        """Append a validated step to its dossier (no deduplication: a step sent twice is kept
        twice)."""
        code = step["MaHoSo"]
        with self._lock, self.engine.begin() as c:
            if c.execute(select(records.c.code).where(records.c.code == code)).scalar() is None:
                return Outcome(rules.UNKNOWN_DOSSIER, rules.MSG_UNKNOWN_DOSSIER.format(code=code))
            now = self.now_ms()
            c.execute(
                insert(steps).values(
                    code=code, step=json.dumps(step, ensure_ascii=False), received_ms=now
                )
            )
            c.execute(update(records).where(records.c.code == code).values(updated_ms=now))
        return Outcome(rules.OK, f"Đã cập nhật tiến độ hồ sơ {code}")

    def forget(self, code: str) -> bool:
        """Drop a dossier and its steps (a national-side loss); whether it was there."""
        with self._lock, self.engine.begin() as c:
            c.execute(delete(steps).where(steps.c.code == code))
            return c.execute(delete(records).where(records.c.code == code)).rowcount > 0

    # ------------------------------------------------------------------ reads
    def lookup(self, codes: Iterable[str] | None = None) -> list[dict[str, Any]]:
        """Held records (all when ``codes`` is None; else those of ``codes``, in that order, once
        each) with their steps in arrival order, derived national state and stamps."""
        wanted = None if codes is None else list(dict.fromkeys(codes))
        with self.engine.connect() as c:
            q = select(records)
            sq = select(steps.c.code, steps.c.step).order_by(steps.c.id)
            if wanted is not None:
                q = q.where(records.c.code.in_(wanted))
                sq = sq.where(steps.c.code.in_(wanted))
            rows = {r.code: r for r in c.execute(q.order_by(records.c.created_ms, records.c.code))}
            by_code: dict[str, list[dict[str, Any]]] = {}
            for code, step in c.execute(sq):
                by_code.setdefault(code, []).append(json.loads(step))
        order = list(rows) if wanted is None else [code for code in wanted if code in rows]
        out = []
        for code in order:
            row = rows[code]
            record = json.loads(row.record)
            out.append(
                {
                    "MaHoSo": code,
                    "HoSo": record,
                    "TienDo": by_code.get(code, []),
                    "TrangThaiQuocGia": rules.national_state(record),
                    "TaoLuc": fmt_national(row.created_ms),
                    "CapNhatLuc": fmt_national(row.updated_ms),
                }
            )
        return out

    def counts(self) -> dict[str, int]:
        with self.engine.connect() as c:
            n_records = c.execute(select(func.count()).select_from(records)).scalar() or 0
            n_steps = c.execute(select(func.count()).select_from(steps)).scalar() or 0
        return {"records": n_records, "steps": n_steps}

    def close(self) -> None:
        self.engine.dispose()
