"""Where a ratio benchmark's time goes: cProfile of our side and of its plain loop, top entries.

The pipeline's thread pools are made synchronous for the profile (cProfile sees one thread), so
the figures are the work's own costs laid end to end, not its wall time:

    .venv/bin/python benchmarks/profile_ratio.py intake [--n 1000] [--top 15]
    .venv/bin/python benchmarks/profile_ratio.py national [--n 1000] [--top 15]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys
import tempfile
from concurrent import futures
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lienthong.clients.portal_national_shapes import to_national_record  # noqa: E402
from lienthong.clients.portal_shapes import to_dossier  # noqa: E402
from lienthong.domain.dossier import Step  # noqa: E402
from lienthong.domain.vocabulary import STEP_TRANSFERRED_VI, DossierStatus  # noqa: E402
from lienthong.pipeline import intake, national_sync  # noqa: E402
from lienthong.pipeline.routing import route_for  # noqa: E402
from lienthong.store.ledger import RunContext  # noqa: E402
from lienthong_standins.harness import make_resources, start_standins  # noqa: E402

CTX = RunContext("profile", "profile")
HOUR = 3600


class InlineExecutor(futures.Executor):
    """A thread pool that runs each call at once, on the calling thread."""

    def __init__(self, *args, **kwargs) -> None:
        pass

    def map(self, fn, *iterables, **kwargs):  # noqa: ANN001, ANN201
        return [fn(*args) for args in zip(*iterables, strict=False)]

    def submit(self, fn, /, *args, **kwargs):  # noqa: ANN001, ANN201
        done: futures.Future = futures.Future()
        try:
            done.set_result(fn(*args, **kwargs))
        except Exception as exc:  # noqa: BLE001 - a future holds what the call raised
            done.set_exception(exc)
        return done


def _ours(kind: str, res) -> None:  # noqa: ANN001
    if kind == "intake":
        window = intake.scheduled_window(res, timedelta(minutes=10))
        intake.pull_and_link(res, CTX, window, advance_cursor=True)
    else:
        national_sync.sync(res, CTX, timedelta(minutes=10), pause=0.0)


def _plain(kind: str, res) -> None:  # noqa: ANN001
    if kind == "intake":
        now, seen = datetime.now(UTC), set()
        for raw in res.portal.iter_updated(datetime(2000, 1, 1, tzinfo=UTC)):
            if raw["id"] in seen:  # met again after its own status change moved it on
                continue
            seen.add(raw["id"])
            d = to_dossier(raw, res.routing.known_procedures)
            route = route_for(res.routing, d.procedure_code, d.agency_code)
            if route is None:
                continue
            res.ioffice.push(d, route, now)
            step = Step(d.code, STEP_TRANSFERRED_VI, DossierStatus.PROCESSING, now)
            res.portal.set_status_once(d.id, DossierStatus.PROCESSING, step)
        return
    records = [
        to_national_record(raw, res.portal.file_url)
        for raw in res.portal.iter_updated(intake.EPOCH, None)
    ]
    client = res.national
    client.sync_records([client.record_body(r) for r in records], [False] * len(records))
    client.add_steps([client.step_body(step) for r in records for step in r.steps])


def profile(kind: str, side: str, n: int, top: int, work: Path) -> str:
    server, standins = start_standins(work / f"{kind}-{side}", scenario=f"burst-{n}")
    standins.advance(10 * HOUR)
    res = make_resources(standins, f"sqlite:///{work}/{kind}-{side}.sqlite", national=True)
    prof = cProfile.Profile()
    try:
        prof.enable()
        (_ours if side == "lienthong" else _plain)(kind, res)
        prof.disable()
    finally:
        res.close()
        server.stop()
    out = io.StringIO()
    stats = pstats.Stats(prof, stream=out)
    stats.sort_stats("cumulative").print_stats(top)
    return f"== {kind}, {side} ({n} dossiers)\n{out.getvalue()}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("kind", choices=("intake", "national"))
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--top", type=int, default=15)
    args = ap.parse_args()
    futures.ThreadPoolExecutor = InlineExecutor  # type: ignore[misc, assignment]
    for module in (intake, national_sync):
        if hasattr(module, "ThreadPoolExecutor"):
            module.ThreadPoolExecutor = InlineExecutor  # type: ignore[attr-defined]
    work = Path(tempfile.mkdtemp(prefix="lienthong-profile-"))
    for side in ("lienthong", "plain"):
        print(profile(args.kind, side, args.n, args.top, work))


if __name__ == "__main__":
    main()
