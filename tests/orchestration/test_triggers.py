"""The trigger: serializable, and loud - each answer of iOffice gives the event the sensor needs."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import pytest

from lienthong.orchestration.triggers import PackagesOfferedTrigger, PendingPackagesTrigger
from lienthong.pipeline import intake
from lienthong.store.ledger import RunContext
from lienthong_standins.harness import make_resources

pytestmark = pytest.mark.scenario(
    "burst-60"
)  # a few packages to wait for, not the demo's 300 dossiers

PENDING = "/api/lienthong/LayDanhSachGoiTinVanBan"


def first_event(trigger: PendingPackagesTrigger) -> dict:
    async def run() -> dict:
        async for event in trigger.run():
            return event.payload
        raise AssertionError("the trigger ended without an event")

    return asyncio.run(asyncio.wait_for(run(), timeout=60))


def test_serialize_round_trip():
    trigger = PendingPackagesTrigger(
        "lienthong_ioffice", poll_interval=2.5, timeout=90.0, max_failures=3
    )
    path, kwargs = trigger.serialize()
    assert path == "lienthong.orchestration.triggers.PendingPackagesTrigger"
    json.dumps(kwargs)  # the triggerer stores kwargs as JSON
    module, name = path.rsplit(".", 1)
    again = getattr(__import__(module, fromlist=[name]), name)(**kwargs)
    assert again.serialize() == (path, kwargs)


def test_found_when_a_package_waits(airflow_env, pending_packages):
    assert first_event(
        PendingPackagesTrigger("lienthong_ioffice", poll_interval=0.1, timeout=10)
    ) == {"status": "found"}


def test_timeout_when_nothing_waits(airflow_env):
    assert first_event(
        PendingPackagesTrigger("lienthong_ioffice", poll_interval=0.1, timeout=0.5)
    ) == {"status": "timeout"}


def test_refused_credential_is_an_error_at_once(airflow_env, monkeypatch):
    conn = json.loads(airflow_env["AIRFLOW_CONN_LIENTHONG_IOFFICE"])
    monkeypatch.setenv(
        "AIRFLOW_CONN_LIENTHONG_IOFFICE", json.dumps({**conn, "password": "revoked-token"})
    )
    event = first_event(
        PendingPackagesTrigger("lienthong_ioffice", poll_interval=0.1, timeout=30, max_failures=50)
    )
    assert event["status"] == "error" and event["reason"] == "auth" and "401" in event["message"]


def test_outage_is_an_error_after_max_failures(airflow_env, standins, capsys):
    standins.faults("ioffice", [{"endpoint": PENDING, "kind": "5xx", "rate": 1.0}])
    event = first_event(
        PendingPackagesTrigger("lienthong_ioffice", poll_interval=0.05, timeout=30, max_failures=3)
    )
    assert event["status"] == "error" and event["reason"] == "unreachable"
    assert "3 times in a row" in event["message"]
    assert (
        capsys.readouterr().out.count("iOffice poll failed") == 3
    )  # each failed poll is logged (structlog)


def test_unreachable_host_is_an_error_not_a_quiet_timeout(airflow_env, monkeypatch):
    conn = json.loads(airflow_env["AIRFLOW_CONN_LIENTHONG_IOFFICE"])
    monkeypatch.setenv(
        "AIRFLOW_CONN_LIENTHONG_IOFFICE", json.dumps({**conn, "port": 9})
    )  # nothing listens
    event = first_event(
        PendingPackagesTrigger("lienthong_ioffice", poll_interval=0.05, timeout=30, max_failures=2)
    )
    assert event["status"] == "error" and event["reason"] == "unreachable"


# ---- the event trigger for an AssetWatcher (LIENTHONG_RESULTS_MODE=watcher)


def events_within(
    trigger, seconds: float, actions: tuple[tuple[float, object], ...] = ()
) -> list[dict]:
    """Every event the (endless) trigger fires within ``seconds``, while ``actions`` (delay,
    callable) change the world beside it."""
    out: list[dict] = []

    async def run() -> None:
        async for event in trigger.run():
            out.append(event.payload)

    async def act() -> None:
        for delay, action in actions:
            await asyncio.sleep(delay)
            await asyncio.to_thread(action)

    async def bounded() -> None:
        watcher = asyncio.ensure_future(run())
        await act()
        try:
            await asyncio.wait_for(watcher, timeout=seconds)
        except TimeoutError:
            pass

    asyncio.run(bounded())
    return out


def test_event_trigger_serialize_round_trip():
    trigger = PackagesOfferedTrigger("lienthong_ioffice", poll_interval=3.0, max_backoff=60.0)
    path, kwargs = trigger.serialize()
    assert path == "lienthong.orchestration.triggers.PackagesOfferedTrigger"
    json.dumps(kwargs)
    module, name = path.rsplit(".", 1)
    assert getattr(__import__(module, fromlist=[name]), name)(**kwargs).serialize() == (
        path,
        kwargs,
    )


def test_event_trigger_reports_offered_packages_once(airflow_env, standins, tmp_path):
    """No event while nothing is offered; one when the office issues; none while those stay pending;
    one more, for the new ones only, when it issues more."""

    res = make_resources(standins, f"sqlite:///{tmp_path}/watch.sqlite")
    try:
        standins.advance(10 * 3600)
        intake.pull_and_link(
            res,
            RunContext("test", "watch"),
            intake.scheduled_window(res, timedelta(minutes=10)),
            advance_cursor=True,
        )
        assert res.ioffice.pending_doc_ids() == []
        # The office issues through the night: part by 18 h later, the rest by 24 h.
        events = events_within(
            PackagesOfferedTrigger("lienthong_ioffice", poll_interval=0.1),
            1.5,
            actions=(
                (0.5, lambda: standins.advance(18 * 3600)),
                (1.0, lambda: standins.advance(6 * 3600)),
            ),
        )
        pending = res.ioffice.pending_doc_ids()
    finally:
        res.close()
    assert len(events) == 2, events
    first, second = events
    assert first["new_packages"] == first["pending_packages"] > 0
    assert second["new_packages"] == second["pending_packages"] - first["pending_packages"] > 0
    assert second["pending_packages"] == len(pending)


def test_event_trigger_keeps_watching_through_an_outage(
    airflow_env, pending_packages, standins, capsys
):
    standins.faults("ioffice", [{"endpoint": PENDING, "kind": "5xx", "rate": 1.0}])
    events = events_within(
        PackagesOfferedTrigger("lienthong_ioffice", poll_interval=0.05, max_backoff=0.1), 1.0
    )
    assert (
        events == [] and capsys.readouterr().out.count("iOffice poll failed") >= 3
    )  # loud, still running
    standins.faults("ioffice", [])
    assert (
        len(events_within(PackagesOfferedTrigger("lienthong_ioffice", poll_interval=0.05), 1.5))
        == 1
    )
