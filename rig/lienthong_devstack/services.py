"""PostgreSQL and Redis for the distributed demo: use the running servers, start installed ones,
install missing ones (root only), or stop with a message saying what to do."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import sqlalchemy as sa


class ServiceUnavailable(SystemExit):
    """A service the cluster needs cannot be reached, started or installed."""


def answers(host: str, port: int, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _wait(host: str, port: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if answers(host, port):
            return True
        time.sleep(0.5)
    return False


def _apt_install(package: str) -> bool:
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        return False
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    done = subprocess.run(
        f"apt-get update -qq && apt-get install -y -qq {package}",
        shell=True,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    return done.returncode == 0


def _start_postgres() -> None:
    if shutil.which("pg_ctlcluster") and Path("/etc/postgresql").is_dir():
        for version in sorted(os.listdir("/etc/postgresql")):
            subprocess.run(
                ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )


def _start_redis(port: int) -> None:
    server = shutil.which("redis-server")
    if server:
        logdir = Path("/var/log/redis") if os.access("/var/log", os.W_OK) else Path("/tmp")
        logdir.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                server,
                "--daemonize",
                "yes",
                "--bind",
                "127.0.0.1",
                "--port",
                str(port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--logfile",
                str(logdir / "redis-lienthong.log"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )


def ensure_postgres(host: str = "127.0.0.1", port: int = 5432) -> None:
    if answers(host, port):
        return
    if not shutil.which("pg_ctlcluster") and not _apt_install("postgresql"):
        raise ServiceUnavailable(
            f"PostgreSQL does not answer on {host}:{port} and is not installed. Install it "
            "(apt-get install postgresql, as root) or start it, then try again."
        )
    _start_postgres()
    if not _wait(host, port, 30):
        raise ServiceUnavailable(
            f"PostgreSQL is installed but did not start on {host}:{port}; "
            "see its log under /var/log/postgresql."
        )


def ensure_redis(host: str = "127.0.0.1", port: int = 6379) -> None:
    if answers(host, port):
        return
    if not shutil.which("redis-server") and not _apt_install("redis-server"):
        raise ServiceUnavailable(
            f"Redis does not answer on {host}:{port} and is not installed. Install it "
            "(apt-get install redis-server, as root) or start it, then try again."
        )
    _start_redis(port)
    if not _wait(host, port, 20):
        raise ServiceUnavailable(f"Redis is installed but did not start on {host}:{port}.")


def ensure_database(admin_url: str, name: str, *, fresh: bool = False) -> str:
    """Create database ``name`` on the server of ``admin_url`` if missing (dropped first if
    ``fresh``); return its URL."""

    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            if fresh:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            exists = conn.scalar(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
            )
            if not exists:
                conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    return admin_url.rsplit("/", 1)[0] + f"/{name}"


def drop_database(admin_url: str, name: str) -> None:
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()
