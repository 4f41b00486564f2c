"""The national public-service portal's (DVCQG) dossier sync stand-in."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from lienthong_standins.clock import SimClock
from lienthong_standins.faults import FaultInjector
from lienthong_standins.national.app import create_app
from lienthong_standins.national.store import NationalStore

__all__ = ["NationalStore", "build"]


def build(
    data_dir: Path,
    clock: SimClock,
    injector: FaultInjector,
    credentials: dict[str, str],
    session_ttl: float = 600,
) -> tuple[FastAPI, NationalStore]:
    """The national app and its store (``data_dir/national.sqlite``); ``credentials`` maps user
    names to passwords; a session lives ``session_ttl`` real seconds."""
    data_dir.mkdir(parents=True, exist_ok=True)
    store = NationalStore(data_dir / "national.sqlite", clock, session_ttl)
    return create_app(store, clock, injector, credentials), store
