"""JSON Schema validation of bodies and query strings: 422 listing every violation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from flask import Blueprint
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from flusk_common import query_params
from flusk_common._schemas import compile_schema
from flusk_common.testing import assert_problem
from test_app_factory import make_package, package_app

SEARCH = "/widgets/search"
OWNER = "someone@example.com"


def field_errors(response: TestResponse) -> dict[str, str]:
    """The 422's errors as {pointer: detail}."""
    errors = assert_problem(response, 422, "validation_failed")["errors"]
    assert all(set(error) == {"pointer", "detail"} for error in errors)
    return {error["pointer"]: error["detail"] for error in errors}


def search(client: FlaskClient, **body: Any) -> TestResponse:
    return client.post(SEARCH, json=body)


def test_list_every_violation(client: FlaskClient) -> None:
    errors = field_errors(
        search(client, tags=["ok", 5], filter={"min_price": "cheap"}, colour="red")
    )
    assert list(errors) == ["/colour", "/filter/min_price", "/owner", "/tags/1"]
    assert (
        errors["/colour"] == "is not a known field; the known fields are owner, tags, filter, notes"
    )
    assert errors["/owner"] == "is required"
    assert "number" in errors["/filter/min_price"]
    assert "string" in errors["/tags/1"]


def test_refuse_wrong_type(client: FlaskClient) -> None:
    assert field_errors(search(client, owner=42)) == {"/owner": "must be a string"}


def test_describe_violation_without_echoing_value(client: FlaskClient) -> None:
    long_tag = "secret-" + "x" * 5000
    errors = field_errors(search(client, owner=OWNER, tags=[long_tag]))
    assert errors == {"/tags/0": "must be at most 10 characters long"}


def test_refuse_unknown_nested_field(client: FlaskClient) -> None:
    errors = field_errors(search(client, owner=OWNER, filter={"max_price": 3}))
    assert errors == {"/filter/max_price": "is not a known field; the known fields are min_price"}


@pytest.mark.parametrize("owner", ["not-an-email", "someone@", "@example.com", "a@@example.com"])
def test_refuse_invalid_email(client: FlaskClient, owner: str) -> None:
    assert list(field_errors(search(client, owner=owner))) == ["/owner"]


def test_accept_valid_body(client: FlaskClient) -> None:
    body = {"owner": OWNER, "tags": ["a", "b"], "filter": {"min_price": 1.5}, "notes": [None]}
    response = client.post(SEARCH, json=body)
    assert response.status_code == 200, response.json
    assert response.json == {"query": body}


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({"owner": OWNER, "tags": ["ok", "a\x00b"]}, "/tags/1"),
        ({"owner": OWNER, "notes": {"deep": ["\x00"]}}, "/notes/deep/0"),
        ({"owner": OWNER, "notes": {"k\x00": 1}}, "/notes"),
    ],
    ids=["array-item", "nested", "field-name"],
)
def test_refuse_nul_character(client: FlaskClient, body: dict[str, Any], pointer: str) -> None:
    errors = field_errors(client.post(SEARCH, json=body))
    assert list(errors) == [pointer]
    assert "NUL" in errors[pointer]


def test_type_integer_query_parameter(client: FlaskClient) -> None:
    for number in range(6):
        assert client.post("/widgets", json={"name": f"widget {number}"}).status_code == 201
    response = client.get("/widgets?limit=5")
    assert response.status_code == 200, response.json
    assert len(response.json["items"]) == 5
    assert response.json["next_cursor"] is not None


@pytest.mark.parametrize(
    "query",
    [
        *("limit=abc", "limit=0", "limit=101", "limit=1.5", "limit=1&limit=2"),
        *("limit=1_0", "limit=+5", "limit=%205", "limit=%D9%A1"),
    ],
)
def test_refuse_invalid_query_parameter(client: FlaskClient, query: str) -> None:
    assert list(field_errors(client.get(f"/widgets?{query}"))) == ["/limit"]


def test_refuse_unknown_query_parameter(client: FlaskClient) -> None:
    errors = field_errors(client.get("/widgets?limit=5&colour=red"))
    assert errors == {"/colour": "is not a known field; the known fields are limit, cursor"}


def test_refuse_query_parameter_without_schema(client: FlaskClient) -> None:
    assert list(field_errors(client.get("/widgets/values?x=1"))) == ["/x"]


def test_refuse_query_string_on_body_endpoint(client: FlaskClient) -> None:
    response = client.post(f"{SEARCH}?debug=1", json={"owner": OWNER})
    body = assert_problem(response, 422, "validation_failed")
    assert "debug" in body["detail"]


THINGS_QUERY = {
    "type": "object",
    "properties": {
        "ids": {"type": "array", "items": {"type": "integer"}},
        "min": {"type": "number"},
        "active": {"type": "boolean"},
        "name": {"type": "string"},
    },
    "additionalProperties": False,
}


@pytest.fixture
def things_client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FlaskClient:
    """A service whose GET /things echoes its typed query parameters."""
    package = make_package(tmp_path, monkeypatch)
    (package / "schemas" / "list_things.json").write_text(json.dumps(THINGS_QUERY))
    things = Blueprint("things", package.name)

    @things.get("/things")
    def list_things() -> dict[str, Any]:
        return query_params()

    return package_app(package, things).test_client()


def test_type_query_parameters_by_schema(things_client: FlaskClient) -> None:
    response = things_client.get("/things?ids=1&ids=2&min=1.5&active=true&name=007")
    assert response.status_code == 200, response.json
    assert response.json == {"ids": [1, 2], "min": 1.5, "active": True, "name": "007"}


@pytest.mark.parametrize(
    ("query", "pointer"),
    [
        ("ids=1&ids=x", "/ids/1"),
        ("min=abc", "/min"),
        ("active=yes", "/active"),
        ("name=a&name=b", "/name"),
    ],
)
def test_refuse_query_parameter_of_wrong_type(
    things_client: FlaskClient, query: str, pointer: str
) -> None:
    assert list(field_errors(things_client.get(f"/things?{query}"))) == [pointer]


@pytest.mark.parametrize(
    ("pattern", "value", "valid"),
    [
        ("^[a-z]+$", "mit", True),
        ("^[a-z]+$", "mit\n", False),
        ("^[$]+$", "$$", True),
        ("^a\\$$", "a$", True),
        ("^a\\$$", "a$\n", False),
        ("b", "abc", True),
        ("^[]a]+$", "]a", False),  # ECMA: [] matches nothing
        ("^[^]]+$", "a]", True),  # ECMA: [^] matches anything
        ("^\\s+$", "\x85", False),  # ECMA: NEL is no white space
        ("^\\s+$", "\u2028", True),
        ("^\\d+$", "\u0663", False),  # ECMA: \d is ASCII digits only
        ("^\\w+$", "\u00e9", False),
    ],
)
def test_match_patterns_as_ecma_262(pattern: str, value: str, valid: bool) -> None:
    """JSON Schema patterns are ECMA-262: ``$`` never matches before a final newline."""
    validator = compile_schema({"type": "string", "pattern": pattern})
    assert validator.is_valid(value) is valid
