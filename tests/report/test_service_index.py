"""The service index of Decision 766/QĐ-TTg as the link computes it, counted by hand: on-time as
the national formula judges it (pending dossiers still within their date count as on time at the
end of the month), electronic results, dossiers synced to the national portal; rates and scores."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from lienthong.report.service_index import INDICATORS, NOT_COMPUTED_VI, index_rows


def at(day: str, hour: int = 3) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


def row(received, due, finished=None, status=4, kind="decision", attached=None, synced=True):
    return {
        "agency_code": "000.30.07.H36",
        "agency_name": "Phòng Tài chính - Kế hoạch",
        "result_kind": kind,
        "portal_status": status,
        "received_at": at(received),
        "due_at": at(due, 10) if due else None,
        "finished_at": at(finished) if finished else None,
        "attached_at": at(finished) if attached else None,
        "on_national": synced,
    }


ROWS = [
    row("2023-03-01", "2023-03-10", "2023-03-09", status=9, attached=True),  # early, e-result
    row("2023-03-02", "2023-03-10", "2023-03-10", status=10, attached=True),  # on the day
    row("2023-03-03", "2023-03-10", "2023-03-14", status=9, attached=False),  # late, paper
    row("2023-03-20", "2023-04-05"),  # pending, due next month: on time at the end of March
    row("2023-03-21", "2023-03-28"),  # pending, past due at the end of March: overdue
    row("2023-03-22", "2023-03-24", "2023-04-03", status=9, attached=True),  # late, next month
    row("2023-03-23", "2023-03-30", "2023-03-29", status=10, kind="direct", synced=False),
    row("2023-03-24", None, status=1),  # submitted, never received: not counted
]


def test_counts_rates_and_scores_by_hand():
    frame = index_rows(ROWS, date(2023, 4, 30))
    assert len(frame) == 1
    march = frame.iloc[0].to_dict()
    assert march["month"] == "2023-03" and march["received"] == 7
    # On time: early, on the day, pending within date, direct on time = 4 of 7. The dossier
    # finished in April (late) is judged at 31 March: still pending and past its date: overdue.
    assert march["in_time"] == 4 and march["overdue"] == 3
    assert march["on_time_pct"] == 57.1  # one decimal, as every rate of the reports
    assert march["on_time_score"] == pytest.approx(round(20 * 4 / 7, 2))
    # Electronic results among decision dossiers finished (by now): 3 of 4 (one on paper only).
    assert march["decisions_finished"] == 4 and march["e_results"] == 3
    assert march["e_result_pct"] == 75.0 and march["e_result_score"] == 4.5
    assert march["synced"] == 6 and march["synced_score"] == pytest.approx(round(6 * 6 / 7, 2))


def test_the_index_says_what_it_cannot_compute():
    assert [i.points for i in INDICATORS] == [20, 6, 6]
    assert any("thanh toán trực tuyến" in name for name, _ in NOT_COMPUTED_VI)
