"""run_migrations(), the body of every service's Alembic env.py, on the sample app's migrations."""

from __future__ import annotations

import gc
import warnings
from typing import Any

import sqlalchemy as sa


def test_upgrade_creates_the_tables(migrated_database_url: str) -> None:
    engine = sa.create_engine(migrated_database_url)
    try:
        tables = set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()
    assert {"alembic_version", "gadget", "widget", "part"} <= tables


def test_upgrade_closes_its_connections(fresh_database_url: str, migrations: Any) -> None:
    """run_migrations() disposes the engine it makes: no connection is left to the collector."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        migrations.upgrade(fresh_database_url)
        gc.collect()
    assert [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)] == []
