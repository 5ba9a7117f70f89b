"""Helpers shared by foss's tests; the fixtures come from flusk_common's pytest plugin."""

from __future__ import annotations

import itertools
import re
from datetime import datetime
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from foss import backend
from foss.models import Foss

PROBLEM_FIELDS = {"type", "title", "status", "detail", "code", "request_id"}
RFC3339_UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z")

_numbers = itertools.count(1)


@pytest.fixture
def migrated_database_url(fresh_database_url: str, migrations: Any) -> str:
    """``fresh_database_url`` upgraded to the head revision."""
    migrations.upgrade(fresh_database_url)
    return fresh_database_url


def foss_payload(**overrides: Any) -> dict[str, Any]:
    """A valid body for POST /foss, with an email no other call returns."""
    number = next(_numbers)
    return {"name": f"Maintainer {number}", "email": f"maintainer{number}@example.org"} | overrides


def create_foss(client: FlaskClient, **overrides: Any) -> TestResponse:
    """POST /foss with a valid body, changed by ``overrides``."""
    return client.post("/foss", json=foss_payload(**overrides))


def new_foss(client: FlaskClient, **overrides: Any) -> dict[str, Any]:
    """A foss record created through the API; its JSON representation."""
    response = create_foss(client, **overrides)
    assert response.status_code == 201, response.json
    body: dict[str, Any] = response.json
    return body


def add_foss(session: Session, **overrides: Any) -> Foss:
    """A foss record created through the backend, flushed in ``session``."""
    return backend.create(session=session, **foss_payload(**overrides))


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
    """The JSON pointers a validation problem lists, each error being {pointer, detail}."""
    body = assert_problem(response, status, "validation_failed" if status == 422 else "conflict")
    for error in body["errors"]:
        assert error.keys() == {"pointer", "detail"}
        assert error["detail"]
    return [error["pointer"] for error in body["errors"]]
