"""Portal writes whose answer is lost are read back, never repeated blindly; a step is known by its
content and its time, so a legitimate second step with the same text is kept. Against a lenient
portal (it takes duplicates), so nothing here leans on the portal refusing a repeat."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from lienthong.domain.dossier import ResultDocument, Step
from lienthong.domain.vocabulary import DossierStatus

HOUR = 3600
SECOND_LOOK_VI = "Đã xem xét lại hồ sơ"


def a_dossier(standins, res) -> dict:
    standins.advance(10 * HOUR)
    raw = next(iter(res.portal.iter_updated(datetime(2000, 1, 1, tzinfo=UTC))))
    return raw


def steps_with(res, dossier_id: str, content: str) -> int:
    return sum(
        1 for t in res.portal.get_dossier(dossier_id)["task"] if t.get("NoiDungXuLy") == content
    )


@pytest.mark.scenario("burst-5")
def test_a_step_whose_answer_is_lost_is_written_once(standins, res):
    raw = a_dossier(standins, res)
    standins.behaviour("portal", permissive=True)
    standins.faults(
        "portal", [{"endpoint": f"/pa/dossier/{raw['id']}/step", "kind": "lost_answer"}]
    )
    step = Step(raw["code"], SECOND_LOOK_VI, DossierStatus.PROCESSING, datetime.now(UTC))
    assert res.portal.add_step_once(raw["id"], step) is True
    standins.faults("portal", [])
    assert steps_with(res, raw["id"], SECOND_LOOK_VI) == 1
    assert res.portal.add_step_once(raw["id"], step) is False  # the same step again: recognised
    assert steps_with(res, raw["id"], SECOND_LOOK_VI) == 1


@pytest.mark.scenario("burst-5")
def test_a_second_step_with_the_same_text_is_kept(standins, res):
    raw = a_dossier(standins, res)
    first = datetime.now(UTC)
    res.portal.add_step_once(
        raw["id"], Step(raw["code"], SECOND_LOOK_VI, DossierStatus.PROCESSING, first)
    )
    assert (
        res.portal.add_step_once(
            raw["id"],
            Step(raw["code"], SECOND_LOOK_VI, DossierStatus.PROCESSING, first + timedelta(hours=2)),
        )
        is True
    )
    assert steps_with(res, raw["id"], SECOND_LOOK_VI) == 2


@pytest.mark.scenario("burst-5")
def test_an_attachment_whose_answer_is_lost_is_attached_once(standins, res):
    raw = a_dossier(standins, res)
    standins.behaviour("portal", permissive=True)
    standins.faults(
        "portal", [{"endpoint": f"/pa/dossier/{raw['id']}/result", "kind": "lost_answer"}]
    )
    doc = ResultDocument(
        code_notation="15/QĐ-UBND",
        doc_type="QĐ",
        subject="Quyết định thử",
        signer="Lãnh đạo",
        promulgated_on=datetime(2022, 12, 1, tzinfo=UTC),
        sha256="0" * 64,
    )
    file_id, attached_now = res.portal.attach_result_once(
        raw["id"], "qd.pdf", b"%PDF-1.7 test", doc
    )
    standins.faults("portal", [])
    assert attached_now is True
    attachments = res.portal.get_dossier(raw["id"])["attachment"]
    assert [a["id"] for a in attachments] == [file_id]


@pytest.mark.scenario("burst-5")
def test_a_status_move_whose_answer_is_lost_is_made_once(standins, res):
    raw = a_dossier(standins, res)
    standins.behaviour("portal", permissive=True)
    standins.faults(
        "portal", [{"endpoint": f"/pa/dossier/{raw['id']}/status", "kind": "lost_answer"}]
    )
    step = Step(raw["code"], SECOND_LOOK_VI, DossierStatus.PROCESSING, datetime.now(UTC))
    res.portal.set_status_once(raw["id"], DossierStatus.PROCESSING, step)
    standins.faults("portal", [])
    assert res.portal.get_dossier(raw["id"])["dossierStatus"]["id"] == DossierStatus.PROCESSING
    assert steps_with(res, raw["id"], SECOND_LOOK_VI) == 1
