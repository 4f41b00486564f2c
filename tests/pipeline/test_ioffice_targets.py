"""Which iOffice instances and parent units the result poll lists, and document ids kept unique
across instances (pure)."""

from __future__ import annotations

import pytest

from lienthong.pipeline.resources import qualified_doc_id, split_doc_id
from lienthong.pipeline.routing import IOfficeTarget
from lienthong_standins.district import NEW_COMMUNES
from lienthong_standins.routing import demo_routing, province_routing

pytestmark = pytest.mark.fast


def test_targets_are_the_default_and_every_unit_past_or_present():
    assert demo_routing().ioffice_targets == [IOfficeTarget()]
    assert province_routing().ioffice_targets == [
        IOfficeTarget(),
        IOfficeTarget(None, "000.00.00.H36"),
        IOfficeTarget(None, "000.40.00.H36"),
    ]
    routing = province_routing().model_copy(deep=True)
    for unit in routing.units:
        if unit.code in {c.code for c in NEW_COMMUNES}:
            unit.ioffice_conn_id = "communes"
        if unit.valid_to is not None:  # the district's units: gone, and no longer routed
            unit.ioffice_parent_unit = "000.00.30.H36"
    assert routing.ioffice_targets == [
        IOfficeTarget(),
        IOfficeTarget(None, "000.00.00.H36"),
        IOfficeTarget(None, "000.00.30.H36"),  # decisions sent to them before still come back
        IOfficeTarget("communes", "000.40.00.H36"),
    ]
    assert routing.ioffice_conn_ids == {"communes"}
    assert routing.ioffice_target(NEW_COMMUNES[0].code) == IOfficeTarget(
        "communes", "000.40.00.H36"
    )


def test_document_ids_stay_apart_across_instances():
    same = "VB-20251201-00001"
    ours, theirs = qualified_doc_id(same, None), qualified_doc_id(same, "communes")
    assert ours == same and theirs != ours
    assert split_doc_id(theirs, {"communes"}) == ("communes", same)
    assert split_doc_id(ours, {"communes"}) == (None, same)
    # An id that happens to hold the mark, naming no Connection, is the default iOffice's.
    assert split_doc_id("VB@2025", {"communes"}) == (None, "VB@2025")
