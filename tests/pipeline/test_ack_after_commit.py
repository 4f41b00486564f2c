"""A package leaves iOffice's pending list only once its record here committed: when the commit
fails, the package is still pending and the next run records it."""

from __future__ import annotations

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from lienthong.domain.states import PackageHandling
from lienthong.pipeline import results
from lienthong.store.schema import BypassDocument, DossierLink, LinkEvent
from lienthong_standins.portal.store import dossiers

from .test_flow import CTX, HOUR, run_intake


class StoreDown(Exception):
    pass


@pytest.mark.scenario("burst-40")
def test_a_package_is_acknowledged_after_its_record_commits(standins, res):
    standins.advance(10 * HOUR)
    run_intake(res)
    standins.advance(30 * HOUR)
    issued = [
        i for i in res.ioffice.pending_doc_ids() if res.ioffice.get_package(i).outcome == "01"
    ]
    assert issued, "the day must have an issued package"
    doc_id = issued[0]
    code = res.ioffice.get_package(doc_id).dossier_code
    # A package for a dossier that is neither linked here nor (any longer) on the portal: a bypass.
    with res.session() as session:
        session.execute(LinkEvent.__table__.delete().where(LinkEvent.dossier_code == code))
        session.execute(DossierLink.__table__.delete().where(DossierLink.dossier_code == code))
    with standins.portal_store.engine.begin() as c:
        c.execute(dossiers.delete().where(dossiers.c.code == code))

    def fail_on_record(session):
        held = [*session.new, *session.identity_map.values()]
        if any(isinstance(o, BypassDocument) and o.ioffice_doc_id == doc_id for o in held):
            raise StoreDown("the store went away before the bypass record committed")

    event.listen(Session, "before_commit", fail_on_record)
    try:
        with pytest.raises(StoreDown):
            results.handle_package(res, CTX, doc_id)
    finally:
        event.remove(Session, "before_commit", fail_on_record)
    assert doc_id in res.ioffice.pending_doc_ids(), (
        "acknowledged with no record here: the package is lost"
    )

    assert results.handle_package(res, CTX, doc_id) == PackageHandling.BYPASS
    assert doc_id not in res.ioffice.pending_doc_ids()
    with res.session() as session:
        assert (
            session.scalar(select(BypassDocument).where(BypassDocument.ioffice_doc_id == doc_id))
            is not None
        )
