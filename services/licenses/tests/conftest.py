"""Helpers shared by licenses's tests; the fixtures come from flusk_common's pytest plugin."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from licenses import backend
from licenses.models import License

URL = "/licenses"
PROBLEM_FIELDS = {"type", "title", "status", "detail", "code", "request_id"}
RFC3339_UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z")
# Ids the route reaches but that are no SPDX id: the domain answers 404 without a query.
MALFORMED_IDS = ["not valid!", "a" * 65, "x\x00", "-MIT", "MIT\n", "Apache 2.0", "é"]

_numbers = itertools.count(1)


@pytest.fixture
def migrated_database_url(fresh_database_url: str, migrations: Any) -> str:
    """``fresh_database_url`` upgraded to the head revision (common licenses loaded)."""
    migrations.upgrade(fresh_database_url)
    return fresh_database_url


@pytest.fixture
def statements(db_connection: sa.Connection) -> Iterator[list[str]]:
    """The SQL statements sent on the test's connection from now on."""
    sent: list[str] = []

    def record(*args: Any) -> None:
        sent.append(args[2])

    sa.event.listen(db_connection, "before_cursor_execute", record)
    yield sent
    sa.event.remove(db_connection, "before_cursor_execute", record)


def new_spdx_id() -> str:
    """An SPDX id no other call returns; ids made later sort after ids made earlier."""
    return f"LicenseRef-Test-{next(_numbers):05d}"


def license_payload(**overrides: Any) -> dict[str, Any]:
    """A valid body for POST /licenses (required fields only), changed by ``overrides``."""
    spdx_id = new_spdx_id()
    return {"spdx_id": spdx_id, "name": f"Test License {spdx_id[-5:]}"} | overrides


def create_license(client: FlaskClient, **overrides: Any) -> TestResponse:
    """POST /licenses with a valid body, changed by ``overrides``."""
    return client.post(URL, json=license_payload(**overrides))


def new_license(client: FlaskClient, **overrides: Any) -> dict[str, Any]:
    """A license created through the API; its JSON representation."""
    response = create_license(client, **overrides)
    assert response.status_code == 201, response.json
    body: dict[str, Any] = response.json
    return body


def add_license(session: Session, **overrides: Any) -> License:
    """A license created through the backend, flushed in ``session``."""
    return backend.create(session=session, fields=license_payload(**overrides))


def send_raw(
    client: FlaskClient,
    method: str,
    url: str,
    data: bytes,
    content_type: str | None = "application/json",
) -> TestResponse:
    """A request whose body is sent byte for byte."""
    headers = {"Content-Type": content_type} if content_type else {}
    return client.open(url, method=method, data=data, headers=headers)


def parse_time(value: str) -> datetime:
    """An RFC 3339 UTC timestamp of a response, as an aware datetime."""
    assert RFC3339_UTC.fullmatch(value), value
    return datetime.fromisoformat(value)


def assert_problem(response: TestResponse, status: int, code: str) -> dict[str, Any]:
    """Check that ``response`` is RFC 9457 problem details for ``status``; return its body."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body: dict[str, Any] = response.json
    assert PROBLEM_FIELDS <= body.keys() <= PROBLEM_FIELDS | {"errors"}
    assert body["status"] == status
    assert body["code"] == code
    assert body["type"].endswith(code)
    assert body["request_id"] == response.headers["X-Request-ID"]
    return body


def error_pointers(response: TestResponse, status: int = 422) -> list[str]:
    """The JSON pointers a validation (422) or conflict (409) problem lists."""
    body = assert_problem(response, status, "validation_failed" if status == 422 else "conflict")
    for error in body["errors"]:
        assert error.keys() == {"pointer", "detail"}
        assert error["detail"]
    return [error["pointer"] for error in body["errors"]]
