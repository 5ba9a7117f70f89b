"""The gateway with a DNS resolver, as in compose and Kubernetes: a service is found again.

A container or a pod re-created gets a new address under the same name. The real nginx,
rendered with a `resolver` as the compose and kubernetes targets are, asks a small DNS
server on loopback; the name moves from one loopback address to another, and the gateway
follows it without a reload. A name that does not resolve is a 502 problem, never a hang.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import dns.message
import dns.rcode
import dns.rrset
import httpx
import pytest

from flusk_tools.gateway import Upstream
from stack import GatewayProcess

NAME = "foss.flusk.test."
RESOLVER_VALID_SECONDS = 1
# How long the gateway may keep the old answer: its validity, with room for a slow machine.
FOLLOW_DEADLINE_SECONDS = 15


class Resolver:
    """A DNS server on 127.0.0.1 answering ``NAME`` with ``address`` (None: NXDOMAIN)."""

    def __init__(self) -> None:
        self.address: str | None = None
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.socket.bind(("127.0.0.1", 0))
        self.port: int = self.socket.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        while True:
            try:
                data, client = self.socket.recvfrom(512)
            except OSError:  # closed
                return
            query = dns.message.from_wire(data)
            response = dns.message.make_response(query)
            question = query.question[0]
            if question.name.to_text() != NAME or self.address is None:
                response.set_rcode(dns.rcode.NXDOMAIN)
            elif question.rdtype == dns.rdatatype.A:
                response.answer.append(dns.rrset.from_text(NAME, 1, "IN", "A", self.address))
            self.socket.sendto(response.to_wire(), client)


@pytest.fixture
def resolver() -> Iterator[Resolver]:
    server = Resolver()
    server.thread.start()
    yield server
    server.socket.close()


def answering(body: bytes) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            """Quiet."""

    return Handler


@pytest.fixture
def services() -> Iterator[int]:
    """The same service twice, on 127.0.0.1 and 127.0.0.2 at one port: before and after."""
    first = ThreadingHTTPServer(("127.0.0.1", 0), answering(b"first"))
    port = first.server_address[1]
    try:
        second = ThreadingHTTPServer(("127.0.0.2", port), answering(b"second"))
    except OSError:
        first.server_close()
        pytest.skip("127.0.0.2 cannot take the port 127.0.0.1 has: no second loopback address")
    servers = [first, second]
    for server in servers:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    yield port
    for server in servers:
        server.shutdown()
        server.server_close()


def test_follow_service_to_its_new_address(
    resolver: Resolver, services: int, tmp_path_factory: pytest.TempPathFactory
) -> None:
    resolver.address = "127.0.0.1"
    gateway = GatewayProcess(
        tmp_path_factory.mktemp("gateway"),
        [Upstream("foss", "/foss", f"{NAME.rstrip('.')}:{services}")],
        settings={
            "resolver": f"127.0.0.1:{resolver.port}",
            "resolver_valid": f"{RESOLVER_VALID_SECONDS}s",
        },
    ).start()
    try:
        with httpx.Client(base_url=gateway.url, timeout=10) as client:
            assert client.get("/foss").text == "first"
            resolver.address = "127.0.0.2"  # re-created, at a new address
            deadline = time.monotonic() + FOLLOW_DEADLINE_SECONDS
            while client.get("/foss").text != "second":
                assert time.monotonic() < deadline, gateway.log.read_text()
                time.sleep(0.2)
            resolver.address = None  # gone
            deadline = time.monotonic() + FOLLOW_DEADLINE_SECONDS
            while (response := client.get("/foss")).status_code == 200:
                assert time.monotonic() < deadline, gateway.log.read_text()
                time.sleep(0.2)
    finally:
        gateway.stop()
    assert response.status_code == 502
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "bad_gateway"
    assert "flusk.test" not in response.text
