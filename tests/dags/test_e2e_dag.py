"""End to end with ``dag.test()``: the two DAGs carry the demo day from intake to attached results.

Bad result files switched on in iOffice for part of the run must be quarantined, never attached.
"""

from __future__ import annotations

from sqlalchemy import MetaData, func, select

from lienthong.store.engine import get_engine
from lienthong.store.schema import DossierLink, DossierTimeSavings, Quarantine
from lienthong_standins.harness import CLIENT_SECRET, IOFFICE_TOKEN
from lienthong_standins.portal.store import SearchFilters
from lienthong_standins.routing import demo_routing
from tests.conftest import on_store
from tests.pipeline.invariants import check

HOUR = 3600
FAST = {"poll_seconds": 0.5, "wait_seconds": 5}
BAD = [
    {"endpoint": "/api/lienthong/LayGoiTinVanBan", "kind": "bad_result", "rate": 0.1, "variant": v}
    for v in ("unsigned", "tampered", "untrusted")
]


def run(dag) -> str:
    dr = dag.test(run_conf=FAST) if dag.dag_id == "signed_results" else dag.test()
    return str(dr.state)


@on_store("sqlite")  # the demo's store; the cluster e2e runs these DAGs on PostgreSQL
def test_demo_day_through_both_dags(dagbag, linked_airflow, store_url, capsys, caplog):
    standins = linked_airflow
    intake_dag, results_dag = dagbag.get_dag("dossier_intake"), dagbag.get_dag("signed_results")
    standins.advance(10 * HOUR)
    assert run(intake_dag) == "success"
    standins.faults("ioffice", BAD, seed=2)
    for _ in range(4):
        standins.advance(8 * HOUR)
        assert run(results_dag) == "success"
        assert run(intake_dag) == "success"
    standins.faults("ioffice", [])
    for _ in range(4):
        standins.advance(12 * HOUR)
        assert (
            run(results_dag) == "success"
        )  # skipped sensor (nothing pending) still ends in success
        assert run(intake_dag) == "success"

    engine = get_engine(store_url)
    snap = check(standins, engine)
    with engine.connect() as c:
        completed = c.scalar(
            select(func.count())
            .select_from(DossierLink)
            .where(DossierLink.attached_at.is_not(None))
        )
        rows = c.scalar(select(func.count()).select_from(DossierTimeSavings))
        reasons = set(
            c.scalars(select(Quarantine.reason_code).where(Quarantine.source == "ioffice_package"))
        )
        quarantined_codes = set(
            c.scalars(select(Quarantine.dossier_code).where(Quarantine.status == "open"))
        )
    assert completed == rows == len(snap.attached_codes) > 50
    assert reasons == {"unsigned", "tampered", "untrusted"}
    assert not quarantined_codes & snap.attached_codes  # and check() saw no attachment on them

    # No applicant's identity is kept by the link or written to its logs (Decree 13/2023): every
    # table of the store and every log line of the run are searched for what the portal served.

    officials = {
        person.name
        for proc in demo_routing().procedures.values()
        for unit in proc.units.values()
        for person in (unit.handler, unit.signer)
    }
    served = standins.portal_store.search(SearchFilters(), 0, 10_000, False)[0]
    identities = {
        str(v)
        for d in served
        for k, v in d["applicant"]["data"].items()
        if v and k in ("identityNumber", "phoneNumber", "email", "address")
    }
    identities |= {d["applicant"]["data"]["fullname"] for d in served} - officials
    assert len(identities) > 300

    tables = MetaData()
    tables.reflect(engine)
    with engine.connect() as c:
        stored = "\n".join(
            str(row) for table in tables.sorted_tables for row in c.execute(table.select())
        )
    captured = capsys.readouterr()
    logged = captured.out + captured.err + caplog.text
    assert (
        stored and logged
    )  # both searched texts are really there (warnings of the bad-result part)
    assert [v for v in identities if v in stored] == [], "personal data kept in the store"
    assert [v for v in identities if v in logged] == [], "personal data written to the logs"
    # Nor any secret of the Connections (given as Airflow reads them from a secrets backend: the
    # environment), in the store's events and quarantine details or in any log line.
    secrets = {CLIENT_SECRET, IOFFICE_TOKEN}
    assert all(len(secret) >= 8 for secret in secrets)
    assert [s for s in secrets if s in stored] == [], "a secret was written to the store"
    assert [s for s in secrets if s in logged] == [], "a secret was written to the logs"
