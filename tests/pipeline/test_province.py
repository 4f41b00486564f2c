"""One deployment for a province (scenario ``province-week``): units on two iOffice instances.

The departments stay on the province's iOffice, the communes go to a second one (their own
Connection in the routing's ``units``, with its own CA): each decision is drafted on its unit's
iOffice, its result read and acknowledged there and verified against that iOffice's trust root.
"""

from __future__ import annotations

from collections import Counter

import pytest
import requests
from sqlalchemy import select

from lienthong.clients.ioffice import IOfficeClient, IOfficeSettings
from lienthong.domain.states import LinkState
from lienthong.pipeline import intake, results
from lienthong.store.schema import DossierLink, Quarantine
from lienthong_standins import ioffice as ioffice_standin
from lienthong_standins.district import DEPARTMENTS, NEW_COMMUNES
from lienthong_standins.faults import FaultInjector
from lienthong_standins.harness import FAST_RETRY, IOFFICE_TOKEN, make_resources
from lienthong_standins.ioffice.ca import CRL_PATH
from lienthong_standins.routing import province_routing
from lienthong_standins.serve import ServerThread
from tests.conftest import on_store

from .test_flow import CTX, HOUR, run_intake

COMMUNES_IOFFICE = "lienthong_ioffice_communes"


def _routing_with_communes_apart():
    routing = province_routing().model_copy(deep=True)
    for unit in routing.units:
        if unit.code in {c.code for c in NEW_COMMUNES}:
            unit.ioffice_conn_id = COMMUNES_IOFFICE
    return routing


@pytest.mark.scenario("province-week")
@on_store("sqlite")
def test_units_on_two_ioffices(standins, store_url, tmp_path):
    app, second_store = ioffice_standin.build(
        tmp_path / "ioffice-communes", standins.clock, FaultInjector(), 3, IOFFICE_TOKEN
    )
    server = ServerThread([(app, 0)]).start()
    root = f"http://127.0.0.1:{server.ports[0]}"
    second = IOfficeClient(
        IOfficeSettings(
            base_url=f"{root}/api/lienthong",
            token=IOFFICE_TOKEN,
            parent_unit="",
            timeout=5.0,
            trust_roots_pem=requests.get(f"{root}/_admin/trust-root", timeout=10).text,
            crl_url=root + CRL_PATH,
            crl_max_age=0.0,
            retry=FAST_RETRY,
        )
    )
    res = make_resources(
        standins,
        store_url,
        routing=_routing_with_communes_apart(),
        other_ioffices={COMMUNES_IOFFICE: second},
    )
    try:
        for _ in range(8):  # two days of arrivals, then the offices at work
            standins.advance(6 * HOUR)
            requests.post(f"{root}/_admin/advance", json={"seconds": 0}, timeout=60)
            run_intake(res)
            intake.complete_pending(res, CTX)
            results.process_packages(res, CTX)
        for _ in range(12):
            standins.advance(12 * HOUR)
            requests.post(f"{root}/_admin/advance", json={"seconds": 0}, timeout=60)
            results.process_packages(res, CTX)
        with res.session() as session:
            decisions = session.scalars(
                select(DossierLink).where(DossierLink.result_kind == "decision")
            ).all()
            quarantined = session.scalars(select(Quarantine)).all()
    finally:
        res.close()
        server.stop()

    assert [q.reason_code for q in quarantined] == []
    communes = {c.code for c in NEW_COMMUNES}
    departments = {d.code for d in DEPARTMENTS}
    on_second = {d["MaHoSo"] for d in second_store.documents_view()}
    on_first = {d["MaHoSo"] for d in standins.ioffice_store.documents_view()}
    sent = [x for x in decisions if x.ioffice_doc_id]
    assert {x.routed_unit for x in sent} & communes and {x.routed_unit for x in sent} & departments
    for link in sent:  # each document id kept with its iOffice: the two number theirs alike
        assert link.ioffice_doc_id.endswith(f"@{COMMUNES_IOFFICE}") == (
            link.routed_unit in communes
        )
        assert link.dossier_code in (on_second if link.routed_unit in communes else on_first)
        assert link.dossier_code not in (on_first if link.routed_unit in communes else on_second)
    states = Counter(x.state for x in decisions)
    attached = [x for x in decisions if x.attached_at is not None]
    assert {x.routed_unit for x in attached} & communes, states
    assert {x.routed_unit for x in attached} & departments, states
    assert states[LinkState.ATTACHED] + states[LinkState.RETURNED] > 0.8 * len(decisions), states
