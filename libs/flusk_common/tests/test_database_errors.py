"""What the database refuses becomes a 4xx problem, never a 500 or a 2xx; a lost database a 503."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session

from database_helpers import (
    ON_POSTGRESQL,
    RETRY_AFTER,
    UNREACHABLE_BACKENDS,
    MakeApp,
    real_app,
    stored,
    unreachable_app,
)
from flusk_common import Conflict, FieldError, flush_or_conflict
from flusk_common.testing import assert_problem, get_database
from sample_app.models import Part, Widget


def test_raise_conflict_from_flush_on_unique_violation(db_session: Session) -> None:
    db_session.add(Widget(name="twin"))
    flush_or_conflict(db_session)
    db_session.add(Widget(name="twin"))

    with pytest.raises(Conflict) as raised:
        flush_or_conflict(db_session)

    assert raised.value.errors == [FieldError("/name", "is already taken")]
    assert isinstance(raised.value.__cause__, sa_exc.IntegrityError)


@pytest.mark.parametrize(
    ("path", "created"),
    [("/widgets", 201), ("/widgets/unflushed", 204)],
    ids=["at-flush", "at-commit"],
)
def test_answer_409_on_duplicate_name(client: FlaskClient, path: str, created: int) -> None:
    assert client.post(path, json={"name": "twin"}).status_code == created

    body = assert_problem(client.post(path, json={"name": "twin"}), 409, "conflict")

    assert body["errors"] == [{"pointer": "/name", "detail": "is already taken"}]


def test_answer_409_when_commit_fails(make_app: MakeApp, fresh_database_url: str) -> None:
    app = real_app(make_app, fresh_database_url)
    client = app.test_client()

    response = client.post("/widgets/999/parts", json={})

    assert_problem(response, 409, "conflict")
    assert stored(app, Part.id) == []
    assert client.post("/widgets", json={"name": "after"}).status_code == 201


@pytest.mark.parametrize("backend", UNREACHABLE_BACKENDS)
@pytest.mark.parametrize(("method", "body"), [("GET", None), ("POST", {"name": "any"})])
def test_answer_503_when_database_unreachable(
    make_app: MakeApp, tmp_path: Path, backend: str, method: str, body: dict[str, Any] | None
) -> None:
    client = unreachable_app(make_app, backend, tmp_path).test_client()

    response = client.open("/widgets", method=method, json=body)

    assert_problem(response, 503, "database_unavailable")
    assert response.headers["Retry-After"] == str(RETRY_AFTER)


@contextmanager
def _widget_table_locked(url: str) -> Iterator[None]:
    """Another connection holds the write lock (SQLite) or the widget table's lock."""
    engine = sa.create_engine(url)
    lock = "BEGIN IMMEDIATE" if engine.dialect.name == "sqlite" else "LOCK TABLE widget"
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql(lock)
            yield
    finally:
        engine.dispose()


def test_answer_503_when_database_locked(make_app: MakeApp, fresh_database_url: str) -> None:
    real_app(make_app, fresh_database_url)  # the tables, made without the short timeouts
    app = make_app(
        DATABASE_URL=fresh_database_url,
        isolated=False,
        SQLITE_BUSY_TIMEOUT=1,
        DATABASE_STATEMENT_TIMEOUT=50,
        RETRY_AFTER=RETRY_AFTER,
    )

    with _widget_table_locked(fresh_database_url):
        response = app.test_client().post("/widgets", json={"name": "waiting"})

    assert_problem(response, 503, "database_unavailable")
    assert response.headers["Retry-After"] == str(RETRY_AFTER)
    assert get_database(app).engine.pool.checkedout() == 0


def test_answer_422_for_nul_character(client: FlaskClient) -> None:
    response = client.post("/widgets", json={"name": "nul\x00here"})

    body = assert_problem(response, 422, "validation_failed")
    assert [error["pointer"] for error in body["errors"]] == ["/name"]
    assert client.get("/widgets").get_json()["items"] == []


def test_answer_400_for_lone_surrogate(client: FlaskClient) -> None:
    response = client.post(
        "/widgets", data=b'{"name": "lone \\ud800"}', content_type="application/json"
    )

    assert_problem(response, 400, "malformed_json")
    assert client.get("/widgets").get_json()["items"] == []


def test_answer_422_for_price_out_of_range(client: FlaskClient) -> None:
    response = client.post("/widgets", json={"name": "dear", "price": 1e20})

    if ON_POSTGRESQL:
        assert_problem(response, 422, "validation_failed")
    else:  # SQLite stores any number in a NUMERIC column
        assert response.status_code == 201
