"""A frozen PostgreSQL is a quick 503: no request waits for the database past its deadline.

Each test freezes a server of its own (every process SIGSTOPped, sockets open), where the
server's statement_timeout cannot fire and the kernel still acknowledges every packet.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from flask import Flask

from database_helpers import real_app
from flusk_common import get_session
from flusk_common.testing import assert_problem, get_database
from private_postgres import PrivatePostgres, private_postgres

__all__ = ["private_postgres"]  # the fixture

MakeApp = Callable[..., Flask]
LONG = 600  # seconds: what any wait would take without a client-side deadline
BOUND = 30  # seconds a test waits for an answer before it fails (never hangs)


def outcome_within(call: Callable[[], Any]) -> Any:
    """What ``call`` returned or raised, failing the test if it is still waiting after BOUND."""
    outcome: list[Any] = []

    def run() -> None:
        try:
            outcome.append(call())
        except Exception as exc:  # the test inspects it
            outcome.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(BOUND)
    assert outcome, f"still waiting for the database after {BOUND} s"
    return outcome[0]


def frozen_server_app(make_app: MakeApp, server: PrivatePostgres, **config: object) -> Flask:
    settings = {
        "REQUEST_DEADLINE": 2.0,
        "DATABASE_STATEMENT_TIMEOUT": LONG * 1000,
        "DATABASE_CONNECT_TIMEOUT": 2,
        "RETRY_AFTER": 7,
        **config,
    }
    return real_app(make_app, server.url, **settings)


def test_answer_503_when_database_freezes_under_pooled_connection(
    make_app: MakeApp, private_postgres: PrivatePostgres
) -> None:
    client = frozen_server_app(make_app, private_postgres).test_client()
    assert client.get("/readyz").status_code == 200  # a connection waits in the pool
    with private_postgres.frozen():
        response = outcome_within(lambda: client.get("/readyz"))
    assert_problem(response, 503, "database_unavailable")
    assert response.headers["Retry-After"] == "7"
    assert client.get("/readyz").status_code == 200  # the dead connection was replaced


def test_answer_503_when_database_is_frozen_before_connecting(
    make_app: MakeApp, private_postgres: PrivatePostgres
) -> None:
    client = frozen_server_app(make_app, private_postgres).test_client()
    with private_postgres.frozen():
        response = outcome_within(lambda: client.get("/readyz"))
    assert_problem(response, 503, "database_unavailable")


def test_cut_statement_at_request_deadline(
    make_app: MakeApp, private_postgres: PrivatePostgres
) -> None:
    app = frozen_server_app(make_app, private_postgres)
    with app.test_request_context("/widgets"):
        app.preprocess_request()  # starts the request's clock
        session = get_session()
        session.execute(sa.text("SELECT 1"))
        with private_postgres.frozen():
            failure = outcome_within(lambda: session.execute(sa.text("SELECT 2")))
        assert isinstance(failure, sa.exc.OperationalError)
        session.rollback()


def test_cut_statement_outside_request_after_statement_timeout(
    make_app: MakeApp, private_postgres: PrivatePostgres
) -> None:
    """Migrations and scripts have no request deadline; the statement timeout bounds them."""
    app = frozen_server_app(make_app, private_postgres, DATABASE_STATEMENT_TIMEOUT=500)
    with get_database(app).engine.connect() as connection:
        connection.execute(sa.text("SELECT 1"))
        with private_postgres.frozen():
            failure = outcome_within(lambda: connection.execute(sa.text("SELECT 2")))
        assert isinstance(failure, sa.exc.OperationalError)


def test_keep_answering_on_live_server_after_deadline_armed(
    make_app: MakeApp, private_postgres: PrivatePostgres
) -> None:
    """A connection returned to the pool is never cut by a deadline of an earlier request."""
    client = frozen_server_app(make_app, private_postgres, REQUEST_DEADLINE=0.3).test_client()
    assert client.get("/readyz").status_code == 200
    time.sleep(0.5)
    assert client.get("/readyz").status_code == 200
    assert client.get("/widgets").status_code == 200


def test_keep_connection_after_refused_statement(
    make_app: MakeApp, private_postgres: PrivatePostgres
) -> None:
    """A statement the server refuses has ended: its deadline must not cut the connection later."""
    app = frozen_server_app(make_app, private_postgres, DATABASE_STATEMENT_TIMEOUT=100)
    with get_database(app).engine.connect() as connection:
        failure = outcome_within(lambda: connection.execute(sa.text("SELECT 1/0")))
        assert isinstance(failure, sa.exc.DataError)
        connection.rollback()
        time.sleep(1.5)  # past the refused statement's deadline (0.1 s + 1 s)
        assert connection.execute(sa.text("SELECT 2")).scalar() == 2
