"""Intake throughput: one batched intake run vs. two baselines measured in the same process run.

* lienthong  - 5,000 new dossiers through one `dossier_intake` run (`dag.test()`), batched inside
               tasks with bounded concurrency;
* mapped     - one mapped task instance per dossier (`dag.test()`), on a 500-dossier sample;
* plain loop - the same HTTP calls, sequential, with no Airflow and no store (the upper bound).

Each run gets fresh stand-ins (same scenario, own data dir) and a fresh SQLite store.
Ours and the plain loop run in interleaved rounds (``--rounds``, default 3; see
``benchmarks/interleave.py``); the ratio is the median of the rounds' ratios, with its spread.
Prints dossiers per second and the ratios; writes benchmarks/results/intake.json.

    make bench   # or: .venv/bin/python benchmarks/intake.py [--n 5000] [--sample 500] [--rounds 3]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HOME = Path(tempfile.mkdtemp(prefix="lienthong-bench-"))
DAGS = HOME / "dags"  # dag.test() serialises only DAGs inside the configured DAG folder
DAGS.mkdir()
(DAGS / "dossier_intake.py").symlink_to(ROOT / "dags" / "dossier_intake.py")
(DAGS / "bench_mapped_intake.py").symlink_to(
    ROOT / "benchmarks" / "dags" / "bench_mapped_intake.py"
)
os.environ.update(
    {
        "AIRFLOW_HOME": str(HOME / "airflow"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{HOME}/airflow.db",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "ERROR",
    }
)
sys.path.insert(0, str(ROOT))

# Airflow and the product after the settings above: Airflow reads them when first imported.
from airflow.dag_processing.dagbag import DagBag  # noqa: E402
from airflow.utils.db import initdb  # noqa: E402

from benchmarks.interleave import interleaved, paired_ratio, spread  # noqa: E402
from lienthong.clients.portal_shapes import to_dossier  # noqa: E402
from lienthong.domain.dossier import Step  # noqa: E402
from lienthong.domain.vocabulary import STEP_TRANSFERRED_VI, DossierStatus  # noqa: E402
from lienthong.pipeline.routing import route_for  # noqa: E402
from lienthong_standins.harness import make_resources, start_standins  # noqa: E402
from lienthong_standins.routing import demo_routing  # noqa: E402
from tests.dags.conftest import connections_env  # noqa: E402

HOUR = 3600


RUNS = itertools.count(1)


def fresh(name: str, n: int):
    """New stand-ins and a new store for every run: a second run on the first's data would find
    its work done."""
    label = f"{name}-{next(RUNS)}"
    server, standins = start_standins(HOME / label, scenario=f"burst-{n}")
    standins.advance(10 * HOUR)
    return server, standins, f"sqlite:///{HOME}/{label}.sqlite"


def use_connections(standins, store: str) -> None:
    os.environ.update(connections_env(standins, store, HOME / f"trust-{id(standins)}.pem"))


def bench_lienthong(n: int) -> float:
    server, standins, store = fresh("ours", n)
    try:
        use_connections(standins, store)
        dag = DagBag(dag_folder=str(DAGS)).get_dag("dossier_intake")
        t0 = time.perf_counter()
        dr = dag.test()
        elapsed = time.perf_counter() - t0
        assert str(dr.state) == "success", dr.state
        assert standins.portal_store.stats()["dossiers"]["visible"] == n
    finally:
        server.stop()
    return n / elapsed


def bench_mapped(sample: int) -> float:
    server, standins, store = fresh("mapped", sample)
    try:
        use_connections(standins, store)
        dag = DagBag(dag_folder=str(DAGS)).get_dag("bench_mapped_intake")
        t0 = time.perf_counter()
        dr = dag.test(run_conf={"limit": sample})
        elapsed = time.perf_counter() - t0
        assert str(dr.state) == "success", dr.state
    finally:
        server.stop()
    return sample / elapsed


def bench_plain_loop(n: int) -> float:
    """Search pages, then per routed dossier: push, read, set status with the step. No store."""
    server, standins, store = fresh("plain", n)
    routing = demo_routing()
    try:
        res = make_resources(standins, store)  # its clients only: the loop writes no store
        t0 = time.perf_counter()
        seen: set[str] = set()
        now = datetime.now(UTC)
        for raw in res.portal.iter_updated(datetime(2000, 1, 1, tzinfo=UTC)):
            if raw["id"] in seen:  # met again after its own status change moved it past the cursor
                continue
            seen.add(raw["id"])
            d = to_dossier(raw, routing.known_procedures)
            route = route_for(routing, d.procedure_code, d.agency_code)
            if route is None:
                continue
            res.ioffice.push(d, route, now)
            res.portal.set_status_once(
                d.id,
                DossierStatus.PROCESSING,
                Step(d.code, STEP_TRANSFERRED_VI, DossierStatus.PROCESSING, now),
            )
        elapsed = time.perf_counter() - t0
        assert len(seen) == n
        res.close()
    finally:
        server.stop()
    return n / elapsed


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=5000)
    ap.add_argument("--sample", type=int, default=500)
    ap.add_argument("--rounds", type=int, default=3, help="interleaved rounds (lienthong, loop)")
    args = ap.parse_args()
    initdb()
    rates = interleaved(
        {
            "lienthong_per_s": lambda: bench_lienthong(args.n),
            "plain_loop_per_s": lambda: bench_plain_loop(args.n),
        },
        args.rounds,
    )
    mapped = bench_mapped(args.sample)  # ~100x slower: one measure, far from the target anyway
    result = {
        "n": args.n,
        "sample": args.sample,
        "rounds": args.rounds,
        "lienthong_per_s": spread(rates["lienthong_per_s"]),
        "plain_loop_per_s": spread(rates["plain_loop_per_s"]),
        "mapped_per_s": round(mapped, 2),
        "ratio_vs_plain_loop": paired_ratio(rates["lienthong_per_s"], rates["plain_loop_per_s"]),
        "ratio_vs_mapped": round(statistics.median(rates["lienthong_per_s"]) / mapped, 1),
    }
    out = ROOT / "benchmarks" / "results"
    out.mkdir(exist_ok=True)
    (out / "intake.json").write_text(json.dumps(result, indent=2) + "\n")
    ours, loop, ratio = (
        result["lienthong_per_s"],
        result["plain_loop_per_s"],
        result["ratio_vs_plain_loop"],
    )
    print(
        f"lienthong intake : {ours['median']:8.1f} dossiers/s median "
        f"({ours['min']:.1f}-{ours['max']:.1f}; {args.rounds} runs of {args.n})"
    )
    print(
        f"plain HTTP loop  : {loop['median']:8.1f} dossiers/s median "
        f"({loop['min']:.1f}-{loop['max']:.1f})"
    )
    print(f"mapped baseline  : {mapped:8.1f} dossiers/s  ({args.sample}-dossier sample, once)")
    print(
        f"ratio vs loop    : {ratio['median']:8.2f}    median of paired rounds "
        f"({ratio['min']:.2f}-{ratio['max']:.2f}; target >= 0.8)"
    )
    print(f"ratio vs mapped  : {result['ratio_vs_mapped']:8.1f}x   (target >= 20x)")


if __name__ == "__main__":
    main()
