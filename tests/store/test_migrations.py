"""The Alembic migrations build exactly the schema the models declare (on both backends)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from lienthong.store.engine import get_engine
from lienthong.store.schema import Base
from tests.conftest import ROOT


def test_migrations_match_the_models(store_url):
    engine = get_engine(store_url)  # migrated to head on first use
    with engine.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": False}), Base.metadata
        )
    assert diff == []


@pytest.mark.slow  # starts processes
def test_processes_migrating_one_new_sqlite_file_at_once_all_succeed(tmp_path):
    """A scheduler's tasks and a command may open a fresh SQLite store at the same moment: each
    migrates it, one after the other (before the lock file, the second failed with "table
    bypass_document already exists")."""
    url = f"sqlite:///{tmp_path}/store.sqlite"
    code = (
        "import sys; from lienthong.store.engine import get_engine; "
        "from sqlalchemy import text; "
        f"e = get_engine({url!r}); "
        "print(e.connect().execute(text('select version_num from alembic_version')).scalar())"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "include"), str(ROOT / "rig")])}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        for _ in range(4)
    ]
    outcomes = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0], [err[-400:] for _, err in outcomes]
    heads = {out.decode().strip().splitlines()[-1] for out, _ in outcomes}
    assert len(heads) == 1


@pytest.mark.slow  # starts a process
def test_a_process_dying_mid_migration_leaves_a_store_the_next_one_migrates(tmp_path):
    """A task killed while it migrates a fresh SQLite store (here: the process exits at once at
    its fifth ``create_table``, as SIGKILL would leave it): nothing of the half migration stays,
    and the next process migrates the store to head (before, the first tables had been committed
    one by one and every later start failed with "table ... already exists")."""
    url = f"sqlite:///{tmp_path}/store.sqlite"
    code = (
        "import os\n"
        "from alembic.operations import Operations\n"
        "create, made = Operations.create_table, []\n"
        "def dying(self, *args, **kwargs):\n"
        "    made.append(1)\n"
        "    if len(made) == 5:\n"
        "        os._exit(9)\n"
        "    return create(self, *args, **kwargs)\n"
        "Operations.create_table = dying\n"
        "from lienthong.store.engine import get_engine\n"
        f"get_engine({url!r})\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "include"), str(ROOT / "rig")])}
    died = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, timeout=120)
    assert died.returncode == 9, died.stderr[-400:]
    engine = get_engine(url)
    with engine.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": False}), Base.metadata
        )
    assert diff == []
