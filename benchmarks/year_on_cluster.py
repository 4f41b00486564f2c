"""A district's year through the real DAGs on the cluster: the catch-up a district makes when it
adopts the link (or after a long outage), with what each process costs.

The ``make cluster`` topology (CeleryExecutor, two workers, two schedulers, dag-processor,
triggerer, api-server; PostgreSQL, Redis) on fresh databases, the stand-ins in their own process
with the ``year-2022`` scenario and their clock on 2 January 2023: the link is adopted after the
year, every dossier of 2022 is on the portal and the decisions wait for it.

* ``dossier_intake`` catches the year up by a native Airflow backfill (``backfill create``) of its
  intervals in the range. The interval is a week (the DAG's cron, ``LIENTHONG_INTAKE_CRON``, set to
  Mondays for the catch-up): a run's cost is mostly fixed (a task process, its clients and store
  engine, the scheduler's and Celery's round trips), a week of a district is ~900 dossiers (two
  batches), and 53 runs keep the scheduler's share small; daily intervals would make 365 runs of a
  few minutes' work each. The scheduled run that follows the backfill starts from a cursor set at
  the adoption, so nothing is pulled twice.
* ``signed_results`` runs as scheduled (its asset watcher, and its cron every minute here);
  ``national_sync`` as scheduled; ``savings_report`` for the range at the end.

Measured: wall time, and until the last result was attached; CPU seconds and peak RSS per process
kind (``psutil``, sampled every 2 s over the whole process tree: task processes are the Celery pool
processes' children); DAG runs and task instances created; queued → running latency; the article's
figures read from the store.

    make bench-year                                   # the whole year
    .venv/bin/python benchmarks/year_on_cluster.py --months 3   # the first quarter

Writes benchmarks/results/year_on_cluster.json (``year_on_cluster_q1.json`` for ``--months 3``).
"""

from __future__ import annotations

import argparse
import calendar
import json
import signal
import sys
import threading
import time
from collections import defaultdict
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import psutil  # noqa: E402
import psycopg2  # noqa: E402
from sqlalchemy import func, select  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from lienthong.domain.timeliness import VN_TZ  # noqa: E402
from lienthong.report.figures import build_report  # noqa: E402
from lienthong.store import claims  # noqa: E402
from lienthong.store.district_totals import load_district_totals  # noqa: E402
from lienthong.store.engine import dispose_engine, get_engine  # noqa: E402
from lienthong.store.ledger import RunContext, set_cursor  # noqa: E402
from lienthong.store.schema import DossierLink  # noqa: E402
from lienthong_devstack.cluster import Cluster, ClusterConfig  # noqa: E402
from lienthong_devstack.services import drop_database  # noqa: E402

ADOPTED = "2023-01-02T07:30:00+07:00"  # the stand-ins' clock at the start: after the year
# The scheduled intake's cursor: where the backfill's last interval ends (Monday 2 Jan 2023 00:00).
CURSOR_AT = "2023-01-02T00:00:00+07:00"
KINDS = (
    "tasks",
    "workers",
    "scheduler",
    "dag-processor",
    "triggerer",
    "api-server",
    "postgresql",
    "redis",
    "stand-ins",
)
SETTLED = ("attached", "returned")  # a decision whose signed result is on the portal
# Still on their way: not yet sent, waiting in iOffice, signed and waiting for a number. A decision
# its leader sent back ("rejected") is settled too: it is back with the one-stop desk.
WAITING = ("seen", "transferred", "signed")


# --------------------------------------------------------------------------- process sampling


def kind_of(proc: psutil.Process, roots: dict[int, str]) -> str | None:
    """The process kind of the report: PostgreSQL and Redis by name, the cluster's components by
    the component whose process they descend from (``roots``: pid -> kind; processes rename
    themselves, so their command lines cannot tell). Under a Celery worker the main and pool
    processes are ``workers``, the task processes forked below them ``tasks``. None: none of the
    cluster's."""
    try:
        name = proc.name()
        if name.startswith("postgres"):
            return "postgresql"
        if name.startswith("redis-server"):
            return "redis"
        depth, current = 0, proc
        while current is not None and depth < 8:
            if current.pid in roots:
                kind = roots[current.pid]
                return "tasks" if kind == "workers" and depth >= 2 else kind
            current, depth = current.parent(), depth + 1
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return None
    return None


def component_kind(name: str) -> str:
    """``scheduler-2`` -> scheduler, ``worker-1`` -> workers, ``standins`` -> stand-ins."""
    if name.startswith("worker-"):
        return "workers"
    if name.startswith("scheduler-"):
        return "scheduler"
    return "stand-ins" if name == "standins" else name


class Sampler(threading.Thread):
    """CPU seconds (user + system, last seen per process) and RSS per process kind, every 2 s."""

    def __init__(self, cluster: Cluster) -> None:
        super().__init__(daemon=True)
        self.cluster = cluster
        self.cpu: dict[int, tuple[str, float]] = {}
        self.peak_rss: dict[str, int] = defaultdict(int)  # the largest single process
        self.peak_total_rss: dict[str, int] = defaultdict(int)  # the kind's processes together
        self.task_processes = 0
        self._seen_tasks: set[int] = set()
        self._halt = threading.Event()
        self.baseline: dict[int, float] = {}  # CPU already spent before the run (services)

    def run(self) -> None:
        first = True
        while not self._halt.is_set():
            self.sample(first)
            first = False
            self._halt.wait(2.0)

    def sample(self, first: bool = False) -> None:
        totals: dict[str, int] = defaultdict(int)
        roots = {
            child.proc.pid: component_kind(name)
            for name, child in list(self.cluster.children.items())
            if child.proc is not None
        }
        for p in psutil.process_iter():
            kind = kind_of(p, roots)
            if kind is None:
                continue
            try:
                t = p.cpu_times()
                rss = p.memory_info().rss
            except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                continue
            spent = t.user + t.system
            if first or (p.pid not in self.cpu and kind in ("postgresql", "redis")):
                self.baseline.setdefault(p.pid, spent)  # what the services spent before the run
            self.cpu[p.pid] = (kind, spent)
            self.peak_rss[kind] = max(self.peak_rss[kind], rss)
            totals[kind] += rss
            if kind == "tasks":
                self._seen_tasks.add(p.pid)
        for kind, rss in totals.items():
            self.peak_total_rss[kind] = max(self.peak_total_rss[kind], rss)
        self.task_processes = len(self._seen_tasks)

    def stop(self) -> None:
        self._halt.set()
        self.join(timeout=10)
        self.sample()

    def cpu_by_kind(self) -> dict[str, float]:
        out: dict[str, float] = defaultdict(float)
        for pid, (kind, spent) in self.cpu.items():
            out[kind] += spent - self.baseline.get(pid, 0.0)
        return {k: round(out.get(k, 0.0), 1) for k in KINDS}


# --------------------------------------------------------------------------- metadata and store


def _pg(url: str):
    return psycopg2.connect(url.replace("postgresql+psycopg2", "postgresql"))


def backfill_state(metadata_url: str) -> dict[str, int]:
    with _pg(metadata_url) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT state, count(*) FROM dag_run WHERE dag_id='dossier_intake' "
            "AND run_type='backfill' GROUP BY state"
        )
        return {str(s): int(n) for s, n in cur.fetchall()}


def scheduler_load(metadata_url: str) -> dict[str, Any]:
    with _pg(metadata_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT dag_id, count(*) FROM dag_run GROUP BY dag_id ORDER BY dag_id")
        runs = {d: int(n) for d, n in cur.fetchall()}
        cur.execute("SELECT dag_id, count(*) FROM task_instance GROUP BY dag_id ORDER BY dag_id")
        tis = {d: int(n) for d, n in cur.fetchall()}
        cur.execute(
            "SELECT extract(epoch FROM start_date - queued_dttm) FROM task_instance "
            "WHERE queued_dttm IS NOT NULL AND start_date IS NOT NULL"
        )
        waits = sorted(float(w) for (w,) in cur.fetchall() if w is not None and w >= 0)
    return {
        "dag_runs": runs,
        "dag_runs_total": sum(runs.values()),
        "task_instances": tis,
        "task_instances_total": sum(tis.values()),
        "queued_to_running_seconds": {
            "p50": round(_pct(waits, 0.5), 2) if waits else None,
            "p95": round(_pct(waits, 0.95), 2) if waits else None,
            "n": len(waits),
        },
    }


def _pct(values: list[float], q: float) -> float:
    return values[min(len(values) - 1, max(0, round(q * (len(values) - 1))))]


def decisions(store_url: str, date_from: date, date_to: date) -> dict[str, int]:
    """Decision links received in the range, by state."""
    lo = datetime.combine(date_from, datetime.min.time(), VN_TZ)
    hi = datetime.combine(date_to, datetime.max.time(), VN_TZ)
    engine = get_engine(store_url)
    with Session(engine) as s:
        rows = s.execute(
            select(DossierLink.state, func.count())
            .where(
                DossierLink.result_kind == "decision",
                DossierLink.received_at >= lo,
                DossierLink.received_at <= hi,
            )
            .group_by(DossierLink.state)
        ).all()
    return {str(state): int(n) for state, n in rows}


def adopt(store_url: str, at: str) -> None:
    """The intake cursor at the adoption: the scheduled runs take what changes from then on, the
    backfill the year before it."""
    engine = get_engine(store_url)
    with Session(engine) as session, session.begin():
        claims.xact_lock(session, "store")
        set_cursor(
            session, RunContext("bench", "adopt"), "dossier_intake", datetime.fromisoformat(at), ""
        )


# --------------------------------------------------------------------------- the run


def run(months: int, speed: float, max_active_runs: int, timeout: float) -> dict[str, Any]:
    date_from = date(2022, 1, 1)
    date_to = date(2022, months, calendar.monthrange(2022, months)[1])
    cfg = ClusterConfig.isolated(
        ROOT,
        "year",
        4,
        scenario="year-2022",
        start=ADOPTED,
        speed=speed,
        fresh=True,
        paused_dags=(
            "dossier_reconcile",
            "dossier_backfill",
            "savings_report",
            "deadline_alerts",
            "route_decisions",
            "quarantine_recheck",
            "quarantine_replay",
            "personal_data_retention",
        ),
        tuning={
            "LIENTHONG_INTAKE_CRON": "0 0 * * 1",  # weekly intervals for the catch-up
            "LIENTHONG_RESULTS_CRON": "*/1 * * * *",
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "120",
        },
    )
    cluster = Cluster(cfg)
    sampler = Sampler(cluster)
    figures: dict[str, Any] = {}
    t0 = time.monotonic()
    last_attach = None
    try:
        cluster.prepare()
        adopt(cluster.store_url, CURSOR_AT)
        load_district_totals(
            get_engine(cluster.store_url), cfg.var / "standins" / "district_totals.csv"
        )
        sampler.start()
        started = time.monotonic()
        cluster.start_airflow()
        _wait_registered(cluster.metadata_url, "dossier_intake", 300)
        # Weekly intervals start on Mondays: the first one holding 1 January starts before it.
        first_monday = date_from - timedelta(days=date_from.weekday())
        cluster.airflow(
            "backfill",
            "create",
            "--dag-id",
            "dossier_intake",
            "--from-date",
            f"{first_monday.isoformat()}T00:00:00+07:00",
            "--to-date",
            f"{date_to.isoformat()}T23:59:59+07:00",
            "--max-active-runs",
            str(max_active_runs),
        )
        settled = attached = 0
        interrupted = False
        while time.monotonic() - started < timeout and not interrupted:
            try:
                time.sleep(10)
            except KeyboardInterrupt:  # Ctrl-C: stop waiting, report what was reached
                interrupted = True
                signal.signal(signal.SIGINT, signal.SIG_IGN)  # the clean-up is not cut short
            runs = backfill_state(cluster.metadata_url)
            by_state = decisions(cluster.store_url, date_from, date_to)
            total = sum(by_state.values())
            now_attached = sum(by_state.get(s, 0) for s in SETTLED)
            if now_attached > attached:
                attached, last_attach = now_attached, time.monotonic()
            backfill_done = runs and all(s in ("success", "failed") for s in runs)
            print(
                f"[{time.monotonic() - started:6.0f}s] backfill runs {runs} · decisions "
                f"{now_attached}/{total} attached {by_state}",
                flush=True,
            )
            waiting = sum(by_state.get(s, 0) for s in WAITING)
            if backfill_done and total and not waiting:
                settled = 1
                break
        figures["interrupted"] = interrupted
        caught_up = time.monotonic() - started
        report_conf = json.dumps({"date_from": str(date_from), "date_to": str(date_to)})
        t_report = time.monotonic()
        cluster.airflow("dags", "unpause", "savings_report")
        out = cluster.airflow("dags", "trigger", "savings_report", "--conf", report_conf)
        report_ok = _wait_report(cluster.metadata_url, 600)
        figures["savings_report_seconds"] = round(time.monotonic() - t_report, 1)
        figures["savings_report_state"] = report_ok
        figures["trigger_output"] = out.strip()[-200:]
        wall = time.monotonic() - started
        sampler.stop()
        figures.update(
            months=months,
            date_from=str(date_from),
            date_to=str(date_to),
            settled=bool(settled),
            wall_seconds=round(wall, 1),
            caught_up_seconds=round(caught_up, 1),
            last_result_attached_seconds=round(last_attach - started, 1) if last_attach else None,
            setup_seconds=round(started - t0, 1),
            **scheduler_load(cluster.metadata_url),
            decisions_by_state=decisions(cluster.store_url, date_from, date_to),
            cpu_seconds=sampler.cpu_by_kind(),
            peak_rss_mb={k: round(sampler.peak_rss.get(k, 0) / 2**20, 1) for k in KINDS},
            peak_total_rss_mb={
                k: round(sampler.peak_total_rss.get(k, 0) / 2**20, 1) for k in KINDS
            },
            task_processes_seen=sampler.task_processes,
        )
        engine = get_engine(cluster.store_url)
        report = build_report(engine, date_from, date_to)
        h = report.headline
        figures["article"] = {
            "dossiers_processed": h["dossiers_processed"],
            "district_total": h["district_total"],
            "portal_share_pct": h["portal_share_pct"],
            "hours_saved_article": h["hours_saved_article"],
            "vnd_saved_article": h["vnd_saved_article"],
            "decisions_attached": h["decisions_attached"],
            "decisions_issued": h["decisions_issued"],
        }
    finally:
        if sampler.is_alive():
            sampler.stop()
        cluster.stop()
        dispose_engine(cluster.store_url)
        for name in (cfg.metadata_db, cfg.store_db):
            drop_database(cfg.pg_admin_url, name)
    total_cpu = sum(figures["cpu_seconds"].values()) or 1.0
    figures["tasks_cpu_share"] = round(figures["cpu_seconds"]["tasks"] / total_cpu, 3)
    return figures


def _wait_registered(metadata_url: str, dag_id: str, timeout: float) -> None:
    """Until the dag-processor has serialised the DAG (a backfill needs it in the metadata DB)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with _pg(metadata_url) as conn, conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM serialized_dag WHERE dag_id = %s", (dag_id,))
            if cur.fetchone()[0]:
                return
        time.sleep(3)
    raise RuntimeError(f"{dag_id} not registered after {timeout:.0f} s")


def _wait_report(metadata_url: str, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    state = "none"
    while time.monotonic() < deadline:
        with _pg(metadata_url) as conn, conn.cursor() as cur:
            cur.execute(
                "SELECT state FROM dag_run WHERE dag_id='savings_report' ORDER BY id DESC LIMIT 1"
            )
            row = cur.fetchone()
        state = str(row[0]) if row else "none"
        if state in ("success", "failed"):
            return state
        time.sleep(5)
    return state


def table(f: dict[str, Any]) -> str:
    lines = [
        f"range {f['date_from']} .. {f['date_to']}   settled: {f['settled']}",
        f"wall (Airflow up to report done): {f['wall_seconds']:.0f} s   "
        f"caught up: {f['caught_up_seconds']:.0f} s   last result attached: "
        f"{f['last_result_attached_seconds']} s   (set-up before: {f['setup_seconds']:.0f} s)",
        f"DAG runs {f['dag_runs_total']} {f['dag_runs']}",
        f"task instances {f['task_instances_total']} {f['task_instances']}",
        f"queued -> running: p50 {f['queued_to_running_seconds']['p50']} s, "
        f"p95 {f['queued_to_running_seconds']['p95']} s",
        f"lienthong's task processes: {f['tasks_cpu_share']:.1%} of the CPU; "
        f"{f['task_processes_seen']} seen",
        "",
        f"{'process kind':<15}{'CPU s':>10}{'peak RSS MB':>14}{'all together MB':>17}",
    ]
    for k in KINDS:
        lines.append(
            f"{k:<15}{f['cpu_seconds'][k]:>10.1f}{f['peak_rss_mb'][k]:>14.1f}"
            f"{f['peak_total_rss_mb'][k]:>17.1f}"
        )
    a = f["article"]
    lines += [
        "",
        f"dossiers {a['dossiers_processed']:,} · district {a['district_total']} · share "
        f"{a['portal_share_pct']} % · {a['hours_saved_article']:,.0f} h · "
        f"{a['vnd_saved_article']:,} VND · attached {a['decisions_attached']:,}/"
        f"{a['decisions_issued']:,}",
        f"savings_report: {f['savings_report_state']} in {f['savings_report_seconds']} s",
    ]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--months", type=int, default=12, help="catch up Jan..this month of 2022")
    ap.add_argument("--speed", type=float, default=1800.0, help="simulated seconds per second")
    ap.add_argument("--max-active-runs", type=int, default=2, help="backfill runs at once")
    ap.add_argument("--timeout", type=float, default=5400.0, help="give up after (seconds)")
    args = ap.parse_args()
    figures = run(args.months, args.speed, args.max_active_runs, args.timeout)
    name = "year_on_cluster.json" if args.months == 12 else f"year_on_cluster_m{args.months}.json"
    out = ROOT / "benchmarks" / "results" / name
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(figures, indent=2, ensure_ascii=False, default=str) + "\n")
    print(table(figures))
    print(f"\nwritten: {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
