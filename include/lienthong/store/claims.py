"""Claims: one owner at a time for each shared effect, decided by the store.

Several flows act on the same dossier, package or outbox at once (two ``signed_results`` runs from
two schedulers, a reconcile repair, an operator's replay, a heal, two national syncs). A remote
system cannot be trusted to refuse the second of two identical writes, so the link never lets two
of its own processes make them:

- :func:`acquire` takes a lease on a key atomically (one ``INSERT … ON CONFLICT DO UPDATE … WHERE
  expired RETURNING`` on PostgreSQL and SQLite alike); it expires, so a SIGKILLed worker's claim is
  taken over once its ``ttl`` has passed, and never before.
- :func:`xact_lock` serialises short read-then-write transactions (PostgreSQL: a transaction
advisory
  lock; SQLite: the database write lock taken first), released by the commit or rollback.

Lease times are the workers' clocks (UTC): keep them in sync (NTP) and ``ttl`` well above any skew.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, delete, or_, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from lienthong.store.schema import Claim

DEFAULT_TTL = timedelta(seconds=60)  # a dead holder blocks its effect this long at most


class LeaseLost(RuntimeError):
    """The lease expired and another owner took it: stop before acting on the effect again."""


def new_owner() -> str:
    """A name for one holder: host, process, thread and a random part (unique per acquisition)."""
    thread = threading.get_ident() % 100000
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{thread}:{uuid.uuid4().hex[:12]}"


def _now() -> datetime:
    return datetime.now(UTC)


def _insert(engine: Engine):  # noqa: ANN202 - the dialect's insert construct
    """The dialect's ``insert`` (both have ``on_conflict_do_update``, core's has not)."""
    return pg_insert if engine.dialect.name == "postgresql" else sqlite_insert


def acquire(engine: Engine, key: str, owner: str, ttl: timedelta = DEFAULT_TTL) -> bool:
    """Take ``key`` for ``owner`` unless another owner's lease on it is alive. Re-entrant for the
    owner."""
    return key in acquire_many(engine, [key], owner, ttl)


def acquire_many(
    engine: Engine, keys: list[str], owner: str, ttl: timedelta = DEFAULT_TTL, chunk: int = 500
) -> set[str]:
    """Those of ``keys`` taken for ``owner`` (one statement per ``chunk``): a key is taken when it
    is
    free, its lease has run out, or ``owner`` holds it already."""
    taken: set[str] = set()
    keys = sorted(
        set(keys)
    )  # one lock order for every caller: two batches never deadlock on PostgreSQL
    for start in range(0, len(keys), chunk):
        now = _now()
        stmt = _insert(engine)(Claim).values(
            [
                {"key": key, "owner": owner, "expires_at": now + ttl, "acquired_at": now}
                for key in keys[start : start + chunk]
            ]
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=[Claim.key],
            set_={
                "owner": stmt.excluded.owner,
                "expires_at": stmt.excluded.expires_at,
                "acquired_at": stmt.excluded.acquired_at,
            },
            where=or_(Claim.expires_at < now, Claim.owner == owner),
        ).returning(Claim.key, Claim.owner)
        with engine.begin() as conn:
            taken.update(key for key, holder in conn.execute(stmt) if holder == owner)
    return taken


def renew(engine: Engine, owner: str, held: int, ttl: timedelta = DEFAULT_TTL) -> None:
    """Extend every claim ``owner`` holds; :class:`LeaseLost` unless all ``held`` of them are still
    ours."""
    with engine.begin() as conn:
        done = conn.execute(
            update(Claim).where(Claim.owner == owner).values(expires_at=_now() + ttl)
        ).rowcount
    if done != held:
        raise LeaseLost(f"{held - done} of {held} claims are no longer held by this worker")


def release(engine: Engine, owner: str) -> None:
    """Give back every claim ``owner`` holds."""
    with engine.begin() as conn:
        conn.execute(delete(Claim).where(Claim.owner == owner))


@dataclass
class Lease:
    """Claims held by one owner, kept alive by one heartbeat while the holder lives (renewed every
    ``ttl / 4``): a killed holder's claims expire ``ttl`` after its last beat."""

    engine: Engine
    keys: frozenset[str] = frozenset()
    ttl: timedelta = DEFAULT_TTL
    owner: str = field(default_factory=new_owner)
    lost: bool = False
    _stop: threading.Event = field(default_factory=threading.Event, repr=False)

    def renew(self) -> None:
        try:
            renew(self.engine, self.owner, len(self.keys), self.ttl)
        except LeaseLost:
            self.lost = True
            raise

    def check(self) -> None:
        """:class:`LeaseLost` if another owner may have taken a claim (this holder stalled past its
        ttl)."""
        if self.lost:
            raise LeaseLost(
                f"claims of {self.owner} were lost (the holder stalled longer than {self.ttl})"
            )

    def _beat(self) -> None:
        while not self._stop.wait(self.ttl.total_seconds() / 4):
            try:
                self.renew()
            except LeaseLost:
                return
            except Exception:  # noqa: BLE001 - the heartbeat must outlive a store glitch
                # A dead heartbeat would let the claims expire under a live holder; the next beat
                # tries again, well inside the ttl.
                continue


@contextmanager
def _kept(lease: Lease) -> Iterator[Lease]:
    """The lease's heartbeat while the block runs; every claim given back at the end."""
    beat = threading.Thread(target=lease._beat, name=f"claims:{lease.owner}"[:60], daemon=True)
    beat.start()
    try:
        yield lease
    finally:
        lease._stop.set()
        beat.join()
        release(lease.engine, lease.owner)


@contextmanager
def held(
    engine: Engine, key: str, ttl: timedelta = DEFAULT_TTL, wait: float = 0.0, poll: float = 0.2
) -> Iterator[Lease | None]:
    """The lease on ``key`` while the block runs, or ``None`` when another owner holds it (after
    waiting up to ``wait`` seconds). Kept alive meanwhile; released at the end, whatever happens."""
    lease = Lease(engine, frozenset({key}), ttl)
    deadline = time.monotonic() + wait
    while not acquire(engine, key, lease.owner, ttl):
        if time.monotonic() >= deadline:
            yield None
            return
        time.sleep(poll)
    with _kept(lease):
        yield lease


@contextmanager
def held_many(engine: Engine, keys: list[str], ttl: timedelta = DEFAULT_TTL) -> Iterator[Lease]:
    """Those of ``keys`` no other owner holds, under one owner and one heartbeat (a batch's
    dossiers):
    ``lease.keys`` says which were taken; the rest are another flow's for now."""
    lease = Lease(engine, ttl=ttl)
    try:
        lease.keys = frozenset(acquire_many(engine, keys, lease.owner, ttl))
    except BaseException:
        release(engine, lease.owner)  # those taken before the failure
        raise
    with _kept(lease):
        yield lease


def xact_lock(session: Session, name: str) -> None:
    """Serialise the rest of the caller's transaction with every other holder of ``name``.

    Call it before the transaction's first read: on SQLite the reads that follow then see every
    earlier commit and no one else writes until this transaction ends."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": zlib.crc32(name.encode())})
    # a write statement takes SQLite's database write lock at once, even when it changes no row
    else:
        session.execute(update(Claim).where(Claim.key == f"xact:{name}").values(owner=Claim.owner))
