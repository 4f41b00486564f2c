"""The sensor: defers at once; a quiet window skips, anything else but a package fails loudly."""

from __future__ import annotations

import pytest
from airflow.sdk.exceptions import AirflowException, AirflowSkipException, TaskDeferred

from lienthong.orchestration.sensors import PendingPackagesSensor
from lienthong.orchestration.triggers import PendingPackagesTrigger


def sensor() -> PendingPackagesSensor:
    return PendingPackagesSensor(
        task_id="wait_for_result_packages", poll_interval="2", wait_timeout="30", max_failures="4"
    )


def test_defers_to_the_trigger_with_its_settings():
    with pytest.raises(TaskDeferred) as deferred:
        sensor().execute({})
    trigger = deferred.value.trigger
    assert isinstance(trigger, PendingPackagesTrigger)
    assert (trigger.poll_interval, trigger.timeout, trigger.max_failures) == (2.0, 30.0, 4)
    assert deferred.value.method_name == "execute_complete"


def test_found_succeeds():
    assert sensor().execute_complete({}, {"status": "found"}) == "found"


def test_quiet_window_skips():
    with pytest.raises(AirflowSkipException):
        sensor().execute_complete({}, {"status": "timeout"})


@pytest.mark.parametrize(
    "event",
    [
        {"status": "error", "reason": "auth", "message": "iOffice refused (401)"},
        {"status": "error", "reason": "unreachable", "message": "5 in a row"},
        None,
    ],
)
def test_errors_fail_the_task(event):
    with pytest.raises(AirflowException) as failed:
        sensor().execute_complete({}, event)
    assert not isinstance(failed.value, AirflowSkipException)
