"""foss's Alembic migrations, on an empty database of the test's own."""

from __future__ import annotations

import gc
import warnings
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from foss.models import Foss


@pytest.fixture
def engine(fresh_database_url: str) -> Iterator[sa.Engine]:
    engine = sa.create_engine(fresh_database_url)
    yield engine
    engine.dispose()


def table_names(engine: sa.Engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names())


def test_upgrade_migrations_match_models(migrated_database_url: str, migrations: Any) -> None:
    assert migrations.drift(migrated_database_url) == []


def test_drift_migrations_empty_database(fresh_database_url: str, migrations: Any) -> None:
    assert migrations.drift(fresh_database_url) != []


def test_downgrade_migrations(
    migrated_database_url: str, migrations: Any, engine: sa.Engine
) -> None:
    assert table_names(engine) == {"alembic_version", "foss"}
    migrations.downgrade(migrated_database_url)
    assert table_names(engine) <= {"alembic_version"}
    migrations.upgrade(migrated_database_url)
    assert migrations.drift(migrated_database_url) == []


def test_insert_migrated_foss(migrated_database_url: str, engine: sa.Engine) -> None:
    insert = sa.text("INSERT INTO foss (name, email) VALUES (:name, :email)")
    with engine.begin() as connection:
        connection.execute(insert, {"name": "Ada", "email": "ada@example.org"})
        row = connection.execute(sa.select(Foss.__table__)).one()
    assert row.email == "ada@example.org"
    assert row.created_at is not None
    assert row.updated_at is not None
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as connection:
        connection.execute(insert, {"name": "Bob", "email": "ada@example.org"})


def test_upgrade_migrations_closes_connections(fresh_database_url: str, migrations: Any) -> None:
    """run_migrations() disposes the engine it makes: no connection is left to the collector."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        migrations.upgrade(fresh_database_url)
        gc.collect()
    assert [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)] == []
