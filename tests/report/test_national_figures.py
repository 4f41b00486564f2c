"""Sync figures on a hand-made store, counted by hand (not by the code).

Received in Dec 2022 at agency A: N1 (finished on time locally; national holds it on time; record +
2 steps confirmed, lags 60 s, 120 s, 600 s), N2 (finished late locally; the national side never got
the finish: its last confirmed record is "received"; 1 record confirmed, lag 30 s; 1 step refused),
N3 at agency B (not finished; 1 record confirmed, lag 90 s). N4 received in November: outside.
A: dossiers 2, steps 2, lags [60, 120, 600, 30] -> p50 90 s = 1.5 min; local on time 1/2 = 50 %,
national 1/2 = 50 % (N2 is not late nationally, it is not finished there).
B: dossiers 1, steps 0, p50 = p95 = 1.5 min, no finished dossier -> rates None.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy.orm import Session

from lienthong.domain.timeliness import VN_TZ
from lienthong.report.national_figures import sync_figures
from lienthong.store.engine import get_engine
from lienthong.store.schema import NationalSyncDossier, NationalSyncItem

A, B = ("000.30.20.H36", "UBND xã Minh Sơn"), ("000.30.21.H36", "UBND xã Hoàng Đồng")


def vn(m: int, d: int, h: int = 9) -> datetime:
    return datetime(2022, m, d, h, tzinfo=VN_TZ)


def dossier(code, agency, received, finished=None, local="received", sent=None, national=None):
    now = datetime(2026, 1, 1, tzinfo=UTC)
    return NationalSyncDossier(
        dossier_code=code,
        agency_code=agency[0],
        agency_name=agency[1],
        next_seq=9,
        on_national=sent is not None,
        local_status=9 if finished else 4,
        local_timeliness=local,
        local_updated_at=now,
        received_at=received,
        due_at=None,
        finished_at=finished,
        sent_status=None,
        sent_timeliness=sent,
        first_seen_at=now,
        national_timeliness=national,
    )


def item(code, seq, kind, lag, agency=A, state="sent"):
    at = datetime(2022, 12, 10, tzinfo=UTC)
    return NationalSyncItem(
        dossier_code=code,
        seq=seq,
        kind=kind,
        item_key=f"{kind}:{seq}",
        agency_code=agency[0],
        body={},
        digest="d",
        state=state,
        local_at=at,
        queued_at=at,
        sent_at=at if state == "sent" else None,
        lag_seconds=lag,
        attempts=1,
    )


@pytest.fixture
def engine(store_url):
    engine = get_engine(store_url)
    with Session(engine) as s, s.begin():
        s.add_all(
            [
                dossier("N1", A, vn(12, 1), vn(12, 3), "on_time", "on_time", "on_time"),
                dossier("N2", A, vn(12, 2), vn(12, 20), "late", "received"),
                dossier("N3", B, vn(12, 5), None, "received", "received"),
                dossier("N4", A, vn(11, 28), vn(11, 29), "on_time", "on_time"),
                item("N1", 1, "record", 60),
                item("N1", 2, "step", 120),
                item("N1", 3, "step", 600),
                item("N2", 1, "record", 30),
                item("N2", 2, "step", None, state="refused"),
                item("N3", 1, "record", 90, agency=B),
                item("N4", 1, "record", 5),
            ]
        )
    return engine


def test_by_agency_counted_by_hand(engine):
    rows = {
        r["agency_code"]: r
        for r in sync_figures(engine, date(2022, 12, 1), date(2022, 12, 31), by="agency")
    }
    a, b = rows[A[0]], rows[B[0]]
    assert (a["dossiers_synced"], a["steps_synced"], a["lag_p50_minutes"]) == (2, 2, 1.5)
    assert a["local_on_time_rate"] == 50.0 and a["national_on_time_rate"] == 50.0
    assert a["finished_local"] == 2 and a["finished_national"] == 1 and a["agency_name"] == A[1]
    assert (
        b["dossiers_synced"],
        b["steps_synced"],
        b["lag_p50_minutes"],
        b["lag_p95_minutes"],
    ) == (1, 0, 1.5, 1.5)
    assert b["local_on_time_rate"] is None and b["national_on_time_rate"] is None


def test_total_and_month(engine):
    (total,) = sync_figures(engine, date(2022, 12, 1), date(2022, 12, 31))
    assert total["dossiers_synced"] == 3 and total["steps_synced"] == 2
    months = sync_figures(engine, date(2022, 11, 1), date(2022, 12, 31), by="month")
    assert [(m["month"], m["dossiers_synced"]) for m in months] == [("2022-11", 1), ("2022-12", 3)]
    with pytest.raises(ValueError):
        sync_figures(engine, date(2022, 12, 1), date(2022, 12, 31), by="procedure")
