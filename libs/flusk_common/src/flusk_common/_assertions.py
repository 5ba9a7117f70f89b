"""Assertions and requests for a service's tests (re-exported by ``flusk_common.testing``)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

PROBLEM_FIELDS = frozenset({"type", "title", "status", "detail", "code", "request_id"})
RFC3339_UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z")


def assert_problem(response: TestResponse, status: int, code: str | None = None) -> dict[str, Any]:
    """Check that ``response`` is RFC 9457 problem details for ``status`` (and ``code``).

    Returns the body.
    """
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.json
    assert isinstance(body, dict)
    assert PROBLEM_FIELDS <= body.keys() <= PROBLEM_FIELDS | {"errors"}
    assert body["status"] == status
    assert code is None or body["code"] == code, body["code"]
    assert body["type"] == f"urn:flusk:problem:{body['code']}"
    assert body["request_id"] == response.headers["X-Request-ID"]
    if "errors" in body:
        assert body["errors"], "errors is left out rather than empty"
    return body


def error_pointers(response: TestResponse, status: int = 422) -> list[str]:
    """The JSON pointers a validation (422) or conflict (409) problem lists, in order."""
    body = assert_problem(response, status, "validation_failed" if status == 422 else "conflict")
    for error in body["errors"]:
        assert error.keys() == {"pointer", "detail"}
        assert error["detail"]
    return [error["pointer"] for error in body["errors"]]


def send_raw(
    client: FlaskClient,
    method: str,
    url: str,
    data: bytes,
    content_type: str | None = "application/json",
) -> TestResponse:
    """A request whose body is sent byte for byte, with ``content_type`` if any."""
    headers = {"Content-Type": content_type} if content_type else {}
    return client.open(url, method=method, data=data, headers=headers)


def parse_time(value: str) -> datetime:
    """An RFC 3339 UTC timestamp of a response, as an aware datetime."""
    assert RFC3339_UTC.fullmatch(value), value
    return datetime.fromisoformat(value)
