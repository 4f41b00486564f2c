"""Claims: one owner at a time, kept alive while the owner lives, taken over once a killed owner's
lease has run out, and never before. (The national outbox sent and settled only by its holder:
``tests/pipeline/test_national_sync.py``.)"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta

from lienthong.store import claims
from lienthong.store.engine import get_engine

HOLDER = """
import sys, time
from datetime import timedelta
from lienthong.store import claims
from lienthong.store.engine import get_engine
ttl = timedelta(seconds=float(sys.argv[2]))
with claims.held(get_engine(sys.argv[1]), "dossier:x", ttl) as lease:
    assert lease is not None
    print("held", flush=True)
    time.sleep(600)
"""


def test_a_killed_holders_claim_is_taken_over_after_its_ttl_and_not_before(store_url):
    engine = get_engine(store_url)
    ttl = 4.0
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, store_url, str(ttl)],
        stdout=subprocess.PIPE,
        env=dict(os.environ),
        text=True,
    )
    try:
        assert proc.stdout.readline().strip() == "held"
        time.sleep(ttl)  # alive past its ttl: the heartbeat keeps it
        assert not claims.acquire(engine, "dossier:x", "other", timedelta(seconds=ttl))
        proc.send_signal(signal.SIGKILL)
        killed_at = time.monotonic()
        proc.wait(10)
        assert not claims.acquire(engine, "dossier:x", "other", timedelta(seconds=ttl)), (
            "taken while alive"
        )
        while not claims.acquire(engine, "dossier:x", "other", timedelta(seconds=ttl)):
            assert time.monotonic() - killed_at < ttl + 5, (
                "a dead holder's claim was never taken over"
            )
            time.sleep(0.2)
        assert time.monotonic() - killed_at >= ttl / 4  # not before the last beat's lease ran out
    finally:
        proc.kill()


def test_one_owner_at_a_time_and_release(store_url):
    engine = get_engine(store_url)
    with claims.held(engine, "k", timedelta(seconds=30)) as first:
        assert first is not None
        with claims.held(engine, "k", timedelta(seconds=30)) as second:
            assert second is None
    with claims.held(engine, "k", timedelta(seconds=30)) as third:
        assert third is not None
        with claims.held_many(engine, ["k", "a", "b"], timedelta(seconds=30)) as batch:
            assert batch.keys == {"a", "b"}  # "k" is another owner's
            batch.renew()
        with claims.held_many(engine, ["a"], timedelta(seconds=30)) as again:
            assert again.keys == {"a"}  # given back at the end of the batch
