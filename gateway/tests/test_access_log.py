"""The gateway's access log: one JSON object per request, with its id, upstream and timings."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest

from helpers import create_foss, wait_for_log_line
from stack import GatewayProcess, ServiceProcess


def logged_request(gateway: GatewayProcess, request_id: str) -> dict[str, object]:
    """The access-log entry of ``request_id`` (nginx writes it just after answering)."""
    entry: dict[str, object] = json.loads(
        wait_for_log_line(gateway.log, f'"request_id":"{request_id}"')
    )
    return entry


def test_log_proxied_request_as_json(
    client: httpx.Client, gateway: GatewayProcess, foss_service: ServiceProcess
) -> None:
    request_id = f"log-{uuid.uuid4()}"
    assert create_foss(client, **{"X-Request-ID": request_id}).status_code == 201
    entry = logged_request(gateway, request_id)
    assert (entry["method"], entry["uri"], entry["status"]) == ("POST", "/foss", 201)
    assert entry["upstream"] == f"127.0.0.1:{foss_service.port}"
    assert entry["upstream_status"] == "201"
    assert float(str(entry["upstream_time"])) >= 0


def test_log_gateway_error(client: httpx.Client, gateway: GatewayProcess) -> None:
    request_id = f"log-{uuid.uuid4()}"
    client.get("/unrouted", headers={"X-Request-ID": request_id})
    entry = logged_request(gateway, request_id)
    assert (entry["status"], entry["upstream"]) == (404, "")


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [("POST", "/unrouted", 404), ("DELETE", "/healthz", 405), ("PROPFIND", "/foss", 405)],
)
def test_log_client_method_of_gateway_answer(
    client: httpx.Client, gateway: GatewayProcess, method: str, path: str, status: int
) -> None:
    """The gateway's own answers are internal redirects (GET); the log keeps the real method."""
    request_id = f"log-{uuid.uuid4()}"
    response = client.request(method, path, headers={"X-Request-ID": request_id})
    assert response.status_code == status
    entry = logged_request(gateway, request_id)
    assert (entry["method"], entry["uri"], entry["status"]) == (method, path, status)
