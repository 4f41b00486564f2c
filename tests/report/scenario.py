"""A small hand-made store: a few dossiers over March-April 2022 whose figures are counted by hand.

Expected figures (period 2022-03-01..2022-04-30), counted from the rows below, not by the code:
processed 6 (D6 is status 1), March 3 / April 3; district 10 + 20 = 30 -> 20.0% (30.0% / 15.0%);
measured: D1 30 min + D2 45 min = 1.25 h, 16,000 + 24,000 VND; article: 6 x 0.5 = 3 h, 96,000 VND;
decisions issued D1 D2 D3, attached D1 D2 -> 66.7%; early D1 D4, on time D2, late D3 -> 75.0%;
bypasses 2 (one by promulgation date, one found with no date; a third is dated June);
quarantined D9; rejected D5.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from lienthong.store.schema import (
    BypassDocument,
    DistrictTotal,
    DossierLink,
    DossierTimeSavings,
    LinkEvent,
    Quarantine,
)

VN = ZoneInfo("Asia/Ho_Chi_Minh")
A = ("UBND-MS", "UBND xã Minh Sơn")
B = ("PTNMT", "Phòng Tài nguyên và Môi trường")
P1 = ("1.001", "Cấp giấy chứng nhận đăng ký hộ kinh doanh")
P2 = ("2.002", "Cấp giấy chứng nhận quyền sử dụng đất")
P3 = ("3.003", "Chứng thực bản sao từ bản chính")


def vn(y: int, mo: int, d: int, h: int = 9, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=VN)


def _link(
    code,
    agency,
    proc,
    kind,
    state,
    status,
    received,
    *,
    due=None,
    issued=None,
    attached=None,
    finished=None,
) -> DossierLink:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    return DossierLink(
        dossier_id=f"id-{code}",
        dossier_code=code,
        agency_code=agency[0],
        agency_name=agency[1],
        procedure_code=proc[0],
        procedure_name=proc[1],
        result_kind=kind,
        state=state,
        state_changed_at=now,
        portal_status=status,
        portal_updated_at=now,
        portal_notified=True,
        payload_hash="h" * 8,
        received_at=received,
        due_at=due,
        issued_at=issued,
        attached_at=attached,
        finished_at=finished,
        created_at=now,
    )


def _saving(link: DossierLink, minutes: int, vnd: int) -> DossierTimeSavings:
    return DossierTimeSavings(
        dossier_code=link.dossier_code,
        dossier_id=link.dossier_id,
        agency_code=link.agency_code,
        agency_name=link.agency_name,
        procedure_code=link.procedure_code,
        procedure_name=link.procedure_name,
        received_at=link.received_at,
        attached_at=link.attached_at,
        finished_at=link.finished_at,
        due_at=link.due_at,
        minutes_saved=minutes,
        cost_per_hour_vnd=32_000,
        cost_saved_vnd=vnd,
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
    )


def populate(engine: Engine) -> None:
    links = {
        # early: finished the 8th, due the 10th
        "D1": _link(
            "D1",
            A,
            P1,
            "decision",
            "returned",
            10,
            vn(2022, 3, 5),
            due=vn(2022, 3, 10, 17),
            issued=vn(2022, 3, 8),
            attached=vn(2022, 3, 8, 10),
            finished=vn(2022, 3, 8, 10),
        ),
        # on time in Vietnam (16 Mar 06:00 vs due 16 Mar 08:00); in UTC it would read "early"
        "D2": _link(
            "D2",
            A,
            P1,
            "decision",
            "attached",
            9,
            vn(2022, 3, 10),
            due=vn(2022, 3, 16, 8),
            issued=vn(2022, 3, 15),
            attached=vn(2022, 3, 16, 6),
            finished=vn(2022, 3, 16, 6),
        ),
        # issued, never attached, late
        "D3": _link(
            "D3",
            B,
            P2,
            "decision",
            "issued",
            9,
            vn(2022, 4, 2),
            due=vn(2022, 4, 18, 17),
            issued=vn(2022, 4, 19),
            finished=vn(2022, 4, 20, 10),
        ),
        # signed on the papers (skipped), returned early
        "D4": _link(
            "D4",
            B,
            P3,
            "direct",
            "returned",
            10,
            vn(2022, 4, 3),
            due=vn(2022, 4, 5, 17),
            finished=vn(2022, 4, 3, 15),
        ),
        # sent back by the leader once
        "D5": _link("D5", A, P1, "decision", "rejected", 4, vn(2022, 4, 10), due=vn(2022, 4, 30)),
        # not accepted yet (status 1): not a processed dossier
        "D6": _link("D6", B, P2, "decision", "seen", 1, vn(2022, 4, 11)),
        # outside the period (May)
        "D7": _link(
            "D7",
            A,
            P1,
            "decision",
            "attached",
            9,
            vn(2022, 5, 2),
            due=vn(2022, 5, 9),
            issued=vn(2022, 5, 4),
            attached=vn(2022, 5, 4, 11),
            finished=vn(2022, 5, 4, 11),
        ),
        # 28 Feb 23:30 in Vietnam: February, outside
        "D8": _link("D8", B, P3, "direct", "skipped", 2, vn(2022, 2, 28, 23, 30)),
        # 1 Mar 00:30 in Vietnam (28 Feb in UTC): March, inside; quarantined
        "D9": _link("D9", B, P3, "direct", "quarantined", 2, vn(2022, 3, 1, 0, 30)),
    }
    with Session(engine) as s, s.begin():
        s.add_all(links.values())
        s.add_all(
            [
                _saving(links["D1"], 30, 16_000),
                _saving(links["D2"], 45, 24_000),
                _saving(links["D7"], 30, 16_000),
            ]
        )
        s.add(
            LinkEvent(
                dossier_code="D5",
                at=vn(2022, 4, 12),
                kind="transition",
                from_state="transferred",
                to_state="rejected",
                detail={},
            )
        )
        s.add(
            LinkEvent(
                dossier_code="D5",
                at=vn(2022, 4, 13),
                kind="transition",
                from_state="rejected",
                to_state="transferred",
                detail={},
            )
        )
        s.add_all(
            [
                BypassDocument(
                    ioffice_doc_id="V1",
                    agency_code=B[0],
                    agency_name=B[1],
                    promulgation_date=vn(2022, 4, 12),
                    found_at=datetime(2026, 1, 1, tzinfo=UTC),
                    found_by="package",
                ),
                BypassDocument(
                    ioffice_doc_id="V2",
                    agency_code=A[0],
                    agency_name=A[1],
                    promulgation_date=None,
                    found_at=vn(2022, 3, 20),
                    found_by="reconcile",
                ),
                BypassDocument(
                    ioffice_doc_id="V3",
                    agency_code=A[0],
                    agency_name=A[1],
                    promulgation_date=vn(2022, 6, 1),
                    found_at=vn(2022, 4, 1),
                    found_by="reconcile",
                ),
            ]
        )
        s.add_all(
            [DistrictTotal(period="2022-03", total=10), DistrictTotal(period="2022-04", total=20)]
        )
        at = datetime(2026, 1, 1, tzinfo=UTC)
        s.add_all(
            [
                Quarantine(
                    source="portal_dossier",
                    item_key="q1",
                    dossier_code="D9",
                    reason_code="bad",
                    reason_vi="Lỗi",
                    status="open",
                    first_seen_at=at,
                    last_seen_at=at,
                    payload={},
                ),
                Quarantine(
                    source="portal_dossier",
                    item_key="q2",
                    dossier_code=None,
                    reason_code="bad",
                    reason_vi="Lỗi",
                    status="resolved",
                    first_seen_at=at,
                    last_seen_at=at,
                    payload={},
                ),
            ]
        )
