"""CORS from an allow-list: exact origins echoed, preflights before auth, headers on errors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

ORIGIN = "https://a.example"
OTHER_ORIGIN = "https://b.example"
API_KEY = "cors-test-key"
ALLOW_ORIGIN = "Access-Control-Allow-Origin"
ALLOW_CREDENTIALS = "Access-Control-Allow-Credentials"

MakeApp = Callable[..., Flask]


def cors_client(make_app: MakeApp, *origins: str, **config: Any) -> FlaskClient:
    return make_app(CORS_ORIGINS=origins or (ORIGIN, OTHER_ORIGIN), **config).test_client()


def get_from(client: FlaskClient, origin: str, url: str = "/healthz") -> TestResponse:
    return client.get(url, headers={"Origin": origin})


def preflight(client: FlaskClient, url: str, method: str, origin: str = ORIGIN) -> TestResponse:
    return client.options(
        url,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": "content-type, x-api-key",
        },
    )


def header_values(response: TestResponse, name: str) -> set[str]:
    return {value.strip() for value in response.headers.get(name, "").split(",")}


@pytest.mark.parametrize("origin", [ORIGIN, OTHER_ORIGIN])
def test_echo_allowed_origin(make_app: MakeApp, origin: str) -> None:
    response = get_from(cors_client(make_app), origin)
    assert response.headers[ALLOW_ORIGIN] == origin
    assert "Origin" in response.vary
    assert "X-Request-ID" in header_values(response, "Access-Control-Expose-Headers")
    assert ALLOW_CREDENTIALS not in response.headers


@pytest.mark.parametrize(
    "origin", ["https://evil.example", "https://a.example.evil.example", "http://a.example", "null"]
)
def test_omit_allow_origin_for_origin_not_allowed(make_app: MakeApp, origin: str) -> None:
    response = get_from(cors_client(make_app), origin)
    assert ALLOW_ORIGIN not in response.headers
    assert "Origin" in response.vary


def test_vary_on_origin_without_cors_configured(client: FlaskClient) -> None:
    response = get_from(client, ORIGIN)
    assert ALLOW_ORIGIN not in response.headers
    assert "Origin" in response.vary


def test_answer_preflight_without_api_key_or_content_type(make_app: MakeApp) -> None:
    response = preflight(cors_client(make_app, API_KEYS=(API_KEY,)), "/widgets/search", "POST")
    assert response.status_code == 204
    assert response.headers[ALLOW_ORIGIN] == ORIGIN
    assert "POST" in header_values(response, "Access-Control-Allow-Methods")
    assert {"Content-Type", "X-API-Key"} <= header_values(response, "Access-Control-Allow-Headers")
    assert "Origin" in response.vary


def test_list_every_method_of_path_in_preflight(make_app: MakeApp) -> None:
    # GET /widgets and POST /widgets are two rules of one path.
    response = preflight(cors_client(make_app), "/widgets", "GET")
    assert {"GET", "POST"} <= header_values(response, "Access-Control-Allow-Methods")


def test_answer_preflight_for_origin_not_allowed_without_grants(make_app: MakeApp) -> None:
    response = preflight(cors_client(make_app), "/widgets", "POST", origin="https://evil.example")
    assert response.status_code == 204
    assert ALLOW_ORIGIN not in response.headers
    assert "Access-Control-Allow-Methods" not in response.headers


ERRORS = [
    pytest.param("POST", "/widgets/search", {}, API_KEY, 422, id="422"),
    pytest.param("GET", "/nowhere", None, API_KEY, 404, id="404"),
    pytest.param("GET", "/widgets/boom", None, API_KEY, 500, id="500"),
    pytest.param("GET", "/widgets/values", None, "wrong-key", 401, id="401"),
]


@pytest.mark.parametrize(("method", "url", "body", "api_key", "status"), ERRORS)
def test_add_cors_headers_to_error(
    make_app: MakeApp, method: str, url: str, body: Any, api_key: str, status: int
) -> None:
    client = cors_client(make_app, API_KEYS=(API_KEY,))
    headers = {"X-API-Key": api_key, "Origin": ORIGIN}
    response = client.open(url, method=method, json=body, headers=headers)
    assert response.status_code == status
    assert response.headers[ALLOW_ORIGIN] == ORIGIN
    assert "Origin" in response.vary


def test_allow_credentials_when_configured(make_app: MakeApp) -> None:
    client = cors_client(make_app, ORIGIN, CORS_ALLOW_CREDENTIALS=True)
    assert get_from(client, ORIGIN).headers[ALLOW_CREDENTIALS] == "true"
    assert preflight(client, "/widgets", "POST").headers[ALLOW_CREDENTIALS] == "true"
    assert ALLOW_CREDENTIALS not in get_from(client, OTHER_ORIGIN).headers


def test_allow_any_origin_with_wildcard(make_app: MakeApp) -> None:
    client = cors_client(make_app, "*")
    response = get_from(client, ORIGIN)
    assert response.headers[ALLOW_ORIGIN] == "*"
    assert ALLOW_CREDENTIALS not in response.headers
    assert ALLOW_ORIGIN not in get_from(client, "null").headers
