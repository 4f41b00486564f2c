"""The stand-ins (portal, iOffice, national) in-process as real HTTP servers on loopback, and
pipeline resources aimed at them: shared by the tests and the benchmarks."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from lienthong.clients.http import RetryPolicy
from lienthong.clients.ioffice import IOfficeClient, IOfficeSettings
from lienthong.clients.national import NationalClient, NationalSettings
from lienthong.clients.portal import PortalClient, PortalSettings
from lienthong.pipeline.resources import Resources
from lienthong.store.engine import get_engine
from lienthong_standins import ioffice as ioffice_standin
from lienthong_standins import national as national_standin
from lienthong_standins import portal as portal_standin
from lienthong_standins import scenarios
from lienthong_standins.clock import SimClock
from lienthong_standins.faults import FaultInjector
from lienthong_standins.ioffice.ca import CRL_PATH
from lienthong_standins.routing import routing_for
from lienthong_standins.serve import ServerThread

CLIENT_ID, CLIENT_SECRET, IOFFICE_TOKEN = "lienthong-test", "test-secret", "test-ioffice-token"
NATIONAL_USER, NATIONAL_PASSWORD = "lienthong-test", "test-dvcqg-password"
FAST_RETRY = RetryPolicy(attempts=8, backoff=0.05, backoff_max=0.3)


@dataclass
class Standins:
    portal_url: str
    ioffice_url: str
    clock: SimClock
    portal_store: Any
    ioffice_store: Any
    data_dir: Path
    national_url: str = ""  # http://127.0.0.1:<port>/api/dvcqg
    national_store: Any = None
    scenario: str = "demo"

    def advance(self, seconds: float) -> None:
        """Move the shared clock, then let both systems perform what fell due."""
        requests.post(
            f"{self.portal_url}/_admin/advance", json={"seconds": seconds}, timeout=900
        ).raise_for_status()
        requests.post(
            f"{self.ioffice_root}/_admin/advance", json={"seconds": 0}, timeout=900
        ).raise_for_status()

    @property
    def ioffice_root(self) -> str:
        return self.ioffice_url.rsplit("/api/", 1)[0]

    @property
    def national_root(self) -> str:
        return self.national_url.rsplit("/api/", 1)[0]

    def faults(self, system: str, rules: list[dict[str, Any]], seed: int = 1) -> None:
        base = {"portal": self.portal_url, "national": self.national_root}.get(
            system, self.ioffice_root
        )
        requests.post(
            f"{base}/_admin/faults", json={"seed": seed, "rules": rules}, timeout=10
        ).raise_for_status()

    def behaviour(self, system: str, **settings: Any) -> dict[str, Any]:
        """Switch how a stand-in answers where the public docs leave it open (see
        ``behaviour.py``)."""
        base = {"portal": self.portal_url, "national": self.national_root}.get(
            system, self.ioffice_root
        )
        resp = requests.post(f"{base}/_admin/behaviour", json=settings, timeout=10)
        resp.raise_for_status()
        return resp.json()

    def extend(self, code: str, due_date: str, reason: str) -> dict[str, Any]:
        """The portal's desk extends a dossier's deadline (``due_date``: YYYY-MM-DD)."""
        resp = requests.post(
            f"{self.portal_url}/_admin/extend",
            json={"code": code, "due_date": due_date, "reason": reason},
            timeout=30,
        )
        resp.raise_for_status()
        return resp.json()

    def replace(self, doc_id: str, reason: str, names: str | None = None) -> str:
        """iOffice issues a corrected decision replacing ``doc_id`` (its package naming ``names``
        instead, a bad input, when given); returns the new MaVanBan."""
        resp = requests.post(
            f"{self.ioffice_root}/_admin/replace",
            json={"ma_van_ban": doc_id, "reason": reason, "names": names},
            timeout=60,
        )
        resp.raise_for_status()
        return resp.json()["MaVanBan"]

    def revoke(self, doc_id: str, reason: str) -> None:
        """iOffice revokes the issued decision ``doc_id``."""
        requests.post(
            f"{self.ioffice_root}/_admin/revoke",
            json={"ma_van_ban": doc_id, "reason": reason},
            timeout=60,
        ).raise_for_status()

    def stats(self) -> dict[str, int]:
        """Faults fired so far, by kind, on all systems."""
        fired: dict[str, int] = {}
        for base in (self.portal_url, self.ioffice_root, self.national_root):
            if not base:
                continue
            body = requests.get(f"{base}/_admin/stats", timeout=10).json()
            for key, n in body.get("faults_fired", {}).items():
                if ":" not in key:
                    fired[key] = fired.get(key, 0) + n
        return fired

    def trust_root(self) -> str:
        return requests.get(f"{self.ioffice_root}/_admin/trust-root", timeout=10).text

    @property
    def crl_url(self) -> str:
        """The stand-in CA's published CRL: every harness-built pipeline checks revocation."""
        return self.ioffice_root + CRL_PATH


def start_standins(
    data_dir: Path,
    scenario: str = "demo",
    seed: int = 7,
    token_ttl: int = 300,
    national_session_ttl: float = 600,
):
    data_dir.mkdir(parents=True, exist_ok=True)
    start = scenarios.scenario_for(scenario).start
    clock = SimClock(start, speed=0.0, state_file=data_dir / "clock.json")
    portal_app, portal_store = portal_standin.build(
        data_dir, clock, FaultInjector(), seed, {CLIENT_ID: CLIENT_SECRET}, token_ttl
    )
    ioffice_app, ioffice_store = ioffice_standin.build(
        data_dir, clock, FaultInjector(), seed, IOFFICE_TOKEN
    )
    national_app, national_store = national_standin.build(
        data_dir, clock, FaultInjector(), {NATIONAL_USER: NATIONAL_PASSWORD}, national_session_ttl
    )
    scenarios.load(scenario, portal_store, data_dir, seed, ioffice_store)
    server = ServerThread([(portal_app, 0), (ioffice_app, 0), (national_app, 0)]).start()
    pp, ip, np_ = server.ports
    return server, Standins(
        f"http://127.0.0.1:{pp}",
        f"http://127.0.0.1:{ip}/api/lienthong",
        clock,
        portal_store,
        ioffice_store,
        data_dir,
        national_url=f"http://127.0.0.1:{np_}/api/dvcqg",
        national_store=national_store,
        scenario=scenario,
    )


def national_client(
    s: Standins, batch_size: int = 100, retry: RetryPolicy = FAST_RETRY
) -> NationalClient:
    """A client of the national stand-in, as ``NationalPortalHook`` builds one from its
    Connection."""
    return NationalClient(
        NationalSettings(
            base_url=s.national_url,
            username=NATIONAL_USER,
            password=NATIONAL_PASSWORD,
            timeout=5.0,
            batch_size=batch_size,
            retry=retry,
        )
    )


def make_resources(
    s: Standins, store_url: str, *, national: bool = False, **overrides: Any
) -> Resources:
    """Resources as a task builds them. The CRL is fetched for every verification
    (``crl_max_age=0``): these clients live for a whole test, a task's only for one run.
    ``national``: with the national stand-in's client (the national_sync and reconciliation tasks
    have one)."""
    if national and "national" not in overrides:
        overrides["national"] = national_client(s)
    portal = PortalClient(
        PortalSettings(
            base_url=s.portal_url,
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            timeout=overrides.pop("timeout", 5.0),
            retry=FAST_RETRY,
        )
    )
    ioffice = IOfficeClient(
        IOfficeSettings(
            base_url=s.ioffice_url,
            token=IOFFICE_TOKEN,
            parent_unit="",
            timeout=5.0,
            trust_roots_pem=s.trust_root(),
            crl_url=s.crl_url,
            crl_max_age=0.0,
            retry=FAST_RETRY,
        )
    )
    overrides.setdefault("routing", routing_for(s.scenario))
    return Resources(portal=portal, ioffice=ioffice, engine=get_engine(store_url), **overrides)
