"""licenses's Alembic migrations, on an empty database of the test's own."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from flusk_common.testing import assert_matches
from licenses.models import License
from licenses.views import resource

TABLE = License.__table__
COMMON_COUNT = 18


@pytest.fixture
def engine(fresh_database_url: str) -> Iterator[sa.Engine]:
    engine = sa.create_engine(fresh_database_url)
    yield engine
    engine.dispose()


def table_names(engine: sa.Engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names())


def stored_licenses(engine: sa.Engine) -> dict[str, Any]:
    """Every stored license row, by SPDX id."""
    with engine.connect() as connection:
        return {row.spdx_id: row for row in connection.execute(sa.select(TABLE))}


def revision(engine: sa.Engine) -> str:
    with engine.connect() as connection:
        return str(connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar())


def add_own_license(engine: sa.Engine) -> None:
    """A license of the user's own, which no migration knows."""
    execute(
        engine, TABLE.insert().values(spdx_id="LicenseRef-Mine", name="Mine", osi_approved=False)
    )


def execute(engine: sa.Engine, statement: sa.Executable) -> None:
    with engine.begin() as connection:
        connection.execute(statement)


# schema (drift and the round trip are checked by test_contract.py)


def test_upgrade_migrations_to_head(migrated_database_url: str, engine: sa.Engine) -> None:
    assert table_names(engine) == {"alembic_version", "licenses"}
    assert revision(engine) == "0002"


def test_upgrade_migrations_schema_only(
    fresh_database_url: str, migrations: Any, engine: sa.Engine
) -> None:
    migrations.upgrade(fresh_database_url, revision="0001")
    assert migrations.drift(fresh_database_url) == []
    assert stored_licenses(engine) == {}


# the data migration: common licenses


def test_upgrade_migrations_loads_common_licenses(
    migrated_database_url: str, engine: sa.Engine
) -> None:
    stored = stored_licenses(engine)
    assert len(stored) == COMMON_COUNT
    expected = {
        "MIT": ("MIT License", True),
        "Apache-2.0": ("Apache License 2.0", True),
        "GPL-3.0-only": ("GNU General Public License v3.0 only", True),
        "CC0-1.0": ("Creative Commons Zero v1.0 Universal", False),
    }
    for spdx_id, (name, osi_approved) in expected.items():
        row = stored[spdx_id]
        assert (row.name, row.osi_approved) == (name, osi_approved)
        assert row.url == f"https://spdx.org/licenses/{spdx_id}.html"
        assert row.created_at is not None
        assert row.updated_at is not None
    assert [spdx_id for spdx_id, row in stored.items() if not row.osi_approved] == ["CC0-1.0"]


def test_upgrade_migrations_loads_valid_licenses(
    migrated_database_url: str, engine: sa.Engine
) -> None:
    """The seeded rows obey the API's own rules, so the API can read and change them."""
    for row in stored_licenses(engine).values():
        fields = {name: getattr(row, name) for name in resource.writable}
        assert_matches(fields, resource.create_schema, f"the seeded {row.spdx_id}")


def test_downgrade_migrations_removes_unchanged_licenses(
    migrated_database_url: str, migrations: Any, engine: sa.Engine
) -> None:
    add_own_license(engine)
    execute(engine, TABLE.update().where(TABLE.c.spdx_id == "MIT").values(name="The MIT"))
    migrations.downgrade(migrated_database_url, revision="0001")
    assert revision(engine) == "0001"
    stored = stored_licenses(engine)
    assert sorted(stored) == ["LicenseRef-Mine", "MIT"]
    assert stored["MIT"].name == "The MIT"


@pytest.mark.parametrize(
    "changes",
    [
        {"osi_approved": False},
        {"url": "https://opensource.org/license/mit"},
        {"url": None},
    ],
)
def test_downgrade_migrations_keeps_changed_licenses(
    migrated_database_url: str, migrations: Any, engine: sa.Engine, changes: dict[str, Any]
) -> None:
    execute(engine, TABLE.update().where(TABLE.c.spdx_id == "MIT").values(**changes))
    migrations.downgrade(migrated_database_url, revision="0001")
    assert sorted(stored_licenses(engine)) == ["MIT"]


def test_upgrade_migrations_after_downgrade_keeps_changed_licenses(
    migrated_database_url: str, migrations: Any, engine: sa.Engine
) -> None:
    execute(engine, TABLE.update().where(TABLE.c.spdx_id == "MIT").values(name="The MIT"))
    migrations.downgrade(migrated_database_url, revision="0001")
    migrations.upgrade(migrated_database_url)
    stored = stored_licenses(engine)
    assert len(stored) == COMMON_COUNT
    assert stored["MIT"].name == "The MIT"


def test_downgrade_migrations_to_base(
    migrated_database_url: str, migrations: Any, engine: sa.Engine
) -> None:
    add_own_license(engine)
    migrations.downgrade(migrated_database_url)
    assert table_names(engine) <= {"alembic_version"}
    migrations.upgrade(migrated_database_url)
    assert migrations.drift(migrated_database_url) == []
    assert len(stored_licenses(engine)) == COMMON_COUNT
