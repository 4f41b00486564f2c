"""``make run``: the demo on one machine - stand-ins + Airflow standalone on SQLite.

Starts the stand-ins (``demo`` scenario), prepares ``var/airflow`` (migrate, load
``airflow_settings.yaml``), starts ``airflow standalone`` and prints the UI address
and login. Ctrl-C (or SIGTERM) stops everything and waits for it.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

from lienthong.store.district_totals import load_district_totals
from lienthong.store.engine import get_engine, url_from_connection
from lienthong_devstack.processes import wait_http
from lienthong_devstack.settings import (
    connections_import_json,
    connections_json,
    load_settings,
    pools_json,
    variables_json,
)

ROOT = Path.cwd()
# One SimpleAuthManager user per role, so a tester can see what each may do on the dashboard.
USERS = {"admin": "admin", "op": "op", "user": "user", "viewer": "viewer"}
CHILDREN: list[subprocess.Popen] = []  # started processes, stopped in reverse order


def _wait_line(proc: subprocess.Popen, marker: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            if proc.poll() is not None:
                raise SystemExit(f"stand-ins exited early (code {proc.returncode})")
            continue
        print(f"[stand-ins] {line.rstrip()}", flush=True)
        if marker in line:
            return
    raise SystemExit("stand-ins did not become ready in time")


def _drain(proc: subprocess.Popen, path: Path) -> None:
    """Keep reading the stand-ins' output into a file, so a full pipe never blocks them."""
    assert proc.stdout is not None
    with path.open("a") as fh:
        for line in proc.stdout:
            fh.write(line)
            fh.flush()


def _airflow_env(home: Path, port: int) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__PARALLELISM": "8",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": ",".join(
                f"{name}:{role}" for name, role in USERS.items()
            ),
            "AIRFLOW__CORE__TEST_CONNECTION": "Enabled",  # the Connections form's Test button
            "AIRFLOW__API__BASE_URL": f"http://localhost:{port}",
            "AIRFLOW__API__PORT": str(port),
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://localhost:{port}/execution/",
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "30",
            "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONNECT_ARGS": (
                "lienthong.orchestration.sqlite_busy.CONNECT_ARGS"
            ),
            "LIENTHONG_INTAKE_CRON": os.environ.get("LIENTHONG_INTAKE_CRON", "*/1 * * * *"),
            "LIENTHONG_RESULTS_CRON": os.environ.get("LIENTHONG_RESULTS_CRON", "*/2 * * * *"),
            "PYTHONPATH": str(ROOT),
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        }
    )
    return env


def _passwords(pw_file: Path) -> dict[str, str]:
    """The demo users' passwords: kept from an earlier start, generated for users new to the
    file."""
    passwords = json.loads(pw_file.read_text()) if pw_file.exists() else {}
    missing = [name for name in USERS if name not in passwords]
    if missing:
        passwords.update({name: secrets.token_urlsafe(12) for name in missing})
        pw_file.write_text(json.dumps(passwords))
    pw_file.chmod(0o600)
    return {name: passwords[name] for name in USERS}


def _airflow(env: dict[str, str], *args: str) -> None:
    subprocess.run(
        [str(Path(sys.executable).with_name("airflow")), *args],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--port", type=int, default=int(os.environ.get("LIENTHONG_UI_PORT", 8080)))
    ap.add_argument("--speed", type=float, default=60.0, help="simulated seconds per real second")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument(
        "--scenario",
        default=os.environ.get("SCENARIO") or "demo",
        help="demo (the district's day, default), province-week (the province of 2026: 23 units, "
        "a week) or reorg-2025 (four weeks across 1 July 2025); each but the demo in var/<name>/",
    )
    args = ap.parse_args()

    # The demo keeps var/ as it always has; another scenario gets its own Airflow, stand-ins and
    # store, so switching never mixes one world's dossiers into another's.
    var = ROOT / "var" if args.scenario == "demo" else ROOT / "var" / args.scenario
    home = var / "airflow"
    home.mkdir(parents=True, exist_ok=True)
    settings = load_settings(ROOT / "airflow_settings.yaml")
    if args.scenario != "demo":
        for conn in settings["connections"]:
            if conn["conn_id"] == "lienthong_db":
                conn["conn_host"] = str(var / "lienthong.sqlite")
    conns = connections_json(settings, ROOT)
    portal, ioffice, national = (
        conns["lienthong_portal"],
        conns["lienthong_ioffice"],
        conns["lienthong_dvcqg"],
    )

    standins = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "lienthong_standins",
            "--scenario",
            args.scenario,
            "--seed",
            str(args.seed),
            "--portal-port",
            str(portal["port"]),
            "--ioffice-port",
            str(ioffice["port"]),
            "--national-port",
            str(national["port"]),
            "--data-dir",
            str(var / "standins"),
            "--speed",
            str(args.speed),
            "--settings",
            str(ROOT / "airflow_settings.yaml"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    CHILDREN.append(standins)

    def stop(*_: object, code: int = 0) -> None:
        for proc in reversed(CHILDREN):
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGINT)
                except ProcessLookupError:
                    pass
        for proc in reversed(CHILDREN):
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        print("lienthong demo stopped.", flush=True)
        raise SystemExit(code)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        airflow_proc = _start(args, standins, settings, conns, home, portal, ioffice)
    except Exception as exc:  # noqa: BLE001 - whatever failed, stop the children and say why
        print(f"start-up failed: {exc}", flush=True)
        stop(code=1)
    while True:
        if airflow_proc.poll() is not None:
            print(f"airflow standalone exited ({airflow_proc.returncode}); stopping", flush=True)
            stop()
        if standins.poll() is not None:
            print("stand-ins exited; stopping", flush=True)
            stop()
        time.sleep(2)


def _start(
    args, standins, settings, conns, home: Path, portal: dict, ioffice: dict
) -> subprocess.Popen:
    """Everything after the stand-ins: trust root, store, Airflow. Returns the Airflow process."""
    _wait_line(standins, "READY", 120)
    threading.Thread(
        target=_drain, args=(standins, home.parent / "standins.log"), daemon=True
    ).start()

    trust = Path(ioffice["extra"]["trust_roots_file"])
    trust.parent.mkdir(parents=True, exist_ok=True)
    with urllib.request.urlopen(
        f"http://{ioffice['host']}:{ioffice['port']}/_admin/trust-root", timeout=10
    ) as r:
        trust.write_bytes(r.read())

    class _C:  # the store connection as Airflow would give it
        conn_type, host = "sqlite", conns["lienthong_db"]["host"]

    engine = get_engine(url_from_connection(_C))
    for totals in ("district_totals.csv", "unit_totals.csv"):  # the scenario's denominators
        if (home.parent / "standins" / totals).exists():
            load_district_totals(engine, home.parent / "standins" / totals)

    env = _airflow_env(home, args.port)
    pw_file = home / "simple_auth_manager_passwords.json.generated"
    passwords = _passwords(pw_file)
    _airflow(env, "db", "migrate")
    imports = home / "imports"
    imports.mkdir(exist_ok=True)
    (imports / "connections.json").write_text(json.dumps(connections_import_json(settings, ROOT)))
    (imports / "variables.json").write_text(json.dumps(variables_json(settings, args.scenario)))
    (imports / "pools.json").write_text(json.dumps(pools_json(settings)))
    _airflow(env, "connections", "import", "--overwrite", str(imports / "connections.json"))
    _airflow(
        env,
        "variables",
        "import",
        "--action-on-existing-key",
        "overwrite",
        str(imports / "variables.json"),
    )
    _airflow(env, "pools", "import", str(imports / "pools.json"))
    (imports / "connections.json").unlink()  # holds the demo secrets; Airflow has them now

    log = open(home / "standalone.log", "a")
    proc = subprocess.Popen(
        [str(Path(sys.executable).with_name("airflow")), "standalone"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    CHILDREN.append(proc)
    ok = wait_http(f"http://localhost:{args.port}/api/v2/monitor/health", 180)
    print("", flush=True)
    print("=" * 64, flush=True)
    ui = f"http://localhost:{args.port}"
    print(f"  Airflow UI:  {ui}   dashboard: {ui}/lienthong/", flush=True)
    for name, role in USERS.items():
        print(f"    login {name} / {passwords[name]}   (role {role})", flush=True)
    print(f"  Passwords file: {pw_file}", flush=True)
    print(f"  Portal stand-in:  http://{portal['host']}:{portal['port']}/docs", flush=True)
    print(f"  iOffice stand-in: http://{ioffice['host']}:{ioffice['port']}/docs", flush=True)
    national = conns["lienthong_dvcqg"]
    print(
        f"  National (DVCQG) stand-in: http://{national['host']}:{national['port']}/docs",
        flush=True,
    )
    print(f"  Logs: {home / 'standalone.log'}   Ctrl-C stops everything.", flush=True)
    print("=" * 64, flush=True)
    if not ok:
        print("warning: the Airflow API did not answer yet; see the log", flush=True)
    return proc


if __name__ == "__main__":
    main()
