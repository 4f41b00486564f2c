"""National sync figures on the stand-ins: the demo day with a fault mix, and the year 2022.

* ``demo``      - the demo day through the whole link over two simulated days (national sync every
                  5 simulated minutes, intake and results hourly) with 5xx, resets, session expiry
                  and lost answers ("already exists" on repeat) on the national stand-in; then the
                  faults stop and the sync converges. Prints dossiers and steps synced, lag p50/p95,
                  what the faults cost (retries by kind), the reconciliation findings, and whether
                  the national record equals the local one.
* ``year-2022`` - the article's 48,094 dossiers, the one-stop desk working through 2022, national
                  sync once per simulated day; prints the national on-time rate beside the local
                  one by quarter. (Decision dossiers need iOffice to finish; this run does not carry
                  them through iOffice, so the rates cover the dossiers the desk finishes.)

* ``throughput`` - speed, as a ratio against a baseline in the same process run: one national_sync
                  run over a ``burst-N`` day (ledger, cursor, settling, batching) against a plain
                  loop that reads the same dossiers and posts the same bodies in the same batches
                  with no store (the bound); each on fresh stand-ins, in interleaved rounds
                  (median and spread of the rounds' ratios).

    .venv/bin/python benchmarks/national_sync.py demo
    .venv/bin/python benchmarks/national_sync.py year-2022
    .venv/bin/python benchmarks/national_sync.py throughput [--n 3000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.interleave import interleaved, paired_ratio, spread  # noqa: E402
from lienthong.clients.errors import MalformedAnswer, Unreachable  # noqa: E402
from lienthong.clients.http import RetryPolicy  # noqa: E402
from lienthong.clients.portal_national_shapes import to_national_record  # noqa: E402
from lienthong.pipeline import intake, national_sync, results  # noqa: E402
from lienthong.pipeline.national_config import NationalSyncConfig  # noqa: E402
from lienthong.reconcile.national_findings import national_findings  # noqa: E402
from lienthong.report.national_figures import sync_figures  # noqa: E402
from lienthong.store.ledger import RunContext  # noqa: E402
from lienthong_standins.harness import make_resources, national_client, start_standins  # noqa: E402

HOUR = 3600
TICK, TICKS = 300, 2 * 24 * 12  # five simulated minutes, over two days
CTX = RunContext("bench", "national")
TRANSIENT = (Unreachable, MalformedAnswer)  # what Airflow would retry
FAULTS = [
    {"endpoint": "/api/dvcqg/DongBoHoSoMC", "kind": "5xx", "rate": 0.1},
    {"endpoint": "/api/dvcqg/CapNhatTienDoHoSoMC", "kind": "5xx", "rate": 0.1},
    {"endpoint": "/api/dvcqg/", "kind": "reset", "rate": 0.05},
    {"endpoint": "/api/dvcqg/DongBoHoSoMC", "kind": "duplicate", "rate": 0.25},
    {"endpoint": "/api/dvcqg/CapNhatTienDoHoSoMC", "kind": "duplicate", "rate": 0.25},
    {"endpoint": "/api/dvcqg/", "kind": "expired_token", "rate": 0.1},
]


def resources(standins, store: str, batch: int = 100):
    client = national_client(
        standins, batch, RetryPolicy(attempts=6, backoff=0.05, backoff_max=0.5)
    )
    return make_resources(standins, store, national=client, national_config=NationalSyncConfig())


def sync(res, totals: Counter) -> None:
    try:
        totals.update(national_sync.sync(res, CTX, timedelta(minutes=10)))
    except TRANSIENT as exc:  # the run fails; Airflow would retry it
        totals[f"run_failed_{type(exc).__name__}"] += 1


def demo(work: Path) -> dict:
    server, standins = start_standins(work / "standins")
    res = resources(standins, f"sqlite:///{work}/store.sqlite", batch=25)
    totals: Counter = Counter()
    try:
        standins.faults("national", FAULTS, seed=3)
        started = time.perf_counter()
        for tick in range(
            TICKS
        ):  # the DAGs' cadence in simulated time: sync every 5 min, the rest hourly
            standins.advance(TICK)
            if tick % 12 == 0:
                results.process_packages(res, CTX)
                intake.pull_and_link(
                    res,
                    CTX,
                    intake.scheduled_window(res, timedelta(minutes=10)),
                    advance_cursor=True,
                )
                intake.complete_pending(res, CTX)
            sync(res, totals)
        fired = requests.get(f"{standins.national_root}/_admin/stats", timeout=10).json()[
            "faults_fired"
        ]
        standins.faults("national", [])
        for _ in range(3):
            sync(res, totals)
        elapsed = time.perf_counter() - started
        as_of = res.national.server_time
        findings = Counter(
            f.kind for f in national_findings(res, date(2022, 12, 1), date(2022, 12, 3), as_of)
        )
        figures = sync_figures(res.engine, date(2022, 12, 1), date(2022, 12, 3))
        held = requests.get(f"{standins.national_root}/_admin/records", timeout=60).json()
        local = list(res.portal.iter_updated(intake.EPOCH, None))
        equal = _equal(local, {r["MaHoSo"]: r for r in held})
        return {
            "figures": figures[0] if figures else {},
            "faults_fired": {k: v for k, v in fired.items() if ":" not in k},
            "relogins": res.national.relogins,
            "counts": dict(totals),
            "findings": dict(findings),
            "dossiers_local": len(local),
            "dossiers_national": len(held),
            "equal": equal,
            "seconds": round(elapsed, 1),
        }
    finally:
        res.close()
        server.stop()


def _equal(local: list[dict], held: dict[str, dict]) -> dict:
    fields = (
        "NguoiXuLy",
        "ChucDanh",
        "ThoiDiemXuLy",
        "PhongBanXuLy",
        "NoiDungXuLy",
        "TrangThai",
        "NgayBatDau",
        "NgayKetThucTheoQuyDinh",
    )
    same = 0
    for raw in local:
        rec = held.get(raw["code"])
        if rec is None:
            continue
        steps_local = [tuple(str(t.get(f, "")) for f in fields) for t in raw.get("task") or []]
        steps_national = [tuple(str(s.get(f, "")) for f in fields) for s in rec["TienDo"]]
        same += (
            rec["HoSo"]["TrangThaiHoSo"] == str(raw["dossierStatus"]["id"])
            and steps_local == steps_national
        )
    return {"equal": same, "of": len(local)}


def year_2022(work: Path) -> dict:
    server, standins = start_standins(work / "standins", scenario="year-2022")
    res = resources(standins, f"sqlite:///{work}/store.sqlite", batch=500)
    totals: Counter = Counter()
    try:
        started = time.perf_counter()
        for _ in range(365):
            standins.advance(24 * HOUR)
            sync(res, totals)
        elapsed = time.perf_counter() - started
        quarters = {}
        for q, (a, b) in enumerate(((1, 3), (4, 6), (7, 9), (10, 12)), start=1):
            end = date(2022, b + 1, 1) - timedelta(days=1) if b < 12 else date(2022, 12, 31)
            rows = sync_figures(res.engine, date(2022, a, 1), end)
            quarters[f"Q{q}"] = rows[0] if rows else {}
        year = sync_figures(res.engine, date(2022, 1, 1), date(2022, 12, 31))
        return {
            "year": year[0] if year else {},
            "quarters": quarters,
            "counts": dict(totals),
            "seconds": round(elapsed, 1),
        }
    finally:
        res.close()
        server.stop()


def throughput(work: Path, n: int, rounds: int = 3) -> dict:
    """National sync against its plain loop in interleaved rounds (``benchmarks/interleave.py``),
    each run on fresh stand-ins and a fresh store."""
    runs: list[tuple[str, int, float]] = []  # (side, items, seconds), for the report

    def fresh(name: str):
        server, standins = start_standins(work / f"{name}-{len(runs)}", scenario=f"burst-{n}")
        standins.advance(10 * HOUR)
        return server, standins

    def ours() -> float:
        server, standins = fresh("lienthong")
        res = resources(standins, f"sqlite:///{work}/store-{len(runs)}.sqlite")
        try:
            started = time.perf_counter()
            counts = national_sync.sync(res, CTX, timedelta(minutes=10))
            seconds = time.perf_counter() - started
        finally:
            res.close()
            server.stop()
        items = counts["records_sent"] + counts["steps_sent"]
        runs.append(("lienthong", items, seconds))
        return items / seconds

    def plain() -> float:
        server, standins = fresh("plain")
        res = resources(standins, f"sqlite:///{work}/plain-{len(runs)}.sqlite")
        try:
            client = res.national
            started = time.perf_counter()
            records = [
                to_national_record(raw, res.portal.file_url)
                for raw in res.portal.iter_updated(intake.EPOCH, None)
            ]
            client.sync_records([client.record_body(r) for r in records], [False] * len(records))
            client.add_steps([client.step_body(step) for r in records for step in r.steps])
            seconds = time.perf_counter() - started
            items = len(records) + sum(len(r.steps) for r in records)
        finally:
            res.close()
            server.stop()
        runs.append(("plain", items, seconds))
        return items / seconds

    rates = interleaved({"lienthong_items_per_s": ours, "plain_items_per_s": plain}, rounds)
    return {
        "dossiers": n,
        "rounds": rounds,
        "items": runs[0][1],
        "lienthong_items_per_s": spread(rates["lienthong_items_per_s"]),
        "plain_items_per_s": spread(rates["plain_items_per_s"]),
        "ratio": paired_ratio(rates["lienthong_items_per_s"], rates["plain_items_per_s"]),
        "runs": [{"side": side, "items": i, "seconds": round(t, 2)} for side, i, t in runs],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("scenario", choices=("demo", "year-2022", "throughput"))
    parser.add_argument("--n", type=int, default=3000, help="throughput: dossiers in the burst day")
    parser.add_argument("--rounds", type=int, default=3, help="throughput: interleaved rounds")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="lienthong-national-"))
    out = (
        demo(work)
        if args.scenario == "demo"
        else year_2022(work)
        if args.scenario == "year-2022"
        else throughput(work, args.n, args.rounds)
    )
    text = json.dumps(out, indent=2, ensure_ascii=False, default=str)
    print(text)
    dest = ROOT / "benchmarks" / "results" / f"national-{args.scenario}.json"
    dest.parent.mkdir(exist_ok=True)
    dest.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
