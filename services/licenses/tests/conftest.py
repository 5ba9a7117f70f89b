"""Helpers shared by licenses's tests; the fixtures come from flusk_common's pytest plugin."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from licenses import backend
from licenses.models import License

URL = "/licenses"
# Ids the route reaches but that are no SPDX id: the domain answers 404 without a query.
MALFORMED_IDS = ["not valid!", "a" * 65, "x\x00", "-MIT", "MIT\n", "Apache 2.0", "é"]

_numbers = itertools.count(1)


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
