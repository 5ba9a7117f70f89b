"""foss calls licenses for real: both under gunicorn, behind the real gateway.

foss reaches licenses directly on its port (FOSS_LICENSES_URL), as in `make run` and
compose; clients reach both through the gateway.
"""

from __future__ import annotations

import importlib
import json
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import httpx
import pytest

from conftest import upstream_of
from flusk_tools.registry import Service, load_services
from helpers import assert_problem, foss_body, raw_request
from stack import ROOT, GatewayProcess, ServiceProcess


@dataclass
class Stack:
    foss: ServiceProcess
    licenses: ServiceProcess
    client: httpx.Client
    gateway: GatewayProcess


@pytest.fixture
def stack(
    make_service: Callable[..., ServiceProcess], make_gateway: Callable[..., GatewayProcess]
) -> Iterator[Stack]:
    licenses = make_service("licenses")
    foss = make_service(
        FOSS_LICENSES_URL=licenses.url, SERVICE_CONNECT_TIMEOUT="1", SERVICE_READ_TIMEOUT="2"
    )
    gateway = make_gateway([upstream_of(foss), upstream_of(licenses)])
    with httpx.Client(base_url=gateway.url, timeout=30) as client:
        yield Stack(foss, licenses, client, gateway)


def test_create_foss_with_license_through_gateway(stack: Stack) -> None:
    # MIT is one of the licenses the licenses service's data migration loads.
    response = stack.client.post("/foss", json=foss_body(license="MIT"))
    assert response.status_code == 201, response.text
    assert response.json()["license"] == "MIT"
    listed = stack.client.get("/foss", params={"license": "MIT"}).json()["items"]
    assert [item["id"] for item in listed] == [response.json()["id"]]


TRACEPARENT = f"00-{secrets.token_hex(16)}-{secrets.token_hex(8)}-01".encode()


@pytest.mark.parametrize(
    "headers",
    [
        {b"traceparent": TRACEPARENT, b"tracestate": b"vendor=\xe9t\xe9"},
        {b"traceparent": TRACEPARENT + b"\xff"},
        {b"X-API-Key": b"cl\xe9"},  # API keys are off: foss passes a key on to licenses
    ],
    ids=["tracestate", "traceparent", "api-key"],
)
def test_create_foss_with_non_ascii_headers_through_gateway(
    stack: Stack, headers: dict[bytes, bytes]
) -> None:
    """Bytes 0x80-0xff in a header foss would pass on to licenses: answered as without it."""
    body = json.dumps(foss_body(license="MIT")).encode()
    lines = [
        b"POST /foss HTTP/1.1",
        b"Host: localhost",
        b"Content-Type: application/json",
        b"Content-Length: %d" % len(body),
        b"Connection: close",
        *(name + b": " + value for name, value in headers.items()),
    ]
    response = raw_request(stack.gateway.url, b"\r\n".join(lines) + b"\r\n\r\n" + body)
    assert response.status == 201, response
    assert json.loads(response.body)["license"] == "MIT"


def test_refuse_unknown_license_through_gateway(stack: Stack) -> None:
    response = stack.client.post("/foss", json=foss_body(license="Not-A-License"))
    assert assert_problem(response, 409, "conflict")["errors"] == [
        {"pointer": "/license", "detail": "is not a known license"}
    ]


def test_check_license_added_through_gateway(stack: Stack) -> None:
    added = stack.client.post("/licenses", json={"spdx_id": "WTFPL", "name": "WTFPL"})
    assert added.status_code == 201
    assert stack.client.post("/foss", json=foss_body(license="WTFPL")).status_code == 201


def test_survive_licenses_outage(stack: Stack) -> None:
    stack.licenses.stop()

    body = foss_body(license="MIT")
    refused = stack.client.post("/foss", json=body)
    assert_problem(refused, 503, "upstream_unavailable")
    assert int(refused.headers["Retry-After"]) > 0
    emails = {
        item["email"] for item in stack.client.get("/foss", params={"limit": 100}).json()["items"]
    }
    assert body["email"] not in emails  # nothing was written

    assert stack.client.post("/foss", json=foss_body()).status_code == 201
    assert_problem(stack.client.get("/licenses/MIT"), 502, "bad_gateway")

    stack.licenses.start()  # same port, same database; foss is not restarted
    assert stack.client.post("/foss", json=body).status_code == 201
    assert stack.client.get("/licenses/MIT").json()["spdx_id"] == "MIT"


@pytest.mark.parametrize("service", load_services(ROOT), ids=lambda service: service.name)
def test_declare_calls_as_registered(service: Service) -> None:
    """A service's app calls exactly the services the registry says (which wires their URLs)."""
    create_app = importlib.import_module(service.name).create_app
    app = create_app({"TESTING": True, "DATABASE_URL": "sqlite://"})
    assert sorted(app.config["SERVICE_CALLS"]) == sorted(service.calls)
