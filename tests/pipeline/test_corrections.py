"""Decisions corrected after issuance, through the real stand-ins: iOffice replaces or revokes an
issued decision (as edXML's messages do); the link puts the replacing result in place, or takes
the revoked one off, with a step; the history keeps both versions' hashes; the national record
follows; the savings row is never counted twice; a revoked decision of a returned dossier is
listed for a person. Each remote write is killed once and the run repeated: nothing twice."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import func, select

from lienthong.pipeline import results
from lienthong.reconcile.watchlists import revoked_after_return
from lienthong.store.schema import DossierLink, DossierTimeSavings, Quarantine, ResultVersion
from tests.conftest import on_store

from .test_crash import Crash, crash_after, heal
from .test_flow import CTX, HOUR, drive, run_intake
from .test_national_sync import national_records, sync_until_idle

pytestmark = [pytest.mark.scenario("burst-60"), on_store("postgres")]


def attached(res, state: str = "attached") -> list[DossierLink]:
    with res.session() as s:
        return list(
            s.scalars(
                select(DossierLink)
                .where(DossierLink.state == state, DossierLink.result_kind == "decision")
                .order_by(DossierLink.dossier_code)
            )
        )


def results_on_portal(res, link: DossierLink) -> list[str]:
    doc = res.portal.get_dossier(link.dossier_id)
    return [(a.get("document") or {}).get("codeNotation") for a in doc["attachment"]]


def steps_on_portal(res, link: DossierLink, needle: str) -> int:
    doc = res.portal.get_dossier(link.dossier_id)
    return sum(needle in (t.get("NoiDungXuLy") or "") for t in doc["task"])


def run_results_killed_after(res, method: str) -> None:
    """One results run that dies right after ``method``'s remote effect, then the repeat."""
    crash_after(res.portal, method)
    with pytest.raises(Crash):
        results.process_packages(res, CTX)
    heal(res.portal, method)
    results.process_packages(res, CTX)


@pytest.mark.parametrize(
    "killed_after", ["attach_result_once", "withdraw_result_once", "add_step_once"]
)
def test_a_replacing_decision_takes_the_attached_ones_place_once(standins, nres, killed_after):
    drive(standins, nres, days=3)
    link = attached(nres)[0]
    old_doc, old_notation, old_sha = link.ioffice_doc_id, link.doc_code_notation, link.result_sha256
    new_doc = standins.replace(old_doc, "Sai năm sinh của người được cấp")
    run_results_killed_after(nres, killed_after)

    with nres.session() as s:
        now = s.get(DossierLink, link.id)
        versions = {
            v.ioffice_doc_id: v
            for v in s.scalars(
                select(ResultVersion).where(ResultVersion.dossier_code == link.dossier_code)
            )
        }
        savings = s.scalar(
            select(func.count())
            .select_from(DossierTimeSavings)
            .where(DossierTimeSavings.dossier_code == link.dossier_code)
        )
    assert now.ioffice_doc_id == new_doc and now.state == "attached"
    assert now.doc_code_notation != old_notation
    assert results_on_portal(nres, link) == [
        now.doc_code_notation
    ]  # the new one, once; the old gone
    assert steps_on_portal(nres, link, "thay thế văn bản") == 1
    assert set(versions) == {old_doc, new_doc}
    assert versions[old_doc].sha256 == old_sha and versions[old_doc].replaced_by == new_doc
    signed = standins.ioffice_store.current_package(new_doc).document.pdf_signed
    assert versions[new_doc].sha256 == now.result_sha256 == hashlib.sha256(signed).hexdigest()
    assert savings == 1
    results.process_packages(nres, CTX)  # delivered again: nothing changes
    assert results_on_portal(nres, link) == [now.doc_code_notation]
    assert steps_on_portal(nres, link, "thay thế văn bản") == 1

    # The national record carries the new result and the step, not the old result.
    run_intake(nres)
    sync_until_idle(nres)
    record = national_records(standins)[link.dossier_code]
    papers = record["HoSo"].get("DanhSachGiayToKetQua") or []
    assert [p.get("MaGiayToKetQua") or p.get("TenGiayTo") for p in papers]
    assert not any(old_notation in str(p) for p in papers)
    assert any(now.doc_code_notation in str(p) for p in papers)
    assert any("thay thế" in (t.get("NoiDungXuLy") or "") for t in record["TienDo"])


@pytest.mark.parametrize("killed_after", ["withdraw_result_once", "add_step_once"])
def test_a_revoked_decision_is_taken_off_once_and_a_returned_one_listed(
    standins, nres, killed_after
):
    drive(standins, nres, days=4)
    link = attached(nres)[0]
    standins.revoke(link.ioffice_doc_id, "Ban hành không đúng thẩm quyền")
    run_results_killed_after(nres, killed_after)
    with nres.session() as s:
        now = s.get(DossierLink, link.id)
        version = s.get(ResultVersion, (link.dossier_code, link.ioffice_doc_id))
        savings = s.scalar(
            select(func.count())
            .select_from(DossierTimeSavings)
            .where(DossierTimeSavings.dossier_code == link.dossier_code)
        )
    assert (
        now.state == "revoked"
        and version.revoked_at is not None
        and not version.revoked_after_return
    )
    assert version.sha256 == link.result_sha256  # the history keeps the revoked file's digest
    assert results_on_portal(nres, link) == []
    assert steps_on_portal(nres, link, "đã bị thu hồi") == 1
    assert savings == 1
    results.process_packages(nres, CTX)
    assert steps_on_portal(nres, link, "đã bị thu hồi") == 1
    run_intake(nres)  # the national record follows: no result paper, the revocation's step
    sync_until_idle(nres)
    record = national_records(standins)[link.dossier_code]
    assert not any(
        link.doc_code_notation in str(p) for p in record["HoSo"].get("DanhSachGiayToKetQua") or []
    )
    assert any("đã bị thu hồi" in (t.get("NoiDungXuLy") or "") for t in record["TienDo"])

    # A decision revoked after the citizen had it: nothing changed on the portal, listed.
    returned = attached(nres, "returned")
    assert returned, "the desk returned no dossier in the scenario"
    closed = returned[0]
    before = nres.portal.get_dossier(closed.dossier_id)
    standins.revoke(closed.ioffice_doc_id, "Phát hiện sai sót sau khi trả kết quả")
    results.process_packages(nres, CTX)
    assert nres.portal.get_dossier(closed.dossier_id)["attachment"] == before["attachment"]
    with nres.session() as s:
        listed = [r.dossier_code for r in revoked_after_return(s)]
    assert listed == [closed.dossier_code]


def test_bad_corrections_are_quarantined(standins, nres):
    """A replacement naming a document that is not the dossier's, and a revocation of a decision
    never attached: quarantined with their reasons; the dossiers' results stay as they were."""
    drive(standins, nres, days=3)
    first, other = attached(nres)[:2]
    standins.replace(first.ioffice_doc_id, "Đính chính", names=other.ioffice_doc_id)
    standins.advance(2 * HOUR)
    results.process_packages(nres, CTX)
    # A dossier whose decision is issued, then revoked before the link took it up.
    standins.advance(10 * HOUR)
    run_intake(nres)
    for _ in range(12):
        standins.advance(4 * HOUR)
        pending = standins.ioffice_store.pending_packages()
        issued = [v for v in pending if v.package.loai_ket_qua == "01" and not v.document.replaces]
        if issued:
            break
    assert issued, "no decision issued in the scenario's days"
    standins.revoke(issued[0].document.ma_van_ban, "Thu hồi trước khi gắn")
    results.process_packages(nres, CTX)
    with nres.session() as s:
        reasons = {
            q.reason_code: q
            for q in s.scalars(select(Quarantine).where(Quarantine.status == "open"))
        }
        unchanged = s.get(DossierLink, first.id)
    assert (
        "replaces_unknown" in reasons
        and "không phải kết quả" in reasons["replaces_unknown"].reason_vi
    )
    assert "revoked_unattached" in reasons
    assert unchanged.ioffice_doc_id == first.ioffice_doc_id
    assert results_on_portal(nres, first) == [first.doc_code_notation]
