"""The exactly-once invariants, checked against the stand-ins' own state and the store."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import create_engine, select, text

from lienthong.domain.vocabulary import STEP_TRANSFERRED_VI
from lienthong.store.schema import DossierLink, DossierTimeSavings
from lienthong_standins.harness import Standins


@dataclass
class Snapshot:
    states: Counter = field(default_factory=Counter)
    attached_codes: set[str] = field(default_factory=set)
    savings_rows: int = 0
    ioffice_docs: int = 0


def ioffice_docs_by_dossier(s: Standins) -> Counter:
    eng = create_engine(f"sqlite:///{s.data_dir / 'ioffice.sqlite'}")
    with eng.connect() as c:
        rows = c.execute(text("SELECT ma_ho_so FROM documents WHERE ma_ho_so IS NOT NULL")).all()
    eng.dispose()
    return Counter(r[0] for r in rows)


def check(s: Standins, engine, *, complete: bool = True) -> Snapshot:
    """Assert the invariants; ``complete`` = the run has caught up (nothing may be left halfway)."""
    with engine.connect() as c:
        links = list(c.execute(select(DossierLink)).mappings())
        savings = {r.dossier_code: r for r in c.execute(select(DossierTimeSavings)).mappings()}
    docs = ioffice_docs_by_dossier(s)
    snap = Snapshot(
        states=Counter(link["state"] for link in links),
        savings_rows=len(savings),
        ioffice_docs=sum(docs.values()),
    )
    assert all(n == 1 for n in docs.values()), "a dossier has more than one iOffice document"
    codes = [link["dossier_code"] for link in links]
    assert len(codes) == len(set(codes)), "a dossier has more than one link"
    for link in links:
        portal = s.portal_store.get(link["dossier_id"])
        steps = [t.get("NoiDungXuLy") for t in portal.get("task", [])]
        attachments = portal.get("attachment") or []
        if link["ioffice_doc_id"]:
            assert docs[link["dossier_code"]] == 1, (
                f"{link['dossier_code']}: transferred without a document"
            )
            if complete or link["portal_notified"]:
                assert steps.count(STEP_TRANSFERRED_VI) == 1, (
                    f"{link['dossier_code']}: transfer step x{steps.count(STEP_TRANSFERRED_VI)}"
                )
        elif complete:
            assert docs[link["dossier_code"]] == 0, f"{link['dossier_code']}: document not recorded"
        assert len(attachments) <= 1, f"{link['dossier_code']}: {len(attachments)} results attached"
        if link["attached_at"] is not None:
            snap.attached_codes.add(link["dossier_code"])
            assert len(attachments) == 1
            assert attachments[0]["document"]["codeNotation"] == link["doc_code_notation"]
            assert portal["dossierStatus"]["id"] in (9, 10)
            assert link["dossier_code"] in savings, (
                f"{link['dossier_code']}: attached but no savings row"
            )
        elif complete:
            assert not attachments, (
                f"{link['dossier_code']}: attached on the portal, not in the store"
            )
    assert set(savings) == snap.attached_codes, "savings rows differ from attached dossiers"
    return snap
