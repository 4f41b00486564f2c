"""Result latency on the distributed topology: from the moment iOffice offers a signed ``01``
package to the moment its PDF is attached on the portal, in real time.

Runs the cluster of ``make cluster`` (CeleryExecutor, two workers, triggerer, PostgreSQL, Redis) on
fresh databases with a ``burst-N`` day of dossiers, drives the stand-ins' clock so issued decisions
trickle in, and reads both stamps from the stand-ins (``/_admin/documents``: ``offered_real`` and
``first_listed_real`` of each package; ``/_admin/results``: ``attached_real``). Latencies are also
split by whether a ``signed_results`` sensor was waiting (deferred) when the package was offered,
taken from the metadata DB: the gap between runs is reported apart from the time inside a run.

    make bench-cluster
    .venv/bin/python benchmarks/cluster_latency.py [--n 400] [--poll 5]   # the same, with options

Writes benchmarks/results/cluster_latency.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import psycopg2  # noqa: E402

from lienthong_devstack.cluster import Cluster, ClusterConfig  # noqa: E402
from lienthong_devstack.services import drop_database  # noqa: E402
from lienthong_standins.remote import RemoteStandins  # noqa: E402


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def summary(values: list[float]) -> dict[str, float]:
    if not values:
        return {"n": 0}
    return {
        "n": len(values),
        "p50": round(pct(values, 0.5), 2),
        "p95": round(pct(values, 0.95), 2),
        "max": round(max(values), 2),
        "mean": round(statistics.fmean(values), 2),
    }


def sensor_windows(metadata_url: str) -> list[tuple[float, float]]:
    """Real-time intervals during which a ``wait_for_result_packages`` instance was running or
    deferred."""
    conn = psycopg2.connect(metadata_url.replace("postgresql+psycopg2", "postgresql"))
    with conn, conn.cursor() as cur:
        cur.execute(
            "SELECT start_date, end_date FROM task_instance WHERE dag_id='signed_results' "
            "AND task_id='wait_for_result_packages' AND start_date IS NOT NULL"
        )
        rows = cur.fetchall()
    conn.close()
    now = datetime.now(UTC)
    return [(s.timestamp(), (e or now).timestamp()) for s, e in rows]


def run_cost(metadata_url: str) -> dict[str, float]:
    """What the results DAG cost while it ran: runs per hour, and worker-seconds per hour of the
    tasks that hold a worker slot (a deferred sensor holds none: its time in the triggerer is not
    counted)."""
    conn = psycopg2.connect(metadata_url.replace("postgresql+psycopg2", "postgresql"))
    with conn, conn.cursor() as cur:
        cur.execute(
            "SELECT min(start_date), max(coalesce(end_date, now())), count(*) FROM dag_run "
            "WHERE dag_id='signed_results' AND start_date IS NOT NULL"
        )
        first, last, runs = cur.fetchone()
        cur.execute(
            "SELECT coalesce(sum(duration), 0) FROM task_instance WHERE dag_id='signed_results' "
            "AND task_id='attach_signed_results'"
        )
        attach_seconds = float(cur.fetchone()[0])
    conn.close()
    hours = max((last - first).total_seconds(), 1.0) / 3600 if first else 1.0
    return {
        "results_runs": runs,
        "results_runs_per_hour": round(runs / hours, 1),
        "attach_worker_seconds_per_hour": round(attach_seconds / hours, 1),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument(
        "--n", type=int, default=400, help="dossiers in the day (about 40 %% are decisions)"
    )
    ap.add_argument("--poll", type=float, default=5.0, help="the sensor's poll interval, seconds")
    ap.add_argument("--wait", type=float, default=50.0, help="the sensor's wait_seconds")
    ap.add_argument("--min-results", type=int, default=100)
    ap.add_argument(
        "--mode",
        choices=("sensor", "watcher"),
        default="sensor",
        help="signed_results on a cron with a deferred sensor, or on an AssetWatcher (README)",
    )
    ap.add_argument(
        "--kill-triggerer",
        action="store_true",
        help="SIGKILL the triggerer mid-day and start it again 10 s later (nothing may be lost)",
    )
    args = ap.parse_args()

    cfg = ClusterConfig.isolated(
        ROOT,
        "bench",
        3,
        scenario=f"burst-{args.n}",
        speed=0.0,
        fresh=True,
        paused_dags=("dossier_reconcile", "savings_report", "dossier_backfill"),
        tuning={
            "LIENTHONG_INTAKE_CRON": "*/1 * * * *",
            "LIENTHONG_RESULTS_CRON": "*/1 * * * *",
            "LIENTHONG_RESULTS_POLL_SECONDS": str(args.poll),
            "LIENTHONG_RESULTS_WAIT_SECONDS": str(args.wait),
            "LIENTHONG_RESULTS_MODE": args.mode,
        },
    )
    cluster = Cluster(cfg)
    started = time.monotonic()
    try:
        cluster.prepare()
        cluster.start_airflow()
        s = RemoteStandins(cfg.portal_url, cfg.ioffice_root)
        # About 3 simulated minutes per real second: the day's issued decisions arrive over ~5
        # minutes.
        killed_at = None
        while s.clock()[:16] < "2022-12-02T17:00":
            s.advance(180)
            time.sleep(1.0)
            if args.kill_triggerer and killed_at is None and s.clock()[:16] >= "2022-12-02T11:00":
                cluster.kill("triggerer")
                killed_at = time.time()
                time.sleep(10.0)  # packages keep arriving while no triggerer runs
                cluster.start("triggerer")
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            docs = s.documents()
            pending = sum(p["state"] == "pending" for d in docs for p in d["packages"])
            attached = sum(bool(r["attachments"]) for r in s.results()["dossiers"])
            if pending == 0 and attached >= min(
                args.min_results, sum(d["state"] == "issued" for d in docs)
            ):
                break
            time.sleep(3)
        docs, results = s.documents(), s.results()["dossiers"]
        windows = sensor_windows(cluster.metadata_url)
        cost = run_cost(cluster.metadata_url)
    finally:
        cluster.stop()
        for name in (cfg.metadata_db, cfg.store_db):
            drop_database(cfg.pg_admin_url, name)

    attached_at = {
        r["code"]: r["attachments"][0]["attached_real"] for r in results if r["attachments"]
    }
    from_offer, from_listing, inside, between = [], [], [], []
    for d in docs:
        issued = [p for p in d["packages"] if p["LoaiKetQua"] == "01"]
        if not issued or d["MaHoSo"] not in attached_at:
            continue
        offered, listed = issued[-1]["offered_real"], issued[-1]["first_listed_real"]
        latency = attached_at[d["MaHoSo"]] - offered
        from_offer.append(latency)
        if listed:
            from_listing.append(attached_at[d["MaHoSo"]] - listed)
        (inside if any(a <= offered < b for a, b in windows) else between).append(latency)
    figures = {
        "poll_seconds": args.poll,
        "wait_seconds": args.wait,
        "schedule": "*/1 * * * *",
        "results_attached": len(from_offer),
        "offered_to_attached": summary(from_offer),
        "first_listed_to_attached": summary(from_listing),
        "offered_while_sensor_waiting": summary(inside),
        "offered_between_runs": summary(between),
        "target_p95_while_waiting": args.poll + 5,
        "mode": args.mode,
        "triggerer_killed": killed_at is not None,
        "issued_not_attached": sum(
            1 for d in docs if d["state"] == "issued" and d["MaHoSo"] not in attached_at
        ),
        **cost,
        "wall_seconds": round(time.monotonic() - started),
    }
    out = ROOT / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "cluster_latency.json").write_text(json.dumps(figures, indent=2))
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
