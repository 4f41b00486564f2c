"""Alembic environment for the lienthong store (run programmatically by lienthong.store.engine)."""

from alembic import context
from sqlalchemy import create_engine, pool

from lienthong.store.schema import Base

config = context.config


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


given = config.attributes.get("connection")
if given is not None:
    _run(given)
else:
    with create_engine(
        config.get_main_option("sqlalchemy.url"), poolclass=pool.NullPool
    ).connect() as conn:
        _run(conn)
