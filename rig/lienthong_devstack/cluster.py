"""``make cluster``: the demo on Airflow's distributed topology, on one machine.

CeleryExecutor with two workers, two schedulers (Airflow's HA set-up), dag-processor, triggerer and
api-server; metadata and Celery results on PostgreSQL, the broker on Redis, the store
(``lienthong_db``) on PostgreSQL; the stand-ins as the two external systems. Each component has its
own ``AIRFLOW_HOME`` and temp dir and reaches the others only through PostgreSQL, Redis and HTTP
(task logs stay in one local folder, as Airflow allows). The same :class:`Cluster` drives the
cluster end-to-end test and the latency benchmark.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.fernet import Fernet
from sqlalchemy.engine import make_url

from lienthong.store.engine import dispose_engine, get_engine
from lienthong_devstack.processes import Child, wait_http
from lienthong_devstack.services import ensure_database, ensure_postgres, ensure_redis
from lienthong_devstack.settings import (
    connections_import_json,
    load_settings,
    pools_json,
    variables_json,
)

AIRFLOW_BIN = str(Path(sys.executable).with_name("airflow"))
COMPONENTS = ("api-server", "dag-processor", "triggerer")  # and scheduler-1..N, worker-1..N


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class ClusterConfig:
    """Where everything lives and how it is tuned; the defaults are ``make cluster``'s."""

    root: Path
    var: Path
    ui_port: int = 8080
    portal_port: int = 8701
    ioffice_port: int = 8702
    national_port: int = 8703
    pg_admin_url: str = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
    metadata_db: str = "lienthong_airflow"
    store_db: str = "lienthong_store"
    redis_url: str = "redis://127.0.0.1:6379/1"
    queue: str = "lienthong"
    scenario: str = "demo"
    seed: int = 7
    speed: float = 60.0
    start: str | None = None  # the simulated clock's start on fresh stand-ins (ISO; the scenario's)
    token_ttl: int = 300  # portal access tokens, real seconds
    paused_dags: tuple[str, ...] = ()  # registered paused before the scheduler starts
    workers: int = 2
    schedulers: int = 2  # HA: the schedulers share the work through row locks in PostgreSQL
    worker_concurrency: int = 2
    fresh: bool = False  # drop the cluster's databases first
    settings_file: str = "airflow_settings.yaml"
    # Airflow and DAG settings by environment (crons, timeouts); the test and benchmark add to
    # these.
    tuning: dict[str, str] = field(
        default_factory=lambda: {
            "LIENTHONG_INTAKE_CRON": "*/1 * * * *",
            "LIENTHONG_RESULTS_CRON": "*/2 * * * *",
            # Lost task instances (a dead worker) are failed and retried after this many seconds
            # without a heartbeat (Airflow 3's name for the former zombie threshold).
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "60",
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "10",
        }
    )

    @classmethod
    def isolated(cls, root: Path, label: str, redis_db: int, **settings: object) -> ClusterConfig:
        """A throwaway cluster beside any other on this machine: free ports, its own temp dir,
        databases, Redis database and Celery queue (benchmarks and tests)."""
        uid = uuid.uuid4().hex[:8]
        return cls(
            root=root,
            var=Path(tempfile.mkdtemp(prefix=f"lienthong-{label}-")),
            ui_port=free_port(),
            portal_port=free_port(),
            ioffice_port=free_port(),
            national_port=free_port(),
            metadata_db=f"lienthong_{label}_af_{uid}".replace("-", "_"),
            store_db=f"lienthong_{label}_store_{uid}".replace("-", "_"),
            redis_url=f"redis://127.0.0.1:6379/{redis_db}",
            queue=f"lienthong-{label}-{uid}",
            **settings,  # type: ignore[arg-type]
        )

    @property
    def ui_url(self) -> str:
        return f"http://localhost:{self.ui_port}"

    @property
    def portal_url(self) -> str:
        return f"http://127.0.0.1:{self.portal_port}"

    @property
    def ioffice_root(self) -> str:
        return f"http://127.0.0.1:{self.ioffice_port}"

    @property
    def national_root(self) -> str:
        return f"http://127.0.0.1:{self.national_port}"


class Cluster:
    """Start, stop, kill and restart the components of the distributed demo."""

    def __init__(self, cfg: ClusterConfig):
        self.cfg = cfg
        self.children: dict[str, Child] = {}
        self.starts: Counter[str] = Counter()  # how often each component was started
        self._worker_seq = 0
        self.metadata_url = ""
        self.store_url = ""

    # ------------------------------------------------------------------ set-up
    def prepare(self) -> None:
        """Services, databases, stand-ins, Airflow's schema and the link's
        connections/variables/pools."""
        cfg = self.cfg
        ensure_postgres()
        ensure_redis()
        self.metadata_url = ensure_database(cfg.pg_admin_url, cfg.metadata_db, fresh=cfg.fresh)
        self.store_url = ensure_database(cfg.pg_admin_url, cfg.store_db, fresh=cfg.fresh)
        (cfg.var / "secrets.json").parent.mkdir(parents=True, exist_ok=True)
        self._secrets = self._load_secrets()
        self.start_standins()

        get_engine(self.store_url)  # the store's schema, before any worker needs it
        dispose_engine(self.store_url)
        self.airflow("db", "migrate")
        self._import_settings()
        if cfg.paused_dags:
            self.airflow("dags", "reserialize")
            self.airflow(
                "dags", "pause", "--treat-dag-id-as-regex", "-y", f"^({'|'.join(cfg.paused_dags)})$"
            )

    def _load_secrets(self) -> dict[str, str]:
        """Keys every component must share (Fernet, API secret, JWT secret): generated once per
        cluster, kept beside its state as a real deployment keeps them in its secrets store."""
        path = self.cfg.var / "secrets.json"
        if path.exists() and not self.cfg.fresh:
            return json.loads(path.read_text())

        keys = {
            "fernet": Fernet.generate_key().decode(),
            "api": secrets.token_urlsafe(32),
            "jwt": secrets.token_urlsafe(32),
            "admin_password": secrets.token_urlsafe(12),
        }
        path.write_text(json.dumps(keys))
        path.chmod(0o600)
        return keys

    def _import_settings(self) -> None:
        cfg = self.cfg
        settings = load_settings(cfg.root / cfg.settings_file)
        conns = connections_import_json(settings, cfg.root)
        portal, ioffice = conns["lienthong_portal"], conns["lienthong_ioffice"]
        portal["port"], ioffice["port"] = cfg.portal_port, cfg.ioffice_port
        if "lienthong_dvcqg" in conns:
            conns["lienthong_dvcqg"]["port"] = cfg.national_port
        extra = json.loads(ioffice.get("extra") or "{}")
        extra.pop("trust_roots_file", None)  # no shared files: the roots travel in the connection
        extra["trust_roots_pem"] = self.trust_root()
        ioffice["extra"] = json.dumps(extra)

        u = make_url(self.store_url)
        conns["lienthong_db"] = {
            "conn_type": "postgres",
            "host": u.host,
            "port": u.port or 5432,
            "login": u.username or "postgres",
            "schema": u.database,
        }
        imports = cfg.var / "imports"
        imports.mkdir(parents=True, exist_ok=True)
        files = {
            "connections.json": conns,
            "variables.json": variables_json(settings, cfg.scenario),
            "pools.json": pools_json(settings),
        }
        for name, body in files.items():
            (imports / name).write_text(json.dumps(body))
        try:
            self.airflow("connections", "import", "--overwrite", str(imports / "connections.json"))
            self.airflow(
                "variables",
                "import",
                "--action-on-existing-key",
                "overwrite",
                str(imports / "variables.json"),
            )
            self.airflow("pools", "import", str(imports / "pools.json"))
        finally:
            (
                imports / "connections.json"
            ).unlink()  # holds the demo secrets; the metadata DB has them now

    def trust_root(self) -> str:
        with urllib.request.urlopen(f"{self.cfg.ioffice_root}/_admin/trust-root", timeout=10) as r:
            return r.read().decode()

    # ------------------------------------------------------------------ environment
    def common_env(self) -> dict[str, str]:
        cfg, keys = self.cfg, self._secrets
        env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
        env.update(
            {
                "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
                "AIRFLOW__CORE__DAGS_FOLDER": str(cfg.root / "dags"),
                "AIRFLOW__CORE__PLUGINS_FOLDER": str(cfg.root / "plugins"),
                "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                "AIRFLOW__CORE__PARALLELISM": "8",
                "AIRFLOW__CORE__FERNET_KEY": keys["fernet"],
                "AIRFLOW__API__SECRET_KEY": keys["api"],
                "AIRFLOW__API_AUTH__JWT_SECRET": keys["jwt"],
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": (
                    "admin:admin,op:op,user:user,viewer:viewer"
                ),
                "AIRFLOW__CORE__TEST_CONNECTION": "Enabled",
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(
                    cfg.var / "homes" / "api-server" / "passwords.json"
                ),
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": self.metadata_url,
                "AIRFLOW__CELERY__BROKER_URL": cfg.redis_url,
                "AIRFLOW__CELERY__RESULT_BACKEND": f"db+{self.metadata_url}",
                "AIRFLOW__CELERY__WORKER_CONCURRENCY": str(cfg.worker_concurrency),
                "AIRFLOW__OPERATORS__DEFAULT_QUEUE": cfg.queue,
                "AIRFLOW__API__PORT": str(cfg.ui_port),
                "AIRFLOW__API__BASE_URL": cfg.ui_url,
                "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{cfg.ui_url}/execution/",
                "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(cfg.var / "logs"),
                "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "30",
                "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
                "AIRFLOW__SCHEDULER__ORPHANED_TASKS_CHECK_INTERVAL": "30",
                "AIRFLOW__WORKERS__MIN_HEARTBEAT_INTERVAL": "3",
                "AIRFLOW__TRIGGERER__JOB_HEARTBEAT_SEC": "2",
                "AIRFLOW__TRIGGERER__TRIGGERER_HEALTH_CHECK_THRESHOLD": "15",
                "PYTHONPATH": str(cfg.root),
                "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
            }
        )
        env.update(cfg.tuning)
        return env

    def env_for(self, name: str, **extra: str) -> dict[str, str]:
        """A component's own home and temp dir: nothing shared on disk but the task-log folder."""
        home = self.cfg.var / "homes" / name
        tmp = self.cfg.var / "tmp" / name
        home.mkdir(parents=True, exist_ok=True)
        tmp.mkdir(parents=True, exist_ok=True)
        return {**self.common_env(), "AIRFLOW_HOME": str(home), "TMPDIR": str(tmp), **extra}

    def airflow(self, *args: str) -> str:
        done = subprocess.run(
            [AIRFLOW_BIN, *args], env=self.env_for("cli"), capture_output=True, text=True
        )
        if done.returncode != 0:
            raise RuntimeError(f"airflow {' '.join(args[:2])} failed:\n{done.stderr[-3000:]}")
        return done.stdout

    # ------------------------------------------------------------------ components
    def start_standins(self) -> Child:
        cfg = self.cfg
        argv = [
            sys.executable,
            "-m",
            "lienthong_standins",
            "--scenario",
            cfg.scenario,
            "--seed",
            str(cfg.seed),
            "--portal-port",
            str(cfg.portal_port),
            "--ioffice-port",
            str(cfg.ioffice_port),
            "--national-port",
            str(cfg.national_port),
            "--data-dir",
            str(cfg.var / "standins"),
            "--speed",
            str(cfg.speed),
            "--token-ttl",
            str(cfg.token_ttl),
            "--settings",
            str(cfg.root / cfg.settings_file),
            *(("--start", cfg.start) if cfg.start else ()),
        ]
        child = Child(
            "standins", argv, dict(os.environ), cfg.var / "proc-logs" / "standins.log"
        ).start()
        self.children["standins"] = child
        if not wait_http(f"{cfg.ioffice_root}/_admin/clock", 180, child.alive):
            raise RuntimeError(f"the stand-ins did not start; see {child.log_path}")
        return child

    def start(self, name: str) -> Child:
        """Start (or start again) one Airflow component: a name of COMPONENTS, ``scheduler-N`` or
        ``worker-N``."""
        if name.startswith("worker-"):
            argv = [
                AIRFLOW_BIN,
                "celery",
                "worker",
                "--celery-hostname",
                f"{name}@%h",
                "--concurrency",
                str(self.cfg.worker_concurrency),
                "--queues",
                self.cfg.queue,
                "--without-gossip",
                "--without-mingle",
            ]
            env = self.env_for(
                name,
                LIENTHONG_SIMULATED_HOST=name,
                AIRFLOW__CORE__HOSTNAME_CALLABLE="lienthong_devstack.hostnames.simulated_host",
                AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT=str(free_port()),
            )
        elif name == "api-server":
            argv, env = (
                [AIRFLOW_BIN, "api-server", "--port", str(self.cfg.ui_port)],
                self.env_for(name),
            )
            pw = Path(env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"])
            kept = (
                json.loads(pw.read_text()) if pw.exists() else {}
            )  # op/user/viewer: generated by Airflow
            pw.write_text(json.dumps({**kept, "admin": self._secrets["admin_password"]}))
        elif name == "triggerer":
            argv = [AIRFLOW_BIN, "triggerer"]
            env = self.env_for(name, AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT=str(free_port()))
        elif name.startswith("scheduler-"):
            argv, env = [AIRFLOW_BIN, "scheduler"], self.env_for(name)
        else:
            argv, env = [AIRFLOW_BIN, name], self.env_for(name)
        child = Child(name, argv, env, self.cfg.var / "proc-logs" / f"{name}.log").start()
        self.children[name] = child
        self.starts[name] += 1
        return child

    def add_worker(self) -> Child:
        self._worker_seq += 1
        return self.start(f"worker-{self._worker_seq}")

    def start_airflow(self) -> None:
        self.start("api-server")
        if not wait_http(
            f"{self.cfg.ui_url}/api/v2/monitor/health", 180, self.children["api-server"].alive
        ):
            raise RuntimeError(
                f"the api-server did not answer; see {self.children['api-server'].log_path}"
            )
        for n in range(1, self.cfg.schedulers + 1):
            self.start(f"scheduler-{n}")
        for name in COMPONENTS[1:]:
            self.start(name)
        for _ in range(self.cfg.workers):
            self.add_worker()

    def kill(self, name: str) -> list[int]:
        """SIGKILL a component and its whole process tree (its host is lost)."""
        return self.children[name].kill()

    def restart(self, name: str, *, hard: bool = True) -> Child:
        child = self.children[name]
        child.kill() if hard else child.stop()
        return self.start(name)

    def dead(self) -> list[str]:
        return [n for n, c in self.children.items() if c.proc is not None and not c.alive()]

    def stop(self) -> None:
        """Stop everything: scheduler first (no new work), then workers, the rest, the stand-ins."""
        order = (
            sorted(n for n in self.children if n.startswith("scheduler-"))
            + sorted(n for n in self.children if n.startswith("worker-"))
            + ["triggerer", "dag-processor", "api-server", "standins"]
        )
        for name in order:
            if name in self.children:
                self.children[name].stop()

    @property
    def admin_password(self) -> str:
        return self._secrets["admin_password"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--port", type=int, default=int(os.environ.get("LIENTHONG_UI_PORT", 8080)))
    ap.add_argument("--speed", type=float, default=60.0, help="simulated seconds per real second")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--fresh", action="store_true", help="start from empty databases")
    args = ap.parse_args()
    root = Path.cwd()
    cluster = Cluster(
        ClusterConfig(
            root=root,
            var=root / "var" / "cluster",
            ui_port=args.port,
            speed=args.speed,
            seed=args.seed,
            fresh=args.fresh,
        )
    )
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        if stopping:
            return
        stopping = True
        print("stopping the cluster...", flush=True)
        cluster.stop()
        print("lienthong cluster stopped.", flush=True)
        raise SystemExit(0)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        cluster.prepare()
        cluster.start_airflow()
    except (RuntimeError, SystemExit) as exc:
        print(f"start-up failed: {exc}", flush=True)
        cluster.stop()
        raise SystemExit(1) from None
    cfg = cluster.cfg
    print("", flush=True)
    print("=" * 72, flush=True)
    print(f"  Airflow UI:  {cfg.ui_url}   (login: admin / {cluster.admin_password})", flush=True)
    print(
        "  Executor: Celery, schedulers "
        f"{', '.join(n for n in cluster.children if n.startswith('scheduler-'))}; "
        f"workers {', '.join(n for n in cluster.children if n.startswith('worker-'))}; "
        f"metadata + results: PostgreSQL {cfg.metadata_db}; broker: {cfg.redis_url}",
        flush=True,
    )
    print(f"  Store (lienthong_db): PostgreSQL {cfg.store_db}", flush=True)
    print(
        f"  Portal stand-in:  {cfg.portal_url}/docs   iOffice stand-in: {cfg.ioffice_root}/docs",
        flush=True,
    )
    print(f"  Component logs: {cfg.var / 'proc-logs'}   Ctrl-C stops everything.", flush=True)
    print("=" * 72, flush=True)
    while True:
        time.sleep(2)
        for name in cluster.dead():
            if name == "standins":
                print("the stand-ins exited; stopping", flush=True)
                stop()
            print(
                f"{name} exited (code {cluster.children[name].proc.returncode}); starting it again",
                flush=True,
            )
            cluster.start(name)


if __name__ == "__main__":
    main()
