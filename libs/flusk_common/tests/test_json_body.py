"""Request bodies: one JSON object, sent as application/json in UTF-8, small and shallow enough."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from flask import Blueprint
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from flusk_common import create_service_app, request_body
from flusk_common.testing import assert_problem

URL = "/bodies"
OWNER = "someone@example.com"
ONE_MIB = 1024 * 1024
DEFAULT_MAX_DEPTH = 32

bodies = Blueprint("bodies", __name__)


# The endpoint borrows sample_app's search_widgets schema: any "notes", a required "owner".
@bodies.route(URL, methods=["POST", "PUT", "PATCH"], endpoint="search_widgets")
def echo_body() -> dict[str, Any]:
    return {"body": request_body()}


def body_client(**config: Any) -> FlaskClient:
    """A service taking a JSON body on POST, PUT and PATCH."""
    app = create_service_app(
        "sample_app",
        blueprints=[bodies],
        metadata=sa.MetaData(),
        test_config={"TESTING": True, "DATABASE_URL": "sqlite://", **config},
    )
    return app.test_client()


def send(
    data: bytes | str,
    content_type: str | None = "application/json",
    method: str = "POST",
    **config: Any,
) -> TestResponse:
    return body_client(**config).open(URL, method=method, data=data, content_type=content_type)


def padded_body(size: int) -> bytes:
    """A valid body of exactly ``size`` bytes."""
    head, tail = f'{{"owner": "{OWNER}", "notes": "'.encode(), b'"}'
    return head + b"x" * (size - len(head) - len(tail)) + tail


def nested(depth: int) -> dict[str, Any]:
    """A body whose objects nest ``depth`` levels deep, the body itself included."""
    value: dict[str, Any] = {}
    for _ in range(depth - 2):
        value = {"n": value}
    return {"owner": OWNER, "notes": value}


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH"])
@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        ('{"owner": "a@example.com"}', "text/plain"),
        ('{"owner": "a@example.com"}', None),
        ("owner=a%40example.com", "application/x-www-form-urlencoded"),
        ('{"owner": "a@example.com"}', "application/json-patch+json"),
    ],
    ids=["text", "missing", "form", "other-json-type"],
)
def test_refuse_body_not_sent_as_json(method: str, data: str, content_type: str | None) -> None:
    assert_problem(send(data, content_type, method), 415, "unsupported_media_type")


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH"])
@pytest.mark.parametrize(
    "content_type",
    ["application/json", "application/json; charset=utf-8", "application/json;charset=UTF-8"],
)
def test_accept_json_body(method: str, content_type: str) -> None:
    response = send(f'{{"owner": "{OWNER}"}}', content_type, method)
    assert response.status_code == 200, response.json
    assert response.json == {"body": {"owner": OWNER}}


@pytest.mark.parametrize("charset", ["latin-1", "utf-16", "ascii"])
def test_refuse_json_in_other_charset(charset: str) -> None:
    response = send(f'{{"owner": "{OWNER}"}}', f"application/json; charset={charset}")
    assert_problem(response, 415, "unsupported_media_type")


MALFORMED = {
    "syntax": b'{"owner": ',
    "trailing-garbage": b'{"owner": "a@example.com"} x',
    "invalid-utf8": b'{"owner": "\xff\xfe"}',
    "empty": b"",
    "whitespace": b" \n\t\r ",
    "array": b'[{"owner": "a@example.com"}]',
    "string": b'"a@example.com"',
    "number": b"42",
    "null": b"null",
    "nan": b'{"owner": "a@example.com", "notes": NaN}',
    "infinity": b'{"owner": "a@example.com", "notes": Infinity}',
    "minus-infinity": b'{"owner": "a@example.com", "notes": -Infinity}',
    "lone-surrogate": b'{"owner": "a@example.com", "notes": "\\ud800"}',
    "100000-objects": b'{"n":' * 100_000 + b"1" + b"}" * 100_000,
    "100000-arrays": b'{"n":' + b"[" * 100_000 + b"]" * 100_000 + b"}",
}


@pytest.mark.parametrize("data", MALFORMED.values(), ids=MALFORMED.keys())
def test_refuse_malformed_body(data: bytes) -> None:
    assert_problem(send(data), 400, "malformed_json")


def test_accept_body_nested_to_limit() -> None:
    response = body_client().post(URL, json=nested(DEFAULT_MAX_DEPTH))
    assert response.status_code == 200, response.json


def test_refuse_body_nested_deeper_than_limit() -> None:
    response = body_client().post(URL, json=nested(DEFAULT_MAX_DEPTH + 1))
    body = assert_problem(response, 400, "malformed_json")
    assert str(DEFAULT_MAX_DEPTH) in body["detail"]


def test_refuse_body_nested_deeper_than_configured_limit() -> None:
    client = body_client(JSON_MAX_DEPTH=3)
    assert client.post(URL, json=nested(3)).status_code == 200
    assert_problem(client.post(URL, json=nested(4)), 400, "malformed_json")


def test_refuse_nested_arrays_deeper_than_limit() -> None:
    arrays: list[Any] = []
    for _ in range(DEFAULT_MAX_DEPTH):
        arrays = [arrays]
    response = body_client().post(URL, json={"owner": OWNER, "notes": arrays})
    assert_problem(response, 400, "malformed_json")


@pytest.mark.parametrize(("limit", "config"), [(ONE_MIB, {}), (100, {"MAX_CONTENT_LENGTH": 100})])
def test_accept_body_at_size_limit(limit: int, config: dict[str, Any]) -> None:
    response = send(padded_body(limit), **config)
    assert response.status_code == 200, response.json


@pytest.mark.parametrize(("limit", "config"), [(ONE_MIB, {}), (100, {"MAX_CONTENT_LENGTH": 100})])
def test_refuse_body_over_size_limit(limit: int, config: dict[str, Any]) -> None:
    assert_problem(send(padded_body(limit + 1), **config), 413)


@pytest.mark.parametrize("method", ["POST", "PATCH"])
def test_answer_missing_body_as_missing(client: FlaskClient, method: str) -> None:
    """No body and no Content-Type: the body is missing, not of the wrong type."""
    url = "/gadgets" if method == "POST" else "/gadgets/1"
    body = assert_problem(client.open(url, method=method), 400, "malformed_json")
    assert "no body" in body["detail"]


def test_state_the_size_limit(client: FlaskClient) -> None:
    response = client.post("/gadgets", data=b"x" * 2_000_000, content_type="application/json")
    body = assert_problem(response, 413, "request_entity_too_large")
    assert "1048576 bytes" in body["detail"]
