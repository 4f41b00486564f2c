"""Fixtures for pipeline tests: both stand-ins as real HTTP servers on loopback (frozen clock),
and pipeline resources pointed at them and at a real store (SQLite file or PostgreSQL)."""

from __future__ import annotations

import pytest

from lienthong_standins.harness import make_resources, start_standins
from tests.conftest import scenario_of


@pytest.fixture
def standins(tmp_path, request):
    server, s = start_standins(tmp_path / "standins", scenario_of(request))
    try:
        yield s
    finally:
        server.stop()


@pytest.fixture
def res(standins, store_url):
    r = make_resources(standins, store_url)
    try:
        yield r
    finally:
        r.close()


@pytest.fixture
def nres(standins, store_url):
    """Resources with the national stand-in's client, as national_sync's task builds them."""
    r = make_resources(standins, store_url, national=True)
    try:
        yield r
    finally:
        r.close()
