"""Pytest fixtures for Flusk services (registered through the ``pytest11`` entry point).

A service names its app factory in its pytest settings, ``flusk_app = "foss:create_app"``.
Tests run on SQLite by default and on PostgreSQL when ``TEST_DATABASE_URL`` is set; there
the plugin creates a database of its own for the run and drops it at the end, so suites
running side by side never collide. Each test runs in a transaction rolled back after it.
"""

from __future__ import annotations

import importlib
import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from ._client import close_service_clients
from ._database import get_database
from ._document_check import DocumentedClient
from ._service_fakes import Handler, ServiceFake

AppFactory = Callable[[dict[str, Any] | None], Flask]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini("flusk_app", "the service's app factory, as 'package:create_app'")
    parser.addini("flusk_alembic_ini", "the service's alembic.ini", default="alembic.ini")


@contextmanager
def _new_database(tmp_dir: Path) -> Iterator[str]:
    """A new empty database: a SQLite file, or a PostgreSQL database made and dropped here."""
    base = sa.make_url(_test_database_url())
    if base.get_backend_name() == "sqlite":
        yield f"sqlite:///{tmp_dir / f'{uuid.uuid4().hex}.db'}"
        return
    if base.get_backend_name() != "postgresql":
        raise pytest.UsageError("TEST_DATABASE_URL must be a postgresql:// URL")
    name = f"flusk_test_{uuid.uuid4().hex[:16]}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        yield base.set(database=name).render_as_string(hide_password=False)
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        admin.dispose()


def _test_database_url() -> str:
    return os.environ.get("TEST_DATABASE_URL") or "sqlite://"


@pytest.fixture(scope="session")
def flusk_app_factory(pytestconfig: pytest.Config) -> AppFactory:
    """The factory named by the ``flusk_app`` setting."""
    target = str(pytestconfig.getini("flusk_app"))
    if ":" not in target:
        raise pytest.UsageError("set flusk_app = 'package:create_app' in the pytest settings")
    module, _, attribute = target.partition(":")
    factory: AppFactory = getattr(importlib.import_module(module), attribute)
    return factory


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The run's database, holding the models' tables."""
    with _new_database(tmp_path_factory.mktemp("database")) as url:
        yield url


@pytest.fixture
def new_database_url(tmp_path: Path) -> Iterator[Callable[[], str]]:
    """Make empty databases of the test's own: each call gives a new one, dropped after."""
    with ExitStack() as databases:

        def make() -> str:
            return databases.enter_context(_new_database(tmp_path))

        yield make


@pytest.fixture
def fresh_database_url(new_database_url: Callable[[], str]) -> str:
    """An empty database of the test's own, outside the rolled-back transaction."""
    return new_database_url()


@pytest.fixture
def migrated_database_url(fresh_database_url: str, migrations: Migrations) -> str:
    """``fresh_database_url`` upgraded to the service's head revision."""
    migrations.upgrade(fresh_database_url)
    return fresh_database_url


@pytest.fixture(scope="session")
def flusk_engine(flusk_app_factory: AppFactory, database_url: str) -> Iterator[sa.Engine]:
    """The engine of the run's database, with the tables made from the models."""
    database = get_database(flusk_app_factory({"TESTING": True, "DATABASE_URL": database_url}))
    database.metadata.create_all(database.engine)
    yield database.engine
    database.engine.dispose()


@pytest.fixture
def db_connection(flusk_engine: sa.Engine) -> Iterator[sa.Connection]:
    """A connection in a transaction that is rolled back when the test ends."""
    with flusk_engine.connect() as connection:
        transaction = connection.begin()
        yield connection
        transaction.rollback()


@pytest.fixture
def make_app(
    flusk_app_factory: AppFactory, database_url: str, request: pytest.FixtureRequest
) -> Iterator[Callable[..., Flask]]:
    """Make an app with extra settings; by default bound to the test's transaction.

    ``make_app(API_KEYS=("k",))`` or, for a real database of its own,
    ``make_app(DATABASE_URL=url, isolated=False)``. Its test client checks every answer
    against the app's OpenAPI document (see ``_document_check``).
    """
    made: list[Flask] = []

    def make(*, isolated: bool = True, **config: Any) -> Flask:
        app = flusk_app_factory({"TESTING": True, "DATABASE_URL": database_url, **config})
        app.test_client_class = DocumentedClient
        if isolated:
            get_database(app).bind_to(request.getfixturevalue("db_connection"))
        made.append(app)
        return app

    yield make
    for app in made:
        get_database(app).engine.dispose()
        close_service_clients(app)


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    """The service app, its sessions inside the test's transaction."""
    return make_app()


@pytest.fixture
def fake_service() -> Iterator[Callable[[str, Handler], httpx.MockTransport]]:
    """Fake a service this one calls: ``fake_service("licenses", handler)`` is a transport.

    Pass it as ``make_app(SERVICE_TRANSPORTS={"licenses": transport})``. Every answer the
    handler gives is checked against the faked service's OpenAPI document; the test fails
    if one differs, so the fake cannot drift from the service it stands for.
    """
    fakes: list[ServiceFake] = []

    def make(service: str, handler: Handler) -> httpx.MockTransport:
        fake = ServiceFake(service, handler)
        fakes.append(fake)
        return fake.transport

    yield make
    problems = [f"{fake.service}: {problem}" for fake in fakes for problem in fake.problems]
    if problems:
        pytest.fail(
            "a fake answered what its service's document does not allow:\n" + "\n".join(problems)
        )


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client; send JSON with ``client.post(url, json=...)``, read ``response.json``."""
    return app.test_client()


@pytest.fixture
def db_session(db_connection: sa.Connection) -> Iterator[Session]:
    """A session inside the test's transaction; it sees what requests of the test wrote."""
    session = Session(
        bind=db_connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    yield session
    session.close()


class Migrations:
    """Runs the service's Alembic migrations against a given database."""

    def __init__(self, ini_path: Path, metadata: sa.MetaData) -> None:
        self.ini_path = ini_path
        self.metadata = metadata

    def _config(self, url: str) -> Config:
        config = Config(str(self.ini_path))
        config.attributes["configure_logger"] = False
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
        return config

    def upgrade(self, url: str, revision: str = "head") -> None:
        command.upgrade(self._config(url), revision)

    def downgrade(self, url: str, revision: str = "base") -> None:
        command.downgrade(self._config(url), revision)

    def drift(self, url: str) -> list[Any]:
        """What the models declare that the migrated database lacks, or has differently."""
        engine = sa.create_engine(url)
        try:
            with engine.connect() as connection:
                context = MigrationContext.configure(connection, opts={"compare_type": True})
                diffs: list[Any] = compare_metadata(context, self.metadata)
                return diffs
        finally:
            engine.dispose()


@pytest.fixture
def migrations(pytestconfig: pytest.Config, flusk_app_factory: AppFactory) -> Migrations:
    """The service's migrations, to run on ``fresh_database_url``."""
    ini_path = pytestconfig.rootpath / str(pytestconfig.getini("flusk_alembic_ini"))
    app = flusk_app_factory({"TESTING": True, "DATABASE_URL": "sqlite://"})
    return Migrations(ini_path, get_database(app).metadata)
