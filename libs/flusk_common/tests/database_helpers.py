"""Helpers shared by the database-side tests of flusk_common."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from flusk_common.testing import get_database

MakeApp = Callable[..., Flask]

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL") or "sqlite://"
ON_POSTGRESQL = sa.make_url(TEST_DATABASE_URL).get_backend_name() == "postgresql"
UNREACHABLE_BACKENDS = ("postgresql", "sqlite")
RETRY_AFTER = 7


def postgresql_only(reason: str) -> pytest.MarkDecorator:
    return pytest.mark.skipif(not ON_POSTGRESQL, reason=f"PostgreSQL only: {reason}")


def sqlite_only(reason: str) -> pytest.MarkDecorator:
    return pytest.mark.skipif(ON_POSTGRESQL, reason=f"SQLite only: {reason}")


def real_app(make_app: MakeApp, url: str, **config: Any) -> Flask:
    """An app on a database of its own, outside the test's transaction, with its tables."""
    app = make_app(DATABASE_URL=url, isolated=False, **config)
    database = get_database(app)
    database.metadata.create_all(database.engine)
    return app


def unreachable_app(make_app: MakeApp, backend: str, tmp_path: Path) -> Flask:
    """An app whose database cannot be opened: a closed port, or a SQLite file that is a folder."""
    urls = {
        "postgresql": "postgresql+psycopg://postgres@127.0.0.1:1/x",
        "sqlite": f"sqlite:///{tmp_path}",
    }
    return make_app(
        DATABASE_URL=urls[backend],
        DATABASE_CONNECT_TIMEOUT=1,
        RETRY_AFTER=RETRY_AFTER,
        isolated=False,
    )


def stored(app: Flask, column: Any) -> list[Any]:
    """The committed values of ``column``, in id order, read on a connection of its own."""
    with get_database(app).engine.connect() as connection:
        return list(connection.scalars(sa.select(column).order_by(column.table.c.id)))
