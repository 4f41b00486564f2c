"""The trigger: serializable, and loud - each answer of iOffice gives the event the sensor needs."""

from __future__ import annotations

import asyncio
import json

from lienthong.orchestration.triggers import PendingPackagesTrigger

PENDING = "/api/lienthong/LayDanhSachGoiTinVanBan"


def first_event(trigger: PendingPackagesTrigger) -> dict:
    async def run() -> dict:
        async for event in trigger.run():
            return event.payload
        raise AssertionError("the trigger ended without an event")

    return asyncio.run(asyncio.wait_for(run(), timeout=60))


def test_serialize_round_trip():
    trigger = PendingPackagesTrigger("lienthong_ioffice", poll_interval=2.5, timeout=90.0, max_failures=3)
    path, kwargs = trigger.serialize()
    assert path == "lienthong.orchestration.triggers.PendingPackagesTrigger"
    json.dumps(kwargs)  # the triggerer stores kwargs as JSON
    module, name = path.rsplit(".", 1)
    again = getattr(__import__(module, fromlist=[name]), name)(**kwargs)
    assert again.serialize() == (path, kwargs)


def test_found_when_a_package_waits(airflow_env, pending_packages):
    assert first_event(PendingPackagesTrigger("lienthong_ioffice", poll_interval=0.1, timeout=10)) == {"status": "found"}


def test_timeout_when_nothing_waits(airflow_env):
    assert first_event(PendingPackagesTrigger("lienthong_ioffice", poll_interval=0.1, timeout=0.5)) == {
        "status": "timeout"}


def test_refused_credential_is_an_error_at_once(airflow_env, monkeypatch):
    conn = json.loads(airflow_env["AIRFLOW_CONN_LIENTHONG_IOFFICE"])
    monkeypatch.setenv("AIRFLOW_CONN_LIENTHONG_IOFFICE", json.dumps({**conn, "password": "revoked-token"}))
    event = first_event(PendingPackagesTrigger("lienthong_ioffice", poll_interval=0.1, timeout=30, max_failures=50))
    assert event["status"] == "error" and event["reason"] == "auth" and "401" in event["message"]


def test_outage_is_an_error_after_max_failures(airflow_env, standins, capsys):
    standins.faults("ioffice", [{"endpoint": PENDING, "kind": "5xx", "rate": 1.0}])
    event = first_event(PendingPackagesTrigger("lienthong_ioffice", poll_interval=0.05, timeout=30, max_failures=3))
    assert event["status"] == "error" and event["reason"] == "unreachable"
    assert "3 times in a row" in event["message"]
    assert capsys.readouterr().out.count("iOffice poll failed") == 3  # each failed poll is logged (structlog)


def test_unreachable_host_is_an_error_not_a_quiet_timeout(airflow_env, monkeypatch):
    conn = json.loads(airflow_env["AIRFLOW_CONN_LIENTHONG_IOFFICE"])
    monkeypatch.setenv("AIRFLOW_CONN_LIENTHONG_IOFFICE", json.dumps({**conn, "port": 9}))  # nothing listens
    event = first_event(PendingPackagesTrigger("lienthong_ioffice", poll_interval=0.05, timeout=30, max_failures=2))
    assert event["status"] == "error" and event["reason"] == "unreachable"
