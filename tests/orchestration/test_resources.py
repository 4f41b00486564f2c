"""The one resources builder: reads Connections and Variables, fails loudly, closes what it
opened."""

from __future__ import annotations

import pytest

from lienthong.domain.savings import DEFAULT_SAVINGS
from lienthong.orchestration.airflow_resources import (
    ServerLookup,
    resources_from_airflow,
    savings_settings,
)
from lienthong.pipeline.routing import RoutingNotConfigured
from lienthong_standins.routing import demo_routing


def test_builds_clients_store_and_routing_from_airflow(airflow_env, standins):
    with resources_from_airflow(ServerLookup()) as res:
        assert res.routing == demo_routing()
        assert res.ioffice.settings.base_url == standins.ioffice_url
        assert res.ioffice.settings.trust_roots_pem.startswith("-----BEGIN CERTIFICATE")
        assert res.portal.settings.base_url == standins.portal_url
        assert res.ioffice.pending_doc_ids() == []  # the clients work against the real stand-ins
        assert res.savings == DEFAULT_SAVINGS
        pool = res.ioffice.session.get_adapter(standins.ioffice_url).poolmanager
        assert len(pool.pools) == 1
    assert len(pool.pools) == 0  # closed on exit, however the block ends


def test_savings_variables_override_the_article_defaults(airflow_env, monkeypatch):
    monkeypatch.setenv("AIRFLOW_VAR_LIENTHONG_MINUTES_SAVED_PER_DOSSIER", "45")
    monkeypatch.setenv("AIRFLOW_VAR_LIENTHONG_COST_PER_HOUR_VND", "40000")
    savings = savings_settings(ServerLookup())
    assert (savings.minutes_per_dossier, savings.cost_per_hour_vnd, savings.hours_per_dossier) == (
        45,
        40_000,
        0.75,
    )


@pytest.mark.parametrize("value", [None, "", "procedures: [not, a, mapping]"])
def test_missing_or_broken_routing_is_an_error_naming_the_variable(airflow_env, monkeypatch, value):
    if value is None:
        monkeypatch.delenv("AIRFLOW_VAR_LIENTHONG_ROUTING")
    else:
        monkeypatch.setenv("AIRFLOW_VAR_LIENTHONG_ROUTING", value)
    with pytest.raises(RoutingNotConfigured, match="lienthong_routing"):
        with resources_from_airflow(ServerLookup()):
            pass
