"""Shared fixtures: a portal stand-in served over real HTTP on loopback, on a real SQLite file."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from lienthong_standins import portal
from lienthong_standins.clock import SimClock
from lienthong_standins.faults import FaultInjector
from lienthong_standins.portal.store import PortalStore
from lienthong_standins.scenarios import SCENARIOS, load
from lienthong_standins.serve import ServerThread

CLIENT_ID, CLIENT_SECRET = "test-client", "test-secret"
TOKEN_PATH = "/auth/realms/digo/protocol/openid-connect/token"


@dataclass
class PortalEnv:
    url: str
    store: PortalStore
    clock: SimClock
    injector: FaultInjector
    data_dir: Path

    def token(self) -> str:
        r = requests.post(
            self.url + TOKEN_PATH,
            data={"grant_type": "client_credentials"},
            auth=(CLIENT_ID, CLIENT_SECRET),
            timeout=10,
        )
        r.raise_for_status()
        return r.json()["access_token"]

    def session(self) -> requests.Session:
        s = requests.Session()
        s.headers["Authorization"] = f"Bearer {self.token()}"
        return s

    def advance(self, seconds: float) -> dict[str, Any]:
        r = requests.post(self.url + "/_admin/advance", json={"seconds": seconds}, timeout=30)
        r.raise_for_status()
        return r.json()

    def faults(self, *rules: dict[str, Any], seed: int = 1) -> None:
        requests.post(
            self.url + "/_admin/faults", json={"seed": seed, "rules": list(rules)}, timeout=10
        ).raise_for_status()


@pytest.fixture
def make_portal(tmp_path: Path) -> Iterator[Callable[..., PortalEnv]]:
    """Start a portal stand-in with the demo scenario loaded (clock frozen at 07:30)."""
    servers: list[ServerThread] = []

    def start(token_ttl: int = 300, scenario: str = "demo", seed: int = 7) -> PortalEnv:
        data_dir = tmp_path / f"portal-{len(servers)}"
        data_dir.mkdir()
        clock = SimClock(SCENARIOS[scenario].start, speed=0, state_file=data_dir / "clock.json")
        injector = FaultInjector()
        app, store = portal.build(
            data_dir, clock, injector, seed, {CLIENT_ID: CLIENT_SECRET}, token_ttl=token_ttl
        )
        load(scenario, store, data_dir, seed)
        servers.append(ServerThread([(app, 0)]).start())
        return PortalEnv(
            f"http://127.0.0.1:{servers[-1].ports[0]}", store, clock, injector, data_dir
        )

    yield start
    for s in servers:
        s.stop()


@pytest.fixture
def env(make_portal: Callable[..., PortalEnv]) -> PortalEnv:
    return make_portal()


@pytest.fixture
def day_env(make_portal: Callable[..., PortalEnv]) -> PortalEnv:
    """The demo portal at 17:30: every dossier of the day visible."""
    e = make_portal()
    e.advance(10 * 3600)
    return e
