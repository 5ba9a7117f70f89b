"""Hostile HTTP through the gateway, on raw sockets: every answer is problem+json.

Each request is sent byte for byte as written, to nginx in front of a real foss; whoever
answers (nginx or the service), the answer is problem+json with its request id, never a
5xx, and the gateway serves a normal request right after.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from conftest import upstream_of
from helpers import (
    assert_raw_problem,
    parse_responses,
    raw_request,
    send_raw,
)
from stack import GatewayProcess, ServiceProcess

CLOSE = b"Host: gateway.example\r\nConnection: close\r\n"
FORWARDED_METHODS = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"


def request(line: bytes, *headers: bytes, body: bytes = b"", end: bytes = b"\r\n") -> bytes:
    """A request line, the closing headers, ``headers`` and ``body``, as raw bytes."""
    lines = [line, *CLOSE.splitlines(), *headers, b""]
    return b"".join(part + end for part in lines) + body


def request_line_of_length(length: int) -> bytes:
    """``GET /foss?cursor=aaa... HTTP/1.1`` of exactly ``length`` bytes."""
    skeleton = b"GET /foss?cursor= HTTP/1.1"
    return skeleton.replace(b"= ", b"=" + b"a" * (length - len(skeleton)) + b" ")


def many_headers(count: int) -> list[bytes]:
    return [b"X-H%d: v" % number for number in range(count)]


# (request bytes, status, code): whoever answers, it is problem+json.
HOSTILE_REQUESTS = {
    # request lines
    "line-6k": (request(request_line_of_length(6000)), 422, "validation_failed"),
    # The gateway's buffers are 8000 bytes, the line ending included; gunicorn takes 8190.
    "line-at-limit": (request(request_line_of_length(7998)), 422, "validation_failed"),
    "line-over-limit": (request(request_line_of_length(7999)), 414, "request_uri_too_large"),
    "line-at-limit-bare-lf": (
        request(request_line_of_length(7999), end=b"\n"),
        422,
        "validation_failed",
    ),
    "line-over-limit-bare-lf": (
        request(request_line_of_length(8000), end=b"\n"),
        414,
        "request_uri_too_large",
    ),
    "line-8191": (request(request_line_of_length(8191)), 414, "request_uri_too_large"),
    "line-20k": (request(request_line_of_length(20_000)), 414, "request_uri_too_large"),
    "raw-utf8-in-path": (request(b"GET /foss/\xc3\xa9 HTTP/1.1"), 400, "bad_request"),
    "raw-latin1-in-query": (request(b"GET /foss?cursor=\xe9 HTTP/1.1"), 400, "bad_request"),
    "raw-byte-in-prefix-path": (request(b"GET /foss\xff HTTP/1.1"), 404, "not_found"),
    "control-in-path": (request(b"GET /foss/\x01 HTTP/1.1"), 400, "bad_request"),
    "space-in-path": (request(b"GET /foss/a b HTTP/1.1"), 400, "bad_request"),
    "tls-hello": (b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03\r\n\r\n", 400, "bad_request"),
    "http-2.0": (request(b"GET /foss HTTP/2.0"), 505, "http_version_not_supported"),
    "http-3.1": (request(b"GET /foss HTTP/3.1"), 505, "http_version_not_supported"),
    "http-1.x": (request(b"GET /foss HTTP/1.x"), 400, "bad_request"),
    "absolute-form": (
        request(b"GET http://evil.example/foss/2000000000 HTTP/1.1"),
        404,
        "record_not_found",
    ),
    "asterisk-form": (request(b"OPTIONS * HTTP/1.1"), 400, "bad_request"),
    "doubled-slash": (request(b"GET /foss//1 HTTP/1.1"), 404, "not_found"),
    "lowercase-method": (request(b"get /foss HTTP/1.1"), 400, "bad_request"),
    # methods the gateway does not forward
    "trace": (request(b"TRACE /foss HTTP/1.1"), 405, "method_not_allowed"),
    "propfind": (request(b"PROPFIND /foss HTTP/1.1"), 405, "method_not_allowed"),
    "two-letter-method": (request(b"AB /foss HTTP/1.1"), 405, "method_not_allowed"),
    "long-method": (
        request(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ /foss/1 HTTP/1.1"),
        405,
        "method_not_allowed",
    ),
    "connect": (request(b"CONNECT evil.example:443 HTTP/1.1"), 400, "bad_request"),
    # headers
    "100-headers": (
        request(b"GET /foss/2000000000 HTTP/1.1", *many_headers(100)),
        404,
        "record_not_found",
    ),
    "900-headers": (request(b"GET /foss HTTP/1.1", *many_headers(900)), 200, ""),
    "headers-over-32k": (
        request(b"GET /foss HTTP/1.1", *many_headers(5000)),
        431,
        "request_header_fields_too_large",
    ),
    "header-at-limit": (request(b"GET /foss HTTP/1.1", b"X-Big: " + b"b" * 7980), 200, ""),
    "header-over-limit": (
        request(b"GET /foss HTTP/1.1", b"X-Big: " + b"b" * 9000),
        431,
        "request_header_fields_too_large",
    ),
    "duplicate-host": (
        b"GET /foss HTTP/1.1\r\nHost: a.example\r\nHost: b.example\r\nConnection: close\r\n\r\n",
        400,
        "bad_request",
    ),
    "no-host-1.1": (b"GET /foss HTTP/1.1\r\nConnection: close\r\n\r\n", 400, "bad_request"),
    "space-in-header-name": (request(b"GET /foss HTTP/1.1", b"X A: b"), 400, "bad_request"),
    "nul-in-header": (request(b"GET /foss HTTP/1.1", b"X-A: a\x00b"), 400, "bad_request"),
    "folded-header": (request(b"GET /foss HTTP/1.1", b"X-A: a", b" b"), 400, "bad_request"),
    "underscore-header": (request(b"GET /foss HTTP/1.1", b"X_Forwarded_For: 1.2.3.4"), 200, ""),
    "expect-unknown": (request(b"GET /foss HTTP/1.1", b"Expect: teapot"), 200, ""),
    # bodies: lengths and codings
    "cl-and-te": (
        request(
            b"POST /foss HTTP/1.1",
            b"Content-Length: 5",
            b"Transfer-Encoding: chunked",
            b"Content-Type: application/json",
            body=b"0\r\n\r\n",
        ),
        400,
        "bad_request",
    ),
    "two-lengths": (
        request(b"POST /foss HTTP/1.1", b"Content-Length: 2", b"Content-Length: 3", body=b"{}"),
        400,
        "bad_request",
    ),
    "negative-length": (request(b"POST /foss HTTP/1.1", b"Content-Length: -1"), 400, "bad_request"),
    "huge-length": (
        request(b"POST /foss HTTP/1.1", b"Content-Length: 99999999999999999999"),
        400,
        "bad_request",
    ),
    "length-over-limit": (
        request(
            b"POST /foss HTTP/1.1", b"Content-Length: 1048577", b"Content-Type: application/json"
        ),
        413,
        "request_entity_too_large",
    ),
    "unknown-coding": (
        request(b"POST /foss HTTP/1.1", b"Transfer-Encoding: gzip", body=b"x"),
        501,
        "not_implemented",
    ),
    "chunked-then-gzip": (
        request(b"POST /foss HTTP/1.1", b"Transfer-Encoding: chunked, gzip", body=b"0\r\n\r\n"),
        501,
        "not_implemented",
    ),
    "chunked-on-1.0": (
        b"POST /foss HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        400,
        "bad_request",
    ),
    "bad-chunk-size": (
        request(
            b"POST /foss HTTP/1.1", b"Transfer-Encoding: chunked", body=b"zz\r\n{}\r\n0\r\n\r\n"
        ),
        400,
        "bad_request",
    ),
    "huge-chunk-size": (
        request(
            b"POST /foss HTTP/1.1",
            b"Transfer-Encoding: chunked",
            body=b"ffffffffffffffffff\r\n{}\r\n0\r\n\r\n",
        ),
        400,
        "bad_request",
    ),
    "chunks-over-limit": (
        request(
            b"POST /foss HTTP/1.1",
            b"Transfer-Encoding: chunked",
            b"Content-Type: application/json",
            body=b"100000\r\n" + b" " * 0x100000 + b"\r\n1\r\n \r\n0\r\n\r\n",
        ),
        413,
        "request_entity_too_large",
    ),
    "chunked-json": (
        request(
            b"POST /foss HTTP/1.1",
            b"Transfer-Encoding: chunked",
            b"Content-Type: application/json",
            body=b"1;ext=1\r\n{\r\n1\r\n}\r\n0\r\nX-Trailer: t\r\n\r\n",
        ),
        422,
        "validation_failed",
    ),
    "id-zero": (request(b"PATCH /foss/0 HTTP/1.1"), 404, "not_found"),
    "id-over-32-bits": (request(b"DELETE /foss/2147483648 HTTP/1.1"), 404, "not_found"),
}


@pytest.fixture
def serves_after(client: httpx.Client) -> Callable[[], None]:
    def check() -> None:
        assert client.get("/foss").status_code == 200
        assert client.get("/healthz").status_code == 200

    return check


@pytest.mark.parametrize(
    ("data", "status", "code"), list(HOSTILE_REQUESTS.values()), ids=list(HOSTILE_REQUESTS)
)
def test_answer_hostile_request_with_problem(
    gateway: GatewayProcess, serves_after: Callable[[], None], data: bytes, status: int, code: str
) -> None:
    response = raw_request(gateway.url, data)
    if status == 200:
        assert response.status == 200, response
    else:
        body = assert_raw_problem(response, status, code)
        assert b"<" not in response.body, "nothing of the request is echoed as markup"
        assert "detail" in body
    if status == 405:
        assert response.header("allow") == FORWARDED_METHODS
    assert "location" not in response.headers
    serves_after()


@pytest.mark.parametrize(
    "header",
    [b"X-A: a\x01b", b"X-A: \x1b[31m", b"X-A: \x7f", b"Cookie: a=\x03", b"Content-Type: a\x0b"],
)
def test_answer_control_character_in_header_value_with_problem(
    gateway: GatewayProcess, header: bytes
) -> None:
    response = raw_request(gateway.url, request(b"GET /foss HTTP/1.1", header))
    assert_raw_problem(response, 400, "bad_request")


def test_answer_control_character_with_problem_from_sync_workers(
    make_service: Callable[..., ServiceProcess], make_gateway: Callable[..., GatewayProcess]
) -> None:
    """gunicorn's sync workers (GUNICORN_THREADS=1) answer their own errors alike."""
    gateway = make_gateway([upstream_of(make_service(GUNICORN_THREADS="1"))])
    response = raw_request(gateway.url, request(b"GET /foss HTTP/1.1", b"X-A: a\x01b"))
    assert_raw_problem(response, 400, "bad_request")


def test_answer_pipelined_requests_in_order(gateway: GatewayProcess) -> None:
    """A request smuggled after a complete one is just the next request, answered on its own."""
    first = b"GET /foss HTTP/1.1\r\nHost: a.example\r\n\r\n"
    smuggled = request(b"GET /nope HTTP/1.1")
    responses = parse_responses(send_raw(gateway.url, first + smuggled))
    assert [response.status for response in responses] == [200, 404]
    assert_raw_problem(responses[1], 404, "not_found")


def test_never_read_te_cl_body_as_next_request(
    gateway: GatewayProcess, serves_after: Callable[[], None]
) -> None:
    """TE.CL: a body that reads as a second request when framed by Content-Length only."""
    hidden = b"GET /nope HTTP/1.1\r\nHost: x\r\n\r\n"
    body = b"%x\r\n%s\r\n0\r\n\r\n" % (len(hidden), hidden)
    data = (
        b"POST /foss HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n"
        b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n" + body
    )
    responses = parse_responses(send_raw(gateway.url, data))
    assert [response.status for response in responses] == [400]
    serves_after()


def test_answer_head_of_gateway_error_without_body(gateway: GatewayProcess) -> None:
    data = request(b"HEAD /nope HTTP/1.1")
    head = send_raw(gateway.url, data).partition(b"\r\n\r\n")
    assert head[0].startswith(b"HTTP/1.1 404")
    assert b"application/problem+json" in head[0]
    assert head[2] == b""


def test_answer_http_0_9_with_problem_body(gateway: GatewayProcess) -> None:
    """HTTP/0.9 has no status line nor headers: nginx sends the problem's body alone."""
    body = send_raw(gateway.url, b"GET /nope\r\n")
    assert body.startswith(b'{"type":"urn:flusk:problem:not_found"')


@pytest.fixture
def impatient_gateway(
    foss_service: ServiceProcess, make_gateway: Callable[..., GatewayProcess]
) -> GatewayProcess:
    """A gateway that waits one second for a client's headers and body, not fifteen."""
    return make_gateway([upstream_of(foss_service)], client_timeout="1s", send_timeout="1s")


def test_drop_client_slow_to_send_headers(impatient_gateway: GatewayProcess) -> None:
    """nginx closes a connection whose headers never end, without an answer (logged as 408)."""
    data = send_raw(impatient_gateway.url, b"GET /foss HTTP/1.1\r\nHost: x\r\nX-Slow:")
    assert data == b""
    serves_normal_request(impatient_gateway)


def test_drop_client_slow_to_send_body(impatient_gateway: GatewayProcess) -> None:
    """A body that stops coming: the connection is closed after the timeout (logged as 408)."""
    data = request(
        b"POST /foss HTTP/1.1", b"Content-Length: 100", b"Content-Type: application/json"
    )
    assert send_raw(impatient_gateway.url, data + b'{"name": ') == b""
    serves_normal_request(impatient_gateway)


def test_drop_client_trickling_one_byte_at_a_time(impatient_gateway: GatewayProcess) -> None:
    """Each byte arrives within the timeout, but the headers never end: dropped in time."""
    data = send_raw(
        impatient_gateway.url, b"GET /foss HTTP/1.1\r\n", pause=1.5, rest=b"X-Slow: 1\r\n"
    )
    assert data == b""
    serves_normal_request(impatient_gateway)


def serves_normal_request(gateway: GatewayProcess) -> None:
    assert httpx.get(f"{gateway.url}/foss", timeout=10).status_code == 200
