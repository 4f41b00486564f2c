"""National sync against the real DVCQG stand-in: the national record ends equal to the local one
(status, dates, steps in order, no duplicates) through faults, crashes and refusals.

The expected record is read straight from the portal's JSON here, not through the product's
mapping, so a mapping error cannot hide itself. The outbox is sent and settled only by the holder
of its claim.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime, timedelta

import pytest
import requests
from sqlalchemy import select, update

from lienthong.clients.errors import MalformedAnswer, Unreachable
from lienthong.domain.national_record import ItemState
from lienthong.pipeline import intake, national_sync, replay, results
from lienthong.store import claims
from lienthong.store.schema import NationalSyncItem, NationalSyncUnread, Quarantine
from lienthong_standins.portal.store import dossiers
from tests.conftest import on_store

from .test_flow import CTX, HOUR, run_intake

EPOCH = datetime(2000, 1, 1).astimezone()
STEP_FIELDS = (
    "NguoiXuLy",
    "ChucDanh",
    "ThoiDiemXuLy",
    "PhongBanXuLy",
    "NoiDungXuLy",
    "TrangThai",
    "NgayBatDau",
    "NgayKetThucTheoQuyDinh",
)
TRANSIENT = (Unreachable, MalformedAnswer)  # what Airflow would retry


def sync(res) -> dict[str, int]:
    """One national_sync run, as the DAG's task makes it; an outage fails the run (Airflow
    retries)."""
    try:
        return national_sync.sync(res, CTX, timedelta(minutes=10), pause=0.05)
    except TRANSIENT as exc:
        return {"run_failed": 1, type(exc).__name__: 1}


def national_records(standins) -> dict[str, dict]:
    root = standins.national_url.rsplit("/api/", 1)[0]
    body = requests.get(f"{root}/_admin/records", timeout=30).json()
    return {r["MaHoSo"]: r for r in body}


def national_time(value: str | None) -> str:
    if not value:
        return ""
    return datetime.fromisoformat(value.replace("+0700", "+07:00")).strftime("%Y%m%d%H%M%S")


def portal_dossiers(res) -> list[dict]:
    return list(res.portal.iter_updated(EPOCH, None))


def mismatches(res, standins, codes: set[str] | None = None) -> list[str]:
    """Every way the national record differs from the portal's dossier (empty: equal)."""
    held = national_records(standins)
    out = []
    for raw in portal_dossiers(res):
        code = raw["code"]
        if codes is not None and code not in codes:
            continue
        rec = held.get(code)
        if rec is None:
            out.append(f"{code}: not on the national portal")
            continue
        hoso = rec["HoSo"]
        expected = {
            "TrangThaiHoSo": str(raw["dossierStatus"]["id"]),
            "NgayTiepNhan": national_time(raw["acceptedDate"]),
            "NgayHenTra": national_time(raw.get("appointmentDate") or raw.get("dueDate")),
            "NgayKetThucXuLy": national_time(raw.get("completedDate")),
            "NgayTra": national_time(raw.get("returnedDate")),
            "MaTTHC": raw["procedure"]["code"],
            "DonViXuLy": raw["agency"]["code"],
        }
        for key, value in expected.items():
            if hoso.get(key) != value:
                out.append(f"{code}: {key} national {hoso.get(key)!r} local {value!r}")
        local_steps = [tuple(str(t.get(f, "")) for f in STEP_FIELDS) for t in raw.get("task") or []]
        national_steps = [tuple(str(s.get(f, "")) for f in STEP_FIELDS) for s in rec["TienDo"]]
        if national_steps != local_steps:
            out.append(
                f"{code}: steps national {len(national_steps)} local {len(local_steps)} "
                f"(equal as sets: {sorted(national_steps) == sorted(local_steps)})"
            )
    return out


def drive_with_sync(standins, res, days: int = 2) -> Counter:
    """The demo day as the DAGs run it: intake, results, and national sync after each."""
    totals: Counter = Counter()
    standins.advance(10 * HOUR)
    run_intake(res)
    intake.complete_pending(res, CTX)
    totals.update(sync(res))
    for _ in range(days * 3):
        standins.advance(8 * HOUR)
        results.process_packages(res, CTX)
        run_intake(res)
        intake.complete_pending(res, CTX)
        totals.update(sync(res))
    return totals


def sync_until_idle(res, rounds: int = 5) -> None:
    for _ in range(rounds):
        sync(res)
        with res.session() as session:
            open_items = session.scalars(
                select(NationalSyncItem.id).where(
                    NationalSyncItem.state.in_((ItemState.PENDING, ItemState.SENDING))
                )
            ).all()
        if not open_items:
            return
    raise AssertionError(f"{len(open_items)} items still not sent")


@on_store("sqlite")  # a long flow: the demo's backend; the store's exactly-once is tested on both
def test_demo_day_with_faults_ends_equal_to_local(standins, nres):
    rules = [
        {"endpoint": "/api/dvcqg/DongBoHoSoMC", "kind": "5xx", "rate": 0.15},
        {"endpoint": "/api/dvcqg/CapNhatTienDoHoSoMC", "kind": "5xx", "rate": 0.15},
        {"endpoint": "/api/dvcqg/", "kind": "reset", "rate": 0.08},
        {"endpoint": "/api/dvcqg/DongBoHoSoMC", "kind": "duplicate", "rate": 0.15},
        {"endpoint": "/api/dvcqg/CapNhatTienDoHoSoMC", "kind": "duplicate", "rate": 0.2},
        {"endpoint": "/api/dvcqg/", "kind": "expired_token", "rate": 0.1},
    ]
    standins.faults("national", rules, seed=11)
    totals = drive_with_sync(standins, nres, days=1)
    fired = requests.get(
        standins.national_url.rsplit("/api/", 1)[0] + "/_admin/stats", timeout=10
    ).json()
    for kind in ("5xx", "reset", "duplicate", "expired_token"):
        assert fired["faults_fired"].get(kind, 0) > 0, kind
    standins.faults("national", [])
    sync_until_idle(nres)
    assert totals["steps_found_held"] + totals["steps_resent"] > 0  # lost answers were settled
    assert nres.national.relogins > 0
    assert mismatches(nres, standins) == []
    with nres.session() as session:
        assert (
            session.scalars(select(Quarantine).where(Quarantine.source == "national_sync")).all()
            == []
        )
        states = Counter(session.scalars(select(NationalSyncItem.state)).all())
    assert set(states) <= {"sent", "superseded"}
    # every dossier the link knows is on the national portal
    assert len(national_records(standins)) == len(portal_dossiers(nres)) > 100


def test_each_run_twice_sends_nothing_new(standins, nres):
    standins.advance(10 * HOUR)
    first = sync(nres)
    assert first["records_sent"] > 100 and first["steps_sent"] >= first["records_sent"]
    again = sync(nres)
    assert again.get("records_sent", 0) == 0 and again.get("steps_sent", 0) == 0
    assert mismatches(nres, standins) == []


def _edit_portal_doc(standins, dossier_id: str, edit) -> None:
    store = standins.portal_store
    doc = store.get(dossier_id)
    edit(doc)
    stamp = store.now_ms()
    doc["updatedDate"] = (
        datetime.fromtimestamp(stamp / 1000).astimezone().isoformat(timespec="milliseconds")
    )
    with store.engine.begin() as c:
        c.execute(
            update(dossiers)
            .where(dossiers.c.id == dossier_id)
            .values(
                doc=json.dumps(doc, ensure_ascii=False),
                updated_ms=stamp,
                status=doc["dossierStatus"]["id"],
            )
        )


def test_refused_kinds_are_quarantined_with_their_reasons(standins, nres):
    standins.advance(10 * HOUR)
    raws = portal_dossiers(nres)
    long_name, no_due, backwards, lost, fine = raws[0], raws[1], raws[2], raws[3], raws[4]
    # a dossier whose due date is missing: the national record requires NgayHenTra
    _edit_portal_doc(standins, no_due["id"], lambda d: d.update(appointmentDate=None, dueDate=None))
    sync(nres)
    # a step whose official's name is over 50 characters
    standins.advance(60)
    step = dict(
        long_name["task"][0], NguoiXuLy="Nguyễn Văn " + "Trường" * 9, NoiDungXuLy="Thẩm định hồ sơ"
    )
    step.pop("id", None)
    step.pop("createdDate", None)
    standins.portal_store.add_step(long_name["id"], step)
    # finished, then sent back to processing on the portal: the national status would go backwards
    for status in (4, 9):
        nres.portal.set_status_once(backwards["id"], status)
    sync(nres)
    nres.portal.set_status_once(backwards["id"], 4)
    # a dossier the national side lost, then a new step for it
    root = standins.national_url.rsplit("/api/", 1)[0]
    requests.delete(f"{root}/_admin/records/{lost['code']}", timeout=10).raise_for_status()
    standins.advance(60)
    standins.portal_store.add_step(
        lost["id"], dict(step, NguoiXuLy="Lê Thị Hoa", NoiDungXuLy="Bổ sung ý kiến")
    )
    standins.portal_store.add_step(
        fine["id"], dict(step, NguoiXuLy="Lê Thị Hoa", NoiDungXuLy="Thẩm định")
    )
    counts = sync(nres)
    assert (
        counts["steps_sent"] == 1 and counts["steps_refused"] == 1
    )  # one refusal stops nothing else
    with nres.session() as session:
        open_q = {
            q.dossier_code: q
            for q in session.scalars(
                select(Quarantine).where(
                    Quarantine.source == "national_sync", Quarantine.status == "open"
                )
            )
        }
    assert {code: q.reason_code for code, q in open_q.items()} == {
        no_due["code"]: "national_missing_field",
        long_name["code"]: "national_too_long",
        backwards["code"]: "national_status_backwards",
        lost["code"]: "national_unknown_dossier",
    }
    assert "NgayHenTra" in open_q[no_due["code"]].reason_vi
    assert all(q.reason_vi.startswith("Cổng DVCQG từ chối") for q in open_q.values())
    # everything else is equal on both sides
    others = {r["code"] for r in raws} - set(open_q)
    assert mismatches(nres, standins, others) == []
    # the lost dossier is fixed by a replay: a fresh record, then the step
    outcome = replay.replay(nres, CTX, open_q[lost["code"]].id)
    assert outcome.status == "resolved"
    assert mismatches(nres, standins, {lost["code"]}) == []


def test_a_dossier_the_national_side_lost_is_recreated_whole(standins, nres):
    standins.advance(10 * HOUR)
    sync(nres)
    raw = portal_dossiers(nres)[5]
    requests.delete(
        f"{standins.national_root}/_admin/records/{raw['code']}", timeout=10
    ).raise_for_status()
    nres.portal.set_status_once(raw["id"], 4)  # a change: its record update finds the dossier gone
    counts = sync(nres)
    assert counts["dossiers_recreated"] == 1
    assert mismatches(nres, standins) == []  # the record, and every earlier step, are back in order


def test_a_dossier_unreadable_when_it_changed_is_read_again_until_it_reads(standins, nres):
    """The portal serves some dossiers malformed (each variant of the corpus) while the sync's
    cursor moves past them: none is sent as served; each is remembered, read again by every run, and
    synced once it reads."""
    standins.faults(
        "portal", [{"endpoint": "/pa/dossier", "kind": "malformed", "rate": 0.1}], seed=5
    )
    standins.advance(10 * HOUR)
    first = sync(nres)
    served = requests.get(f"{standins.portal_url}/_admin/stats", timeout=10).json()[
        "faulted_items"
    ]["malformed"]
    assert first["unreadable"] == len(served) > 3
    assert len(national_records(standins)) == len(portal_dossiers(nres)) - len(served)
    standins.faults("portal", [])
    again = sync(nres)  # read again: by the cursor's overlap, or from the list of unread dossiers
    assert again["reread"] > 0 and again.get("reread_still_unreadable", 0) == 0
    with nres.session() as session:
        assert session.scalars(select(NationalSyncUnread)).all() == []
    assert mismatches(nres, standins) == []
    assert sync(nres).get("reread", 0) == 0  # nothing left to read again


@pytest.mark.scenario("burst-20")
def test_a_sending_item_under_a_live_lease_is_left_to_its_sender(standins, nres):
    standins.advance(10 * HOUR)
    run_intake(nres)
    national_sync.observe(nres, CTX, timedelta(minutes=10))
    with nres.session() as session:
        item = session.scalar(
            select(NationalSyncItem).where(NationalSyncItem.state == ItemState.PENDING).limit(1)
        )
        session.execute(
            update(NationalSyncItem)
            .where(NationalSyncItem.id == item.id)
            .values(state=ItemState.SENDING)
        )
    held_by_other = claims.acquire(
        nres.engine, national_sync.OUTBOX_CLAIM, "another-sync", timedelta(seconds=60)
    )
    assert held_by_other
    counts = national_sync.send_pending(nres, CTX, pause=0.05)
    assert counts == {"send_busy": 1}
    with nres.session() as session:
        assert (
            session.get(NationalSyncItem, item.id).state == ItemState.SENDING
        )  # not taken for a leftover
    claims.release(nres.engine, "another-sync")
    counts = national_sync.send_pending(nres, CTX, pause=0.05)
    assert counts["records_sent"] >= 1
    with nres.session() as session:
        assert session.get(NationalSyncItem, item.id).state == ItemState.SENT
