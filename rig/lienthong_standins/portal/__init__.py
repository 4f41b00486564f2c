"""The one-stop portal stand-in (VNPT iGate style)."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from lienthong_standins.clock import SimClock
from lienthong_standins.faults import FaultInjector
from lienthong_standins.portal.app import create_app
from lienthong_standins.portal.store import PortalStore

__all__ = ["PortalStore", "build"]


def build(
    data_dir: Path,
    clock: SimClock,
    injector: FaultInjector,
    seed: int,
    clients: dict[str, str],
    token_ttl: int = 300,
) -> tuple[FastAPI, PortalStore]:
    """The portal app and its store (``data_dir/portal.sqlite``). ``seed`` is kept for symmetry with
    iOffice: the portal's randomness lives in the scenario and in the fault rules."""
    data_dir.mkdir(parents=True, exist_ok=True)
    store = PortalStore(data_dir / "portal.sqlite", clock)
    return create_app(store, clock, injector, clients, data_dir, token_ttl), store
