"""The database of an app: one session per request, committed once, and the engine's tuning."""

from __future__ import annotations

import time
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy.orm import Session

from database_helpers import MakeApp, postgresql_only, real_app, sqlite_only, stored
from flusk_common import get_session
from flusk_common.testing import get_database
from sample_app.models import Widget


def test_share_one_session_within_request(app: Flask) -> None:
    with app.test_request_context("/widgets", method="POST"):
        assert get_session() is get_session()


def test_commit_session_once_after_view(make_app: MakeApp, fresh_database_url: str) -> None:
    app = real_app(make_app, fresh_database_url)
    commits: list[object] = []
    sa.event.listen(get_database(app).session_factory, "after_commit", commits.append)

    response = app.test_client().post("/widgets", json={"name": "kept"})

    assert response.status_code == 201
    assert len(commits) == 1
    assert stored(app, Widget.name) == ["kept"]


def test_roll_back_session_when_view_raises(make_app: MakeApp, fresh_database_url: str) -> None:
    app = real_app(make_app, fresh_database_url)

    response = app.test_client().post("/widgets/doomed", json={"name": "lost"})

    assert response.status_code == 500
    assert stored(app, Widget.name) == []


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [("/widgets/doomed", {"name": "any"}, 500), ("/widgets/999/parts", {}, 409)],
    ids=["view-raised", "commit-failed"],
)
def test_close_session_at_teardown_after_failure(
    make_app: MakeApp, fresh_database_url: str, path: str, body: dict[str, str], status: int
) -> None:
    app = real_app(make_app, fresh_database_url)

    assert app.test_client().post(path, json=body).status_code == status

    assert get_database(app).engine.pool.checkedout() == 0


@sqlite_only("PRAGMAs are SQLite's")
def test_tune_sqlite_connections(make_app: MakeApp) -> None:
    app = make_app(SQLITE_BUSY_TIMEOUT=1234)

    with get_database(app).engine.connect() as connection:
        pragma = {
            name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()
            for name in ("foreign_keys", "journal_mode", "busy_timeout", "synchronous")
        }

    assert pragma == {
        "foreign_keys": 1,
        "journal_mode": "wal",
        "busy_timeout": 1234,
        "synchronous": 1,
    }


def _sqlite_trace(app: Flask) -> list[str]:
    """Every statement SQLite runs for ``app`` from now on, as its connections send them."""
    engine = get_database(app).engine
    engine.dispose()  # connections opened from now on are traced from their first statement
    sent: list[str] = []

    @sa.event.listens_for(engine, "connect")
    def _trace(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.set_trace_callback(sent.append)

    return sent


@sqlite_only("the statements are read from SQLite's own trace")
def test_read_sends_its_select_alone_on_sqlite(make_app: MakeApp, fresh_database_url: str) -> None:
    app = real_app(make_app, fresh_database_url)
    client = app.test_client()
    created = client.post("/widgets", json={"name": "read"}).get_json()
    sent = _sqlite_trace(app)
    assert client.get("/widgets").status_code == 200  # the connection opens (PRAGMAs)
    sent.clear()

    assert client.get(f"/widgets/{created['id']}").get_json()["name"] == "read"
    assert client.get("/widgets").status_code == 200

    # No ping, no BEGIN and no COMMIT around a read: one statement each.
    assert [statement.split()[0] for statement in sent] == ["SELECT", "SELECT"]


@sqlite_only("the statements are read from SQLite's own trace")
def test_write_still_takes_write_lock_at_begin_after_read(
    make_app: MakeApp, fresh_database_url: str
) -> None:
    app = real_app(make_app, fresh_database_url)
    client = app.test_client()
    sent = _sqlite_trace(app)
    assert client.get("/widgets").status_code == 200
    sent.clear()

    assert client.post("/widgets", json={"name": "written"}).status_code == 201

    assert sent[0] == "BEGIN IMMEDIATE"
    assert sent[-1] == "COMMIT"
    assert stored(app, Widget.name) == ["written"]


@postgresql_only("statement_timeout and timezone are PostgreSQL settings")
def test_tune_postgresql_connections(make_app: MakeApp) -> None:
    app = make_app(DATABASE_STATEMENT_TIMEOUT=4321)

    with get_database(app).engine.connect() as connection:
        settings = {
            name: connection.exec_driver_sql(f"SHOW {name}").scalar()
            for name in ("statement_timeout", "timezone")
        }

    assert settings == {"statement_timeout": "4321ms", "timezone": "UTC"}


def _terminate_other_connections(url: str) -> int:
    """Terminate every other connection to ``url``'s database; wait until they are gone."""
    others = "FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            terminated = len(
                connection.exec_driver_sql(f"SELECT pg_terminate_backend(pid) {others}").all()
            )
            for _ in range(500):  # until the backends have exited, not only been signalled
                if not connection.exec_driver_sql(f"SELECT count(*) {others}").scalar():
                    break
                time.sleep(0.01)
    finally:
        admin.dispose()
    return terminated


@postgresql_only("pg_terminate_backend() is PostgreSQL's")
def test_reconnect_after_pooled_connections_terminated(
    make_app: MakeApp, fresh_database_url: str
) -> None:
    client = real_app(make_app, fresh_database_url).test_client()
    assert client.post("/widgets", json={"name": "before"}).status_code == 201

    assert _terminate_other_connections(fresh_database_url) >= 1

    assert client.get("/widgets").get_json()["items"][0]["name"] == "before"


def test_commit_nothing_when_answer_cannot_be_encoded(app: Flask, db_session: Session) -> None:
    response = app.test_client().post("/widgets/unencodable", json={"name": "unencodable"})
    assert response.status_code == 500
    assert db_session.scalars(sa.select(Widget).filter_by(name="unencodable")).all() == []
