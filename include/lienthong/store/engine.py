"""Engine creation and schema migration for the store.

The store is its own database (SQLite file by default, PostgreSQL in production),
reached through the Airflow connection ``lienthong_db``; the schema is owned by
Alembic so an upgrade keeps data.
"""

from __future__ import annotations

import fcntl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, text

MIGRATIONS = Path(__file__).with_name("migrations")
_migrated: set[str] = set()
_lock = threading.Lock()


def url_from_connection(conn) -> str:
    """SQLAlchemy URL for an Airflow connection (sqlite: host = file path; postgres: usual
    fields)."""
    conn_type = (conn.conn_type or "").lower()
    if conn_type == "sqlite":
        return f"sqlite:///{conn.host}"
    if conn_type in {"postgres", "postgresql"}:
        auth = conn.login or ""
        if conn.password:
            auth += ":" + quote(conn.password, safe="")
        host = f"{auth}@{conn.host}" if auth else conn.host
        port = f":{conn.port}" if conn.port else ""
        return f"postgresql+psycopg2://{host}{port}/{conn.schema}"
    raise ValueError(f"unsupported store connection type {conn.conn_type!r}")


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


_engines: dict[str, Engine] = {}


def get_engine(url: str) -> Engine:
    """One pooled engine per URL per process, schema migrated to head on first use."""
    with _lock:
        engine = _engines.get(url)
    if engine is not None:
        return engine
    engine = _create(url)
    migrate(engine)
    with _lock:
        return _engines.setdefault(url, engine)


def dispose_engine(url: str) -> None:
    with _lock:
        engine = _engines.pop(url, None)
        _migrated.discard(url)
    if engine is not None:
        engine.dispose()


def _create(url: str) -> Engine:
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        engine = create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)
    return engine


def migrate(engine: Engine) -> None:
    """Upgrade the schema to head (idempotent). Concurrent callers serialise: in this process on a
    lock, across processes on PostgreSQL's advisory lock, or on a SQLite file's lock file (SQLite
    has no lock a migration could take before its first table exists)."""
    key = engine.url.render_as_string(hide_password=False)
    with _lock:
        if key in _migrated:
            return
        cfg = alembic_config(engine.url.render_as_string(hide_password=False))
        with _sqlite_file_lock(engine):
            if engine.dialect.name == "sqlite":
                _upgrade_sqlite_atomically(engine, cfg)
            else:
                with engine.begin() as conn:
                    if conn.dialect.name == "postgresql":  # several workers may start at once
                        conn.execute(text("SELECT pg_advisory_xact_lock(7261001)"))
                    cfg.attributes["connection"] = conn
                    command.upgrade(cfg, "head")
        _migrated.add(key)


def _upgrade_sqlite_atomically(engine: Engine, cfg) -> None:  # noqa: ANN001 - alembic Config
    """The whole upgrade in one SQLite transaction. The driver's own transaction handling runs DDL
    outside any transaction, so a process killed mid-migration left tables without their version
    row, and every later start failed ("table ... already exists"); here the driver is left in
    autocommit and the transaction is the database's own, rolled back by SQLite if the process
    dies."""
    with engine.execution_options(isolation_level="AUTOCOMMIT").connect() as conn:
        conn.exec_driver_sql("BEGIN IMMEDIATE")
        try:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
        except BaseException:
            conn.exec_driver_sql("ROLLBACK")
            raise
        conn.exec_driver_sql("COMMIT")


@contextmanager
def _sqlite_file_lock(engine: Engine) -> Iterator[None]:
    """An exclusive lock on ``<database>.migrate.lock`` for a SQLite file; nothing otherwise."""
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        yield
        return
    with open(f"{database}.migrate.lock", "a+b") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
