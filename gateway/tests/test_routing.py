"""Every service prefix is routed unchanged, `/foss` and `/foss/...` alike; nothing else is."""

from __future__ import annotations

import uuid

import httpx
import pytest

from helpers import assert_problem, create_foss, foss_body, wait_for_log_line
from stack import ServiceProcess

GATEWAY_NOT_FOUND = "No service serves this path."


def test_route_bare_prefix_without_redirect(client: httpx.Client) -> None:
    response = create_foss(client)
    assert response.status_code == 201
    assert response.headers["Location"] == f"/foss/{response.json()['id']}"


def test_route_paths_under_prefix(client: httpx.Client) -> None:
    created = create_foss(client).json()
    assert client.get(f"/foss/{created['id']}").json() == created
    listing = client.get("/foss", params={"limit": 100})
    assert listing.status_code == 200
    assert created["id"] in {item["id"] for item in listing.json()["items"]}


@pytest.mark.parametrize(
    "path", ["/", "/nope", "/fossil", "/foss-x/1", "/FOSS", "/readyz", "/nope.html", "/x.gif"]
)
def test_answer_404_for_unrouted_path(client: httpx.Client, path: str) -> None:
    body = assert_problem(client.get(path), 404, "not_found")
    assert body["detail"] == GATEWAY_NOT_FOUND


def test_answer_own_health(client: httpx.Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "component": "gateway"}


def test_pass_service_errors_through(client: httpx.Client) -> None:
    assert_problem(client.get("/foss/2000000000"), 404, "record_not_found")
    malformed = client.post("/foss", content=b"{", headers={"Content-Type": "application/json"})
    assert_problem(malformed, 400, "malformed_json")
    invalid = client.post("/foss", json=foss_body(email="not-an-email"))
    assert assert_problem(invalid, 422, "validation_failed")["errors"][0]["pointer"] == "/email"
    wrong_method = client.delete("/foss")
    assert_problem(wrong_method, 405, "method_not_allowed")
    assert "POST" in wrong_method.headers["Allow"]


def test_forward_client_address(client: httpx.Client, foss_service: ServiceProcess) -> None:
    """The service gets the address the gateway saw (here 127.0.0.2) as X-Forwarded-For."""
    transport = httpx.HTTPTransport(local_address="127.0.0.2")
    with httpx.Client(base_url=str(client.base_url), transport=transport) as other_client:
        request_id = f"forwarded-{uuid.uuid4()}"
        other_client.get("/foss", headers={"X-Request-ID": request_id})
    logged = wait_for_log_line(foss_service.log, request_id)
    assert "forwarded_for=127.0.0.2" in logged


def test_replace_forwarded_for_from_client(
    client: httpx.Client, foss_service: ServiceProcess
) -> None:
    request_id = f"spoofed-{uuid.uuid4()}"
    client.get("/foss", headers={"X-Request-ID": request_id, "X-Forwarded-For": "203.0.113.7"})
    assert "forwarded_for=127.0.0.1" in wait_for_log_line(foss_service.log, request_id)


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE", "OPTIONS", "PROPFIND"])
def test_answer_own_health_to_get_and_head_only(client: httpx.Client, method: str) -> None:
    response = client.request(method, "/healthz")
    assert_problem(response, 405, "method_not_allowed")
    assert response.headers["Allow"] == "GET, HEAD"
    assert client.head("/healthz").status_code == 200


@pytest.mark.parametrize("path", ["/foss//1", "//foss", "/foss/1//", "/foss/"])
def test_never_redirect_from_client_host(client: httpx.Client, path: str) -> None:
    """No answer is a redirect built from the Host header the client sent."""
    response = client.get(path, headers={"Host": "evil.example"})
    assert response.status_code == 404
    assert response.headers["Content-Type"].startswith("application/problem+json")
    assert "Location" not in response.headers


@pytest.mark.parametrize("method", ["GET", "PUT", "PATCH", "DELETE"])
@pytest.mark.parametrize("record_id", ["0", "2147483648", "99999999999999999999"])
def test_answer_404_for_out_of_range_id_to_every_method(
    client: httpx.Client, method: str, record_id: str
) -> None:
    response = client.request(method, f"/foss/{record_id}", json=foss_body())
    assert_problem(response, 404, "not_found")
    assert "Allow" not in response.headers
