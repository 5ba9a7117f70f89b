"""The gateway's own errors: 413, 429, 502 and 504, as problem+json like the services'."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterator

import httpx
import pytest

from conftest import ALLOWED_ORIGIN, upstream_of
from flusk_tools.gateway import Upstream
from helpers import (
    assert_problem,
    assert_security_headers,
    create_foss,
    foss_body,
    wait_for_log_line,
)
from stack import GatewayProcess, ServiceProcess

MiB = 1024 * 1024
MakeGateway = Callable[..., GatewayProcess]
MakeService = Callable[..., ServiceProcess]


def json_body_of_size(size: int) -> bytes:
    """A JSON object of exactly ``size`` bytes."""
    skeleton = b'{"name": ""}'
    return skeleton[:-2] + b"x" * (size - len(skeleton)) + skeleton[-2:]


def test_answer_413_over_body_limit(client: httpx.Client) -> None:
    response = client.post(
        "/foss", content=json_body_of_size(MiB + 1), headers={"Content-Type": "application/json"}
    )
    assert_problem(response, 413, "request_entity_too_large")


def test_forward_body_at_limit(client: httpx.Client) -> None:
    """The gateway and the services share one limit: a body at it reaches the service."""
    response = client.post(
        "/foss", content=json_body_of_size(MiB), headers={"Content-Type": "application/json"}
    )
    assert_problem(response, 422, "validation_failed")


def test_answer_429_over_rate_limit(
    foss_service: ServiceProcess, make_gateway: MakeGateway
) -> None:
    gateway = make_gateway([upstream_of(foss_service)], rate_limit=1, rate_burst=2)
    with httpx.Client(base_url=gateway.url) as client:
        statuses = [client.get("/foss").status_code for _ in range(6)]
        assert statuses[:3] == [200, 200, 200]
        assert 429 in statuses
        limited = client.get("/foss")
        assert_problem(limited, 429, "too_many_requests")
        assert limited.headers["Retry-After"] == "1"


def test_rate_limit_each_client_behind_trusted_proxy(
    foss_service: ServiceProcess, make_gateway: MakeGateway
) -> None:
    """Behind an Ingress every request comes from its controller: the limit is per client."""
    gateway = make_gateway(
        [upstream_of(foss_service)], rate_limit=1, rate_burst=2, trusted_proxies=("127.0.0.0/8",)
    )
    with httpx.Client(base_url=gateway.url) as client:
        first = {"X-Forwarded-For": "203.0.113.7"}
        statuses = [client.get("/foss", headers=first).status_code for _ in range(6)]
        assert 429 in statuses
        other = client.get("/foss", headers={"X-Forwarded-For": "198.51.100.1, 203.0.113.8"})
        assert other.status_code == 200
    entry = json.loads(wait_for_log_line(gateway.log, other.headers["X-Request-ID"]))
    assert entry["client"] == "203.0.113.8"  # the last address that is not a trusted proxy


def test_answer_502_while_service_down(
    make_service: MakeService, make_gateway: MakeGateway
) -> None:
    service = make_service()
    gateway = make_gateway([upstream_of(service)])
    with httpx.Client(base_url=gateway.url) as client:
        assert create_foss(client).status_code == 201
        service.stop()
        assert_problem(client.get("/foss"), 502, "bad_gateway")
        assert_problem(client.post("/foss", json=foss_body()), 502, "bad_gateway")
        service.start()
        assert create_foss(client).status_code == 201


class SilentUpstream:
    """A server that takes requests and never answers, counting the connections it gets."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self.listener.getsockname()[1]
        self.connections: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            self.connections.append(connection)

    def close(self) -> None:
        self.listener.close()
        for connection in self.connections:
            connection.close()
        self.thread.join(timeout=5)


@pytest.fixture
def silent_upstream() -> Iterator[SilentUpstream]:
    upstream = SilentUpstream()
    yield upstream
    upstream.close()


def test_answer_504_when_service_too_slow(
    silent_upstream: SilentUpstream, make_gateway: MakeGateway
) -> None:
    upstream = Upstream("slow", "/slow", f"127.0.0.1:{silent_upstream.port}")
    gateway = make_gateway([upstream], read_timeout="1s")
    with httpx.Client(base_url=gateway.url, timeout=30) as client:
        response = client.post("/slow", json={"a": 1})
    assert_problem(response, 504, "gateway_timeout")
    # Sent once and never replayed: one connection reached the upstream.
    assert len(silent_upstream.connections) == 1


def test_answer_414_for_overlong_url(client: httpx.Client) -> None:
    assert_problem(client.get("/foss?cursor=" + "a" * 20_000), 414, "request_uri_too_large")


def test_answer_431_for_oversized_header(client: httpx.Client) -> None:
    response = client.get("/foss", headers={"X-Big": "b" * 20_000})
    assert_problem(response, 431, "request_header_fields_too_large")


@pytest.mark.parametrize(
    ("method", "path", "status"), [("GET", "/unrouted", 404), ("POST", "/foss", 413)]
)
def test_allow_cors_on_gateway_errors(
    client: httpx.Client, method: str, path: str, status: int
) -> None:
    headers = {"Origin": ALLOWED_ORIGIN, "Content-Type": "application/json"}
    body = json_body_of_size(MiB + 1) if method == "POST" else None
    response = client.request(method, path, headers=headers, content=body)
    assert response.status_code == status
    assert response.headers["Access-Control-Allow-Origin"] == ALLOWED_ORIGIN
    assert "Origin" in response.headers["Vary"]
    assert_security_headers(response)


def test_refuse_cors_on_gateway_errors_for_other_origins(client: httpx.Client) -> None:
    response = client.get("/unrouted", headers={"Origin": "https://elsewhere.example"})
    assert response.status_code == 404
    assert "Access-Control-Allow-Origin" not in response.headers


@pytest.mark.parametrize(
    "origin",
    [
        "https://APP.example",
        "HTTPS://app.example",
        "https://app.example.evil",
        "https://appXexample",
    ],
)
def test_refuse_cors_on_gateway_errors_for_origin_not_exactly_listed(
    client: httpx.Client, origin: str
) -> None:
    """Origins compare exactly, as the services compare them: case and dots matter."""
    response = client.get("/unrouted", headers={"Origin": origin})
    assert response.status_code == 404
    assert "Access-Control-Allow-Origin" not in response.headers
