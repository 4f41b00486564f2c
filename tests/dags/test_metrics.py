"""Metrics through Airflow's own Stats: an intake run and a results run with StatsD on, sent to a
UDP listener in the test; the names and values are checked against the store and the stand-ins."""

from __future__ import annotations

import socket
import threading
import time
from collections import defaultdict

import pytest
from airflow.sdk.configuration import conf
from airflow.sdk.observability import stats
from airflow.sdk.observability.metrics import stats_utils
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lienthong.store.engine import get_engine
from lienthong.store.schema import DossierLink, Quarantine
from tests.conftest import on_store

pytestmark = pytest.mark.scenario("burst-60")  # metrics of a few dossiers, not the demo's 300

HOUR = 3600
FAST = {"poll_seconds": 0.5, "wait_seconds": 5}


class StatsdListener:
    """Collects StatsD lines (``name:value|type``) sent over UDP to 127.0.0.1:port."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.lines: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                data = self.sock.recv(65535)
            except TimeoutError:
                continue
            self.lines.extend(data.decode().splitlines())

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        self.sock.close()

    def parsed(self) -> dict[str, dict[str, list[float]]]:
        """type ('c', 'g', 'ms') -> name -> values, in arrival order."""
        out: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
        for line in self.lines:
            name, _, rest = line.partition(":")
            value, _, kind = rest.partition("|")
            out[kind.split("|")[0]][name].append(float(value))
        return out


@pytest.fixture
def statsd(monkeypatch):
    listener = StatsdListener()
    monkeypatch.setenv("AIRFLOW__METRICS__STATSD_ON", "True")
    monkeypatch.setenv("AIRFLOW__METRICS__STATSD_HOST", "127.0.0.1")
    monkeypatch.setenv("AIRFLOW__METRICS__STATSD_PORT", str(listener.port))
    monkeypatch.setenv("AIRFLOW__METRICS__STATSD_PREFIX", "airflow")

    conf.set(
        "metrics", "statsd_on", "True"
    )  # the SDK's config was read before the environment changed
    conf.set("metrics", "statsd_host", "127.0.0.1")
    conf.set("metrics", "statsd_port", str(listener.port))
    # What the task runner does at start (dag.test() runs tasks in this process, without it).
    stats.initialize(factory=stats_utils.get_stats_factory(), export_legacy_names=False)
    try:
        yield listener
    finally:
        listener.stop()
        conf.set("metrics", "statsd_on", "False")
        stats.initialize(factory=stats_utils.get_stats_factory(), export_legacy_names=False)


@on_store("sqlite")
def test_intake_and_results_runs_report_their_metrics(dagbag, linked_airflow, store_url, statsd):
    standins = linked_airflow
    standins.faults(
        "portal",
        [{"endpoint": "/pa/dossier", "kind": "malformed", "variant": "broken_date", "rate": 0.1}],
        seed=3,
    )
    standins.advance(10 * HOUR)
    assert str(dagbag.get_dag("dossier_intake").test().state) == "success"
    standins.faults("portal", [])
    standins.advance(24 * HOUR)
    assert str(dagbag.get_dag("signed_results").test(run_conf=FAST).state) == "success"

    time.sleep(0.5)  # the last datagrams
    m = statsd.parsed()
    counters, gauges, timers = m["c"], m["g"], m["ms"]
    with Session(get_engine(store_url)) as s:
        links = s.scalar(select(func.count()).select_from(DossierLink))
        attached = s.scalar(
            select(func.count()).select_from(DossierLink).where(DossierLink.state == "attached")
        )
        transferred_ever = s.scalar(
            select(func.count())
            .select_from(DossierLink)
            .where(DossierLink.transferred_at.is_not(None))
        )
        quarantined = s.scalar(
            select(func.count()).select_from(Quarantine).where(Quarantine.status == "open")
        )
    assert attached > 0 and quarantined > 0

    assert sum(counters["airflow.lienthong.intake.new"]) == links
    assert sum(counters["airflow.lienthong.intake.fetched"]) == links + quarantined
    assert sum(counters["airflow.lienthong.intake.transferred"]) == transferred_ever
    assert sum(counters["airflow.lienthong.quarantined.portal_dossier.broken_date"]) == quarantined
    assert sum(counters["airflow.lienthong.packages.attached"]) == attached
    assert counters["airflow.lienthong.packages.packages"]  # how many were pending
    assert len(timers["airflow.lienthong.push_seconds"]) == transferred_ever
    assert len(timers["airflow.lienthong.verify_seconds"]) >= attached
    assert len(timers["airflow.lienthong.attach_seconds"]) == attached
    assert all(0 < t < 60_000 for t in timers["airflow.lienthong.verify_seconds"])  # milliseconds
    # Gauges after the results run: the store's levels at that moment.
    assert gauges["airflow.lienthong.links.attached"][-1] == attached
    assert gauges["airflow.lienthong.quarantine_open.portal_dossier"][-1] == quarantined
    assert gauges["airflow.lienthong.oldest_transferred_not_issued_seconds"][-1] >= 0
    assert (
        sum(g[-1] for n, g in gauges.items() if n.startswith("airflow.lienthong.links.")) == links
    )
