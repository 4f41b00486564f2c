"""``quarantine_replay`` through ``dag.test()``: the form's items are replayed on a worker, once,
and each replay is audited with the run's triggering user and the reason given."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from lienthong.store.engine import get_engine
from lienthong.store.schema import LinkEvent, Quarantine
from lienthong_standins.harness import make_resources
from tests.conftest import on_store
from tests.pipeline.test_flow import HOUR, run_intake


@on_store("sqlite")
def test_replay_dag_resolves_the_named_items_and_audits_them(dagbag, linked_airflow, store_url):
    standins = linked_airflow
    standins.faults(
        "portal",
        [{"endpoint": "/pa/dossier", "kind": "malformed", "variant": "broken_date", "rate": 0.2}],
        seed=3,
    )
    standins.advance(10 * HOUR)
    res = make_resources(standins, store_url)
    try:
        run_intake(res)
    finally:
        res.close()
    engine = get_engine(store_url)
    with Session(engine) as s:
        items = list(s.scalars(select(Quarantine).order_by(Quarantine.id)))
    assert len(items) >= 3
    chosen, left = [q.id for q in items[:2]], items[2:]
    standins.faults("portal", [])

    dag = dagbag.get_dag("quarantine_replay")
    conf = {"quarantine_ids": chosen + [999999], "reason": "cổng đã sửa dữ liệu"}
    assert str(dag.test(run_conf=conf).state) == "success"
    assert (
        str(dag.test(run_conf=conf).state) == "success"
    )  # again: nothing left to do, nothing doubled
    with Session(engine) as s:
        status = {q.id: q.status for q in s.scalars(select(Quarantine))}
        audit = [
            e.detail
            for e in s.scalars(
                select(LinkEvent).where(LinkEvent.kind == "operator_action").order_by(LinkEvent.id)
            )
        ]
    assert [status[i] for i in chosen] == ["resolved", "resolved"]
    assert all(status[q.id] == "open" for q in left)  # only what the form named
    assert [(a["actor"], a["target"], a["outcome"], a["reason"]) for a in audit[:3]] == [
        ("dag_test", f"quarantine#{chosen[0]}", "resolved", "cổng đã sửa dữ liệu"),
        ("dag_test", f"quarantine#{chosen[1]}", "resolved", "cổng đã sửa dữ liệu"),
        ("dag_test", "quarantine#999999", "not_found", "cổng đã sửa dữ liệu"),
    ]
    assert len(audit) == 6
