"""``python -m lienthong_standins``: run the portal, iOffice and national (DVCQG) stand-ins on
loopback.

Prints the base URLs and ``READY`` once all serve; stops on SIGINT/SIGTERM, keeping all
state (SQLite files, clock) in ``--data-dir`` for the next start.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from lienthong_standins import ioffice, national, portal
from lienthong_standins.clock import VN_TZ, SimClock
from lienthong_standins.faults import FaultInjector
from lienthong_standins.scenarios import load, scenario_for
from lienthong_standins.serve import ServerThread
from lienthong_standins.settings import read_credentials


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m lienthong_standins", description=__doc__)
    p.add_argument("--scenario", default="demo", help="demo, year-2022 or burst-N")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--portal-port", type=int, default=8701)
    p.add_argument("--ioffice-port", type=int, default=8702)
    p.add_argument(
        "--national-port", type=int, default=8703, help="national portal (DVCQG) sync stand-in"
    )
    p.add_argument("--data-dir", type=Path, default=Path("var/standins"))
    p.add_argument(
        "--speed",
        type=float,
        default=None,
        help="simulated seconds per real second (default: the scenario's; 0 freezes the clock)",
    )
    p.add_argument(
        "--start",
        type=datetime.fromisoformat,
        default=None,
        help="simulated start on a fresh data dir (ISO-8601; default: the scenario's)",
    )
    p.add_argument(
        "--settings",
        type=Path,
        default=Path("airflow_settings.yaml"),
        help="Astro-format settings holding the demo connections",
    )
    p.add_argument("--portal-client-id")
    p.add_argument("--portal-client-secret")
    p.add_argument("--ioffice-token")
    p.add_argument("--ioffice-auth-scheme")
    p.add_argument(
        "--token-ttl", type=int, default=300, help="portal access-token lifetime, real seconds"
    )
    p.add_argument("--national-username")
    p.add_argument("--national-password")
    p.add_argument(
        "--national-session-ttl",
        type=float,
        default=600.0,
        help="national (DVCQG) login-session lifetime, real seconds",
    )
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    scenario = scenario_for(args.scenario)
    creds = read_credentials(args.settings)
    creds = replace(
        creds,
        **{
            k: v
            for k, v in {
                "portal_client_id": args.portal_client_id,
                "portal_client_secret": args.portal_client_secret,
                "ioffice_token": args.ioffice_token,
                "ioffice_auth_scheme": args.ioffice_auth_scheme,
                "national_username": args.national_username,
                "national_password": args.national_password,
            }.items()
            if v is not None
        },
    )
    data_dir: Path = args.data_dir
    data_dir.mkdir(parents=True, exist_ok=True)
    start = args.start.replace(tzinfo=args.start.tzinfo or VN_TZ) if args.start else scenario.start
    speed = scenario.speed if args.speed is None else args.speed
    clock = SimClock(start, speed=speed, state_file=data_dir / "clock.json")

    portal_app, portal_store = portal.build(
        data_dir,
        clock,
        FaultInjector(),
        args.seed,
        {creds.portal_client_id: creds.portal_client_secret},
        token_ttl=args.token_ttl,
    )
    ioffice_app, ioffice_store = ioffice.build(
        data_dir, clock, FaultInjector(), args.seed, creds.ioffice_token, creds.ioffice_auth_scheme
    )
    national_app, national_store = national.build(
        data_dir,
        clock,
        FaultInjector(),
        {creds.national_username: creds.national_password},
        session_ttl=args.national_session_ttl,
    )
    summary = load(args.scenario, portal_store, data_dir, args.seed, ioffice=ioffice_store)
    print(f"scenario: {summary}", flush=True)

    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    servers = ServerThread(
        [
            (portal_app, args.portal_port),
            (ioffice_app, args.ioffice_port),
            (national_app, args.national_port),
        ]
    ).start()
    print(f"clock: {clock.now().isoformat()} speed {clock.speed}", flush=True)
    print(f"portal: http://127.0.0.1:{args.portal_port}", flush=True)
    print(f"ioffice: http://127.0.0.1:{args.ioffice_port}/api/lienthong", flush=True)
    print(f"national: http://127.0.0.1:{args.national_port}/api/dvcqg", flush=True)
    print("READY", flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        servers.stop()
        clock.persist()
        close = getattr(ioffice_store, "close", None)
        if callable(close):
            close()
        portal_store.engine.dispose()
        national_store.close()
        print("stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
