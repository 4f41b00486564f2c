"""National sync dies between the remote write and its local record, then runs again: the national
record ends equal to the local one (no step twice, none missing), on both store backends."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from lienthong.domain.national_record import ItemState
from lienthong.pipeline import national_sync
from lienthong.store.schema import NationalSyncItem

from .test_crash import Crash, crash_after, heal
from .test_flow import CTX, HOUR, run_intake
from .test_national_sync import mismatches, sync_until_idle

pytestmark = pytest.mark.scenario("burst-150")  # a few batches per run, not the demo's 300 dossiers


@pytest.mark.parametrize(
    "method,nth",
    [
        ("sync_records", 1),  # records written nationally, answers not recorded
        ("add_steps", 1),  # steps written nationally, answers not recorded
        ("_post_raw", 5),  # died inside a run's calls: some batches written, some not
    ],
)
def test_crash_between_remote_write_and_local_record(standins, nres, method, nth):
    standins.advance(10 * HOUR)
    crash_after(nres.national, method, nth)
    with pytest.raises(Crash):
        national_sync.sync(nres, CTX, timedelta(minutes=10))
    heal(nres.national, method)
    with nres.session() as session:
        unsure = session.scalars(
            select(NationalSyncItem).where(NationalSyncItem.state == ItemState.SENDING)
        ).all()
    assert unsure, "the crash left nothing unsure: the test did not hit the window"
    sync_until_idle(nres)
    assert mismatches(nres, standins) == []  # no step twice, none missing, records equal
    # later days too
    standins.advance(24 * HOUR)
    run_intake(nres)
    sync_until_idle(nres)
    assert mismatches(nres, standins) == []
