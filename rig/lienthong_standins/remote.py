"""The stand-ins as a process outside them sees them: their control surface over HTTP only
(the cluster test and the latency benchmark run them as a separate command)."""

from __future__ import annotations

from typing import Any

import requests


class RemoteStandins:
    def __init__(self, portal_url: str, ioffice_root: str, national_root: str = ""):
        self.portal, self.ioffice, self.national = portal_url, ioffice_root, national_root

    def _base(self, system: str) -> str:
        return {"portal": self.portal, "national": self.national}.get(system, self.ioffice)

    def advance(self, seconds: float) -> None:
        """Move the shared clock, then let both systems perform what fell due."""
        requests.post(
            f"{self.portal}/_admin/advance", json={"seconds": seconds}, timeout=300
        ).raise_for_status()
        requests.post(
            f"{self.ioffice}/_admin/advance", json={"seconds": 0}, timeout=300
        ).raise_for_status()

    def faults(self, system: str, rules: list[dict[str, Any]], seed: int = 1) -> None:
        requests.post(
            f"{self._base(system)}/_admin/faults", json={"seed": seed, "rules": rules}, timeout=10
        ).raise_for_status()

    def behaviour(self, system: str, **settings: Any) -> dict[str, Any]:
        """How a stand-in answers where the public docs leave it open (``behaviour.py``)."""
        resp = requests.post(f"{self._base(system)}/_admin/behaviour", json=settings, timeout=10)
        resp.raise_for_status()
        return resp.json()

    def stats(self, system: str) -> dict[str, Any]:
        return requests.get(f"{self._base(system)}/_admin/stats", timeout=60).json()

    def documents(self) -> list[dict[str, Any]]:
        """iOffice documents pushed from the portal, with packages and served bad results."""
        return requests.get(f"{self.ioffice}/_admin/documents", timeout=120).json()["documents"]

    def results(self) -> dict[str, Any]:
        """Portal decision dossiers with attached results, and the dossiers served malformed."""
        return requests.get(f"{self.portal}/_admin/results", timeout=120).json()

    def national_records(self) -> list[dict[str, Any]]:
        """What the national stand-in holds: every record with its steps, in arrival order."""
        return requests.get(f"{self.national}/_admin/records", timeout=120).json()

    def clock(self) -> str:
        return requests.get(f"{self.portal}/_admin/clock", timeout=10).json()["now"]
