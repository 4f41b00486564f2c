"""Should the link's hot path use the HTTP provider's ``HttpHook.run()``? Measured in one process
run.

* baseline - the portal client (`PortalClient.get_dossier`): one pooled `requests.Session`, the
             OIDC token cached, as the intake's batch uses it;
* HttpHook - `HttpHook(method="GET").run(endpoint, headers=bearer).json()` for the same calls: a new
             `Session` (and TCP connection) per call, as the provider builds it. Both parse the
             JSON.

Both against the portal stand-in on loopback (the best case for new connections: no TLS, no
network latency). Prints calls per second and the ratio; writes benchmarks/results/http_hook.json.

    .venv/bin/python benchmarks/http_hook.py [--calls 400]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HOME = Path(tempfile.mkdtemp(prefix="lienthong-bench-hook-"))
os.environ.update(
    {
        "AIRFLOW_HOME": str(HOME / "airflow"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "ERROR",
    }
)

from airflow.providers.http.hooks.http import HttpHook  # noqa: E402

from lienthong_standins.harness import make_resources, start_standins  # noqa: E402

HOUR = 3600


def rate(calls: int, fn) -> float:
    start = time.perf_counter()
    for i in range(calls):
        fn(i)
    return calls / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=400)
    args = parser.parse_args()
    server, standins = start_standins(HOME / "standins")
    try:
        standins.advance(10 * HOUR)
        res = make_resources(standins, f"sqlite:///{HOME}/store.sqlite")
        ids = [
            d["id"]
            for d in res.portal.search({"page": 0, "size": 200, "sort": "updatedDate,asc"})[
                "content"
            ]
        ]
        port = standins.portal_url.rsplit(":", 1)[1]
        os.environ["AIRFLOW_CONN_BENCH_PORTAL"] = json.dumps(
            {"conn_type": "http", "host": "127.0.0.1", "port": int(port), "schema": "http"}
        )
        hook = HttpHook(method="GET", http_conn_id="bench_portal")
        bearer = {"Authorization": f"Bearer {res.portal.auth.token()}"}
        for i in range(20):  # warm both paths
            res.portal.get_dossier(ids[i % len(ids)])
            hook.run(f"/pa/dossier/{ids[i % len(ids)]}", headers=bearer)
        pooled = rate(args.calls, lambda i: res.portal.get_dossier(ids[i % len(ids)]))
        per_call = rate(
            args.calls,
            lambda i: hook.run(f"/pa/dossier/{ids[i % len(ids)]}", headers=bearer).json(),
        )
        res.close()
    finally:
        server.stop()
    out = {
        "calls": args.calls,
        "pooled_client_per_s": round(pooled, 1),
        "http_hook_per_s": round(per_call, 1),
        "http_hook_vs_pooled": round(per_call / pooled, 3),
    }
    print(json.dumps(out, indent=2))
    results = ROOT / "benchmarks" / "results"
    results.mkdir(exist_ok=True)
    (results / "http_hook.json").write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
