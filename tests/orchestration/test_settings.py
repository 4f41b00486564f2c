"""Settings are checked with clear errors (issue 22): the ``overlap_minutes`` DAG param (a
negative value would skip dossiers for good) in the trigger form's schema and again in the task,
and every numeric Variable, each error naming the setting and its allowed range."""

from __future__ import annotations

import importlib.util
from typing import Any

import pytest
from airflow.sdk.exceptions import ParamValidationError

from lienthong.domain.savings import DEFAULT_SAVINGS
from lienthong.orchestration import tasks
from lienthong.orchestration.airflow_resources import (
    CONCURRENCY_VARIABLE,
    COST_VARIABLE,
    MINUTES_VARIABLE,
    RETENTION_VARIABLE,
    ROUTING_VARIABLE,
    build_resources,
    retention_days,
    savings_settings,
)
from lienthong.orchestration.dag_settings import overlap_param
from lienthong.orchestration.setting_rules import OVERLAP_MINUTES, InvalidSetting
from lienthong.store.retention import DEFAULT_RETENTION_DAYS
from lienthong_standins.routing import ROUTING_PATH
from tests.conftest import ROOT

BAD_NUMBERS = ["-1", "abc", "3.5", "1e3", "99999999999"]


class Variables:
    """Variables as a secrets backend holds them; the link's Lookup seam (no Connection is read
    before the Variables are checked)."""

    def __init__(self, values: dict[str, str]):
        self.values = values

    def variable(self, name: str) -> str | None:
        return self.values.get(name)

    def connection(self, conn_id: str) -> Any:
        raise AssertionError(f"connection {conn_id} read before the Variables were checked")


@pytest.mark.parametrize("value", [-5, "-5", "ten", 2.5, True, 100_000, None])
def test_overlap_out_of_range_is_refused_by_the_task_naming_the_param(value):
    for task in (tasks.pull_and_link, tasks.sync_national):
        with pytest.raises(InvalidSetting, match="DAG param overlap_minutes") as err:
            task({}, value)  # refused before Airflow or any system is asked
        assert "from 0 to 1440" in str(err.value)


@pytest.mark.parametrize(("raw", "expected"), [(0, 0), (10, 10), ("15", 15), (60.0, 60)])
def test_overlap_in_range_is_taken(raw, expected):
    assert OVERLAP_MINUTES.parse(raw) == expected


def _dag(name: str):
    spec = importlib.util.spec_from_file_location(f"dag_{name}", ROOT / "dags" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, name)()


@pytest.mark.parametrize("dag_id", ["dossier_intake", "national_sync"])
def test_overlap_param_schema_refuses_a_negative_value_in_the_trigger_form(dag_id):
    param = _dag(dag_id).params.get_param("overlap_minutes")
    assert param.schema["minimum"] == 0 and param.schema["type"] == "integer"
    assert param.resolve(10) == 10
    with pytest.raises(ParamValidationError):
        param.resolve(-5)
    assert overlap_param().schema == param.schema  # one rule for every DAG that overlaps


@pytest.mark.parametrize("value", BAD_NUMBERS + ["0"])
def test_retention_days_out_of_range_names_the_variable(value):
    with pytest.raises(InvalidSetting, match=RETENTION_VARIABLE):
        retention_days(Variables({RETENTION_VARIABLE: value}))


@pytest.mark.parametrize("name", [MINUTES_VARIABLE, COST_VARIABLE])
@pytest.mark.parametrize("value", BAD_NUMBERS)
def test_savings_variables_out_of_range_name_the_variable(name, value):
    with pytest.raises(InvalidSetting, match=name) as err:
        savings_settings(Variables({name: value}))
    assert repr(value) in str(err.value)  # the value as found, so the operator sees the typo


@pytest.mark.parametrize("value", BAD_NUMBERS + ["0", "65"])
def test_concurrency_out_of_range_fails_before_any_client_is_opened(value):
    routing = ROUTING_PATH.read_text(encoding="utf-8")
    look = Variables({ROUTING_VARIABLE: routing, CONCURRENCY_VARIABLE: value})
    with pytest.raises(InvalidSetting, match=f"Variable {CONCURRENCY_VARIABLE} .* from 1 to 64"):
        build_resources(look)


def test_numeric_variables_unset_or_in_range_are_taken():
    assert savings_settings(Variables({})) == DEFAULT_SAVINGS
    assert retention_days(Variables({RETENTION_VARIABLE: ""})) == DEFAULT_RETENTION_DAYS
    look = Variables({MINUTES_VARIABLE: " 45 ", COST_VARIABLE: "0", RETENTION_VARIABLE: "30"})
    assert (
        savings_settings(look).minutes_per_dossier,
        savings_settings(look).cost_per_hour_vnd,
    ) == (45, 0)
    assert retention_days(look) == 30
