"""The pytest plugin's fixtures: a rolled-back transaction per test, and databases of their own."""

from __future__ import annotations

import sqlalchemy as sa
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from database_helpers import TEST_DATABASE_URL, postgresql_only
from sample_app.models import Widget

LEAK_CHECK = "written by the previous test"


def _widget_names(session: Session) -> list[str]:
    return list(session.scalars(sa.select(Widget.name)))


def test_write_widget_in_a_test(client: FlaskClient, db_session: Session) -> None:
    assert client.post("/widgets", json={"name": LEAK_CHECK}).status_code == 201
    assert _widget_names(db_session) == [LEAK_CHECK]


def test_see_nothing_of_the_previous_test(client: FlaskClient, db_session: Session) -> None:
    """Runs after the test above: its widget was rolled back."""
    assert _widget_names(db_session) == []
    assert client.get("/widgets").get_json()["items"] == []


def test_see_db_session_writes_in_requests(client: FlaskClient, db_session: Session) -> None:
    db_session.add(Widget(name="from the test"))
    db_session.flush()

    assert [item["name"] for item in client.get("/widgets").get_json()["items"]] == [
        "from the test"
    ]


def test_give_fresh_database_without_tables(fresh_database_url: str, database_url: str) -> None:
    engine = sa.create_engine(fresh_database_url)
    try:
        assert sa.inspect(engine).get_table_names() == []
    finally:
        engine.dispose()
    assert fresh_database_url != database_url


@postgresql_only("the plugin makes its own databases on PostgreSQL")
def test_run_on_a_database_of_its_own(database_url: str, fresh_database_url: str) -> None:
    base = sa.make_url(TEST_DATABASE_URL).database
    names = [sa.make_url(url).database or "" for url in (database_url, fresh_database_url)]

    assert all(name.startswith("flusk_test_") and name != base for name in names)
