"""What the gateway adds to every answer: request ids, security headers, CORS passing through."""

from __future__ import annotations

import uuid

import httpx
import pytest

from helpers import GENERATED_REQUEST_ID, assert_problem, assert_security_headers, create_foss


def test_keep_sane_request_id(client: httpx.Client) -> None:
    request_id = f"client-{uuid.uuid4()}"
    response = client.get("/foss/2000000000", headers={"X-Request-ID": request_id})
    # The service received the same id: it is in the body the service wrote.
    assert assert_problem(response, 404, "record_not_found")["request_id"] == request_id
    assert response.headers.get_list("X-Request-ID") == [request_id]


@pytest.mark.parametrize("request_id", ["x" * 129, "has space", "semi;colon", 'quote"'])
def test_replace_insane_request_id(client: httpx.Client, request_id: str) -> None:
    response = client.get("/foss/2000000000", headers={"X-Request-ID": request_id})
    body = assert_problem(response, 404, "record_not_found")
    assert GENERATED_REQUEST_ID.fullmatch(body["request_id"])


def test_generate_request_id(client: httpx.Client) -> None:
    first, second = create_foss(client), create_foss(client)
    ids = [response.headers.get_list("X-Request-ID") for response in (first, second)]
    assert all(len(values) == 1 and GENERATED_REQUEST_ID.fullmatch(values[0]) for values in ids)
    assert ids[0] != ids[1]


def test_request_id_on_gateway_errors(client: httpx.Client) -> None:
    response = client.get("/unrouted", headers={"X-Request-ID": "mine-1"})
    assert assert_problem(response, 404, "not_found")["request_id"] == "mine-1"


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/healthz"), ("GET", "/unrouted"), ("GET", "/foss"), ("GET", "/foss/2000000000")],
)
def test_add_security_headers(client: httpx.Client, method: str, path: str) -> None:
    assert_security_headers(client.request(method, path))


def test_add_security_headers_to_created(client: httpx.Client) -> None:
    assert_security_headers(create_foss(client))


def test_pass_cors_preflight(client: httpx.Client) -> None:
    response = client.options(
        "/foss",
        headers={
            "Origin": "https://app.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "Content-Type",
        },
    )
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == "https://app.example"
    assert "POST" in response.headers["Access-Control-Allow-Methods"]


def test_refuse_cors_for_unlisted_origin(client: httpx.Client) -> None:
    response = client.get("/foss", headers={"Origin": "https://elsewhere.example"})
    assert response.status_code == 200
    assert "Access-Control-Allow-Origin" not in response.headers
