"""Die halfway, then run again: no duplicate document, attachment, step or savings row; nothing
lost.

Two kinds of death: a deterministic one at each dangerous point (right after a remote
effect, before its local record), and real SIGKILLs of a worker process at random moments.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lienthong.pipeline import intake, results
from lienthong_standins.harness import make_resources

from .invariants import check
from .test_flow import CTX, HOUR, drive, run_intake

WORKER = Path(__file__).with_name("crash_worker.py")


class Crash(BaseException):
    """Stands for the process dying: not an Exception, so no handler in the pipeline catches it."""


def crash_after(obj, name: str, nth: int = 1) -> None:
    """Make ``obj.name`` perform its real effect, then die on its ``nth`` call."""
    real = getattr(obj, name)
    calls = {"n": 0}

    def wrapper(*args, **kwargs):
        out = real(*args, **kwargs)
        calls["n"] += 1
        if calls["n"] == nth:
            raise Crash(name)
        return out

    setattr(obj, name, wrapper)


def heal(obj, name: str) -> None:
    delattr(obj, name)  # back to the class's method


SMALL_DAY = pytest.mark.scenario(
    "burst-60"
)  # one crash point needs a few dossiers, not the demo's 300


@SMALL_DAY
@pytest.mark.parametrize(
    "point",
    [
        ("ioffice", "push", 3),  # document created in iOffice, transfer not recorded
        ("portal", "set_status_once", 2),  # step/status written on the portal, flag not recorded
    ],
)
def test_intake_dies_after_remote_effect(standins, res, point):
    system, method, nth = point
    target = getattr(res, system)
    standins.advance(10 * HOUR)
    crash_after(target, method, nth)
    with pytest.raises(Crash):
        run_intake(res)
    heal(target, method)
    check(standins, res.engine, complete=False)
    run_intake(res)
    intake.complete_pending(res, CTX)
    snap = check(standins, res.engine)
    assert snap.states["seen"] == 0


@SMALL_DAY
@pytest.mark.parametrize(
    "point",
    [
        ("portal", "upload_file", 2),  # file uploaded, not attached
        ("portal", "attach_result_once", 2),  # attached on the portal, not in the store
        ("portal", "set_status_once", 2),  # status 9 set, attachment not recorded
        ("ioffice", "acknowledge", 2),  # all recorded, package not acknowledged
    ],
)
def test_results_die_after_remote_effect(standins, res, point):
    system, method, nth = point
    target = getattr(res, system)
    standins.advance(10 * HOUR)
    run_intake(res)
    standins.advance(24 * HOUR)
    crash_after(target, method, nth)
    with pytest.raises(Crash):
        results.process_packages(res, CTX)
    heal(target, method)
    check(standins, res.engine, complete=False)
    results.process_packages(res, CTX)
    snap = check(standins, res.engine)
    assert snap.attached_codes
    assert res.ioffice.pending_doc_ids() == []


def test_sigkill_at_random_moments_then_recover(standins, store_url, tmp_path):
    """A real worker process is killed -9 repeatedly mid-run; a clean run afterwards converges."""

    env = dict(
        os.environ,
        LT_PORTAL=standins.portal_url,
        LT_IOFFICE=standins.ioffice_url,
        LT_STORE=store_url,
        LT_TRUST=str(tmp_path / "trust.pem"),
    )
    (tmp_path / "trust.pem").write_text(standins.trust_root())
    rng = random.Random(42)
    kills = 0
    for round_ in range(6):
        standins.advance((10 if round_ == 0 else 6) * HOUR)
        proc = subprocess.Popen(
            [sys.executable, str(WORKER)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        time.sleep(rng.uniform(0.4, 2.5))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        proc.wait(timeout=30)
    assert kills >= 3, "the worker finished too fast to be killed mid-run"
    res = make_resources(standins, store_url)
    try:
        drive(standins, res, days=2)
        snap = check(standins, res.engine)
        assert snap.attached_codes
    finally:
        res.close()
