"""The Alembic migrations build exactly the schema the models declare (on both backends)."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from lienthong.store.engine import get_engine
from lienthong.store.schema import Base


def test_migrations_match_the_models(store_url):
    engine = get_engine(store_url)  # migrated to head on first use
    with engine.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": False}), Base.metadata
        )
    assert diff == []
