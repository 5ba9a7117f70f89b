"""One engine and session factory per app; one session per request, committed once.

The session of a request is made on first use (``get_session()``), committed by the app
after the view returns (see ``ServiceApp.dispatch_request``), and closed at teardown, which
rolls back whatever was not committed.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app, g, has_request_context, request
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker

from ._db_deadline import bound_connections

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
READ_METHODS = frozenset({"GET", "HEAD"})
_EXTENSION = "flusk.database"
_SQLITE_BEGIN = "flusk_sqlite_begin"


class Database:
    """The engine, session factory and models' metadata of one app."""

    def __init__(self, config: Mapping[str, Any], *, metadata: sa.MetaData) -> None:
        self.metadata = metadata
        self.engine = create_engine(config)
        # The same engine and pool, but its transactions take SQLite's write lock at BEGIN.
        self.write_engine = self.engine.execution_options(**{_SQLITE_BEGIN: "BEGIN IMMEDIATE"})
        # Reads need no transaction: without BEGIN and COMMIT a read by id is one statement
        # (on PostgreSQL one round trip, not three). SQLite's connections are in autocommit
        # mode already (see _on_connect), so there it is enough to emit no BEGIN; its
        # AUTOCOMMIT isolation level would reset each connection to the sqlite3 module's own
        # transaction handling when it is returned.
        self.read_engine = self.engine.execution_options(
            **({_SQLITE_BEGIN: None} if self.is_sqlite else {"isolation_level": "AUTOCOMMIT"})
        )
        self.session_factory = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    def bind_to(self, connection: Connection) -> None:
        """Run every session inside ``connection``'s transaction, as savepoints (for tests)."""
        self.session_factory.configure(bind=connection, join_transaction_mode="create_savepoint")

    def ping(self) -> None:
        """Raise unless the database answers ``SELECT 1``."""
        with self.engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))


def init_database(app: Flask, *, metadata: sa.MetaData) -> Database:
    """The app's database, from its settings: one session per request, closed at teardown."""
    database = Database(app.config, metadata=metadata)
    app.extensions[_EXTENSION] = database
    app.teardown_appcontext(_close_session)
    return database


def get_database(app: Flask | None = None) -> Database:
    database: Database = (app or current_app).extensions[_EXTENSION]
    return database


def get_session() -> Session:
    """The session of the current request (or app context), made on first use."""
    if "flusk_session" not in g:
        database = get_database()
        bound_to_engine = database.session_factory.kw["bind"] is database.engine
        if (
            bound_to_engine
            and database.is_sqlite
            and has_request_context()
            and request.method in WRITE_METHODS
        ):
            # A write request's transaction takes SQLite's write lock when it begins (at
            # its first statement, not before): a reader that later writes could fail
            # with SQLITE_BUSY_SNAPSHOT, which no busy timeout can wait out.
            g.flusk_session = database.session_factory(bind=database.write_engine)
        elif bound_to_engine and has_request_context() and request.method in READ_METHODS:
            g.flusk_session = database.session_factory(bind=database.read_engine)
        else:
            g.flusk_session = database.session_factory()
    session_in_use: Session = g.flusk_session
    return session_in_use


def commit_session() -> None:
    """Commit the request's session, if the request used one."""
    session: Session | None = g.get("flusk_session")
    if session is not None:
        session.commit()


def _close_session(_exc: BaseException | None) -> None:
    session: Session | None = g.pop("flusk_session", None)
    if session is not None:
        session.close()


def create_engine(config: Mapping[str, Any]) -> Engine:
    """The engine for ``config["DATABASE_URL"]``, tuned for SQLite or PostgreSQL."""
    url = sa.make_url(config["DATABASE_URL"])
    if url.get_backend_name() == "sqlite":
        return _create_sqlite_engine(url, config)
    connect_args: dict[str, Any] = {}
    if url.get_backend_name() == "postgresql":
        connect_args = {
            "connect_timeout": config["DATABASE_CONNECT_TIMEOUT"],
            "options": f"-c statement_timeout={config['DATABASE_STATEMENT_TIMEOUT']}"
            " -c timezone=UTC",
        }
    engine = sa.create_engine(
        url,
        connect_args=connect_args,
        # On PostgreSQL, connections are pinged at checkout under a deadline instead.
        pool_pre_ping=url.get_backend_name() != "postgresql",
        pool_size=config["DATABASE_POOL_SIZE"],
        # A request waits at most this long for a pooled connection (below REQUEST_DEADLINE).
        pool_timeout=config["DATABASE_CONNECT_TIMEOUT"],
    )
    if url.get_backend_name() == "postgresql":
        bound_connections(engine, config)
    return engine


def _create_sqlite_engine(url: sa.URL, config: Mapping[str, Any]) -> Engine:
    # No ping at checkout: a SQLite connection is a file opened in this process, which no
    # server or network can close under it.
    engine = sa.create_engine(url)
    busy_timeout = int(config["SQLITE_BUSY_TIMEOUT"])
    database_file = url.database
    if database_file and database_file != ":memory:" and not database_file.startswith("file:"):

        @sa.event.listens_for(engine, "do_connect")
        def _make_parent_folder(*_args: Any) -> None:
            Path(database_file).parent.mkdir(parents=True, exist_ok=True)

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin,
        # so that SAVEPOINT and BEGIN IMMEDIATE behave as written.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {busy_timeout}")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        begin = connection.get_execution_options().get(_SQLITE_BEGIN, "BEGIN")
        if begin is not None:  # None: a read, each statement its own transaction
            connection.exec_driver_sql(begin)

    @sa.event.listens_for(engine, "reset")
    def _end_open_transaction(dbapi_connection: Any, _record: Any, _state: Any) -> None:
        # A COMMIT refused by a deferred constraint leaves SQLite's transaction open (and its
        # write lock held), while SQLAlchemy counts it as ended and skips the rollback on return.
        if dbapi_connection.in_transaction:
            dbapi_connection.rollback()

    return engine
