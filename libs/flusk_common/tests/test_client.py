"""Calls to another service: timeouts, safe retries, forwarded headers and typed errors."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from flask import Flask
from werkzeug.serving import make_server

from flusk_common import UpstreamError, service_client
from flusk_common._errors import ConfigurationError
from flusk_common.testing import assert_problem

MakeApp = Callable[..., Flask]
Handler = Callable[[httpx.Request], httpx.Response]


class Peer:
    """A fake ``peer`` service: answers with ``handler`` and records every request."""

    def __init__(self, handler: Handler) -> None:
        self.requests: list[httpx.Request] = []
        self.handler = handler

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.handler(request)


def answering(*responses: httpx.Response | Exception) -> Peer:
    """A peer giving ``responses`` in turn (an exception is raised instead), the last forever."""
    queue = list(responses)

    def handler(request: httpx.Request) -> httpx.Response:
        answer = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(answer, Exception):
            raise answer
        return answer

    return Peer(handler)


def relay(app: Flask, method: str, path: str = "/things", **headers: str) -> Any:
    return app.test_client().post(
        "/widgets/relay", json={"method": method, "path": path}, headers=headers
    )


@pytest.fixture
def peer_app(make_app: MakeApp) -> Callable[[Peer], Flask]:
    def make(peer: Peer, **config: Any) -> Flask:
        return make_app(SERVICE_TRANSPORTS={"peer": httpx.MockTransport(peer)}, **config)

    return make


PROBLEM = {"type": "urn:flusk:problem:record_not_found", "status": 404, "code": "record_not_found"}


def test_return_peer_json(peer_app: Callable[[Peer], Flask]) -> None:
    peer = answering(httpx.Response(200, json={"id": 1}))
    response = relay(peer_app(peer), "GET")
    assert response.json == {"answer": {"id": 1}}
    assert str(peer.requests[0].url) == "http://peer:8000/things"


def test_return_none_for_empty_answer(peer_app: Callable[[Peer], Flask]) -> None:
    assert relay(peer_app(answering(httpx.Response(204))), "DELETE").json == {"answer": None}


def test_forward_request_id_and_incoming_api_key(peer_app: Callable[[Peer], Flask]) -> None:
    peer = answering(httpx.Response(200, json={}))
    relay(peer_app(peer), "GET", **{"X-Request-ID": "call-1", "X-API-Key": "incoming"})
    assert peer.requests[0].headers["X-Request-ID"] == "call-1"
    assert peer.requests[0].headers["X-API-Key"] == "incoming"


def test_drop_incoming_api_key_not_ascii(peer_app: Callable[[Peer], Flask]) -> None:
    """httpx sends ASCII header values only: such a key is no key, and the call goes on."""
    peer = answering(httpx.Response(200, json={"id": 1}))
    response = relay(peer_app(peer), "GET", **{"X-API-Key": "cl\xe9"})
    assert response.json == {"answer": {"id": 1}}
    assert "X-API-Key" not in peer.requests[0].headers


def test_send_configured_api_key(peer_app: Callable[..., Flask]) -> None:
    peer = answering(httpx.Response(200, json={}))
    relay(peer_app(peer, PEER_API_KEY="for-peer"), "GET", **{"X-API-Key": "incoming"})
    assert peer.requests[0].headers["X-API-Key"] == "for-peer"


def test_raise_problem_of_peer(peer_app: Callable[[Peer], Flask]) -> None:
    peer = answering(httpx.Response(404, json=PROBLEM))
    app = peer_app(peer)
    with app.test_request_context(), pytest.raises(UpstreamError) as raised:
        service_client("peer").get("/things/9")
    assert (raised.value.upstream_status, raised.value.upstream_code) == (404, "record_not_found")
    assert raised.value.problem == PROBLEM
    # Left unhandled, the callee's error is the caller's 502.
    assert_problem(relay(app, "GET"), 502, "upstream_error")
    assert len(peer.requests) == 2  # a 404 is an answer: never retried


@pytest.mark.parametrize(
    "failure",
    [
        httpx.ConnectError("refused"),
        httpx.ConnectTimeout("slow"),
        *(httpx.Response(status) for status in (502, 503, 504)),
    ],
)
def test_retry_idempotent_call(peer_app: Callable[[Peer], Flask], failure: Any) -> None:
    peer = answering(failure, httpx.Response(200, json={"ok": True}))
    assert relay(peer_app(peer), "GET").json == {"answer": {"ok": True}}
    assert len(peer.requests) == 2


def test_give_up_after_retries(peer_app: Callable[..., Flask]) -> None:
    peer = answering(httpx.ConnectError("refused"))
    response = relay(peer_app(peer, SERVICE_RETRIES=3, RETRY_AFTER=7), "PUT")
    assert_problem(response, 503, "upstream_unavailable")
    assert response.headers["Retry-After"] == "7"
    assert len(peer.requests) == 4


@pytest.mark.parametrize("method", ["POST", "PATCH"])
@pytest.mark.parametrize("failure", [httpx.ConnectError("refused"), httpx.Response(503)])
def test_never_retry_unsafe_call(
    peer_app: Callable[[Peer], Flask], method: str, failure: Any
) -> None:
    peer = answering(failure, httpx.Response(200, json={}))
    assert_problem(relay(peer_app(peer), method), 503, "upstream_unavailable")
    assert len(peer.requests) == 1


def test_never_retry_read_timeout(peer_app: Callable[[Peer], Flask]) -> None:
    """The request may have been acted on: only a failure to connect is safe to repeat."""
    peer = answering(httpx.ReadTimeout("slow"), httpx.Response(200, json={}))
    assert_problem(relay(peer_app(peer), "GET"), 503, "upstream_unavailable")
    assert len(peer.requests) == 1


def test_configure_timeouts(make_app: MakeApp) -> None:
    app = make_app(SERVICE_CONNECT_TIMEOUT=0.5, SERVICE_READ_TIMEOUT=1.5, PEER_URL="http://p:1")
    with app.app_context():
        http = service_client("peer")._http
    assert (http.timeout.connect, http.timeout.read) == (0.5, 1.5)
    assert str(http.base_url) == "http://p:1"


def test_refuse_undeclared_service(app: Flask) -> None:
    with app.app_context(), pytest.raises(LookupError, match="not among the services"):
        service_client("stranger")


def test_refuse_bad_peer_url(make_app: MakeApp, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PEER_URL", "peer:8000")
    with pytest.raises(ConfigurationError, match="PEER_URL"):
        make_app()


@pytest.fixture
def live_peer(flusk_app_factory: Callable[..., Flask]) -> Iterator[str]:
    """The sample app served over real HTTP on a loopback port, as the ``peer`` service."""
    server = make_server("127.0.0.1", 0, flusk_app_factory({"DATABASE_URL": "sqlite://"}))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()


def test_call_peer_over_http(make_app: MakeApp, live_peer: str) -> None:
    app = make_app(PEER_URL=live_peer)
    response = relay(app, "GET", "/healthz", **{"X-Request-ID": "live-1"})
    assert response.json == {"answer": {"status": "ok"}}
    with (
        app.test_request_context(headers={"X-Request-ID": "live-2"}),
        pytest.raises(UpstreamError) as raised,
    ):
        service_client("peer").get("/widgets/0")
    assert raised.value.problem["request_id"] == "live-2"


def test_report_unreachable_peer_over_http(make_app: MakeApp) -> None:
    app = make_app(PEER_URL="http://127.0.0.1:1", SERVICE_RETRIES=1)
    assert_problem(relay(app, "GET"), 503, "upstream_unavailable")


def test_raise_problem_for_answer_not_json(peer_app: Callable[[Peer], Flask]) -> None:
    peer = answering(httpx.Response(200, text="<html>surprise</html>"))
    assert_problem(relay(peer_app(peer), "GET"), 502, "upstream_error")


def test_fail_fast_once_breaker_trips(peer_app: Callable[..., Flask]) -> None:
    peer = answering(httpx.ConnectError("refused"))
    app = peer_app(peer, SERVICE_BREAKER_FAILURES=2, SERVICE_BREAKER_RESET=30)
    for _ in range(2):
        assert_problem(relay(app, "POST"), 503, "upstream_unavailable")
    response = relay(app, "POST")
    assert_problem(response, 503, "upstream_unavailable")
    assert response.headers["Retry-After"] == "30"
    assert len(peer.requests) == 2  # the third call never left


def test_probe_again_after_breaker_reset(peer_app: Callable[..., Flask]) -> None:
    refused = httpx.ConnectError("refused")
    peer = answering(refused, refused, httpx.Response(200, json={"ok": True}))
    app = peer_app(peer, SERVICE_BREAKER_FAILURES=2, SERVICE_BREAKER_RESET=0.05)
    for _ in range(2):
        assert_problem(relay(app, "POST"), 503, "upstream_unavailable")
    time.sleep(0.1)
    assert relay(app, "POST").json == {"answer": {"ok": True}}
    assert relay(app, "POST").json == {"answer": {"ok": True}}
    assert len(peer.requests) == 4


def test_keep_breaker_closed_on_error_answers(peer_app: Callable[..., Flask]) -> None:
    """A callee that answers, even with an error, is up: only failures to answer count."""
    peer = answering(httpx.Response(404, json=PROBLEM))
    app = peer_app(peer, SERVICE_BREAKER_FAILURES=2)
    for _ in range(3):
        assert_problem(relay(app, "POST"), 502, "upstream_error")
    assert len(peer.requests) == 3


def test_refuse_call_beyond_concurrent_limit(peer_app: Callable[..., Flask]) -> None:
    entered, release = threading.Event(), threading.Event()

    def slow(request: httpx.Request) -> httpx.Response:
        entered.set()
        release.wait(10)
        return httpx.Response(200, json={})

    peer = Peer(slow)
    app = peer_app(peer, SERVICE_MAX_CONCURRENT_CALLS=1)
    first = threading.Thread(target=relay, args=(app, "GET"))
    first.start()
    try:
        assert entered.wait(10)
        response = relay(app, "GET")
    finally:
        release.set()
        first.join(10)
    assert_problem(response, 503, "upstream_unavailable")
    assert "Retry-After" in response.headers
    assert len(peer.requests) == 1
    assert relay(app, "GET").json == {"answer": {}}  # the slot is free again


def test_bound_call_timeout_by_request_deadline(peer_app: Callable[..., Flask]) -> None:
    peer = answering(httpx.Response(200, json={}))
    relay(peer_app(peer, REQUEST_DEADLINE=0.5, SERVICE_READ_TIMEOUT=5.0), "GET")
    timeout = peer.requests[0].extensions["timeout"]
    assert 0 < timeout["read"] <= 0.5
    assert 0 < timeout["connect"] <= 0.5


def test_stop_retrying_when_no_time_is_left(peer_app: Callable[..., Flask]) -> None:
    def refuse_slowly(request: httpx.Request) -> httpx.Response:
        time.sleep(0.1)
        raise httpx.ConnectError("refused")

    peer = Peer(refuse_slowly)
    app = peer_app(peer, REQUEST_DEADLINE=0.3, SERVICE_RETRIES=10)
    assert_problem(relay(app, "GET"), 503, "upstream_unavailable")
    assert len(peer.requests) < 4


@pytest.fixture
def silent_peer() -> Iterator[str]:
    """A callee on loopback that accepts connections and never answers (a frozen process)."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"


def test_answer_503_before_deadline_when_peer_never_answers(
    make_app: MakeApp, silent_peer: str
) -> None:
    app = make_app(PEER_URL=silent_peer, SERVICE_READ_TIMEOUT=60.0, REQUEST_DEADLINE=0.5)
    started = time.monotonic()
    assert_problem(relay(app, "GET"), 503, "upstream_unavailable")
    assert time.monotonic() - started < 30  # the deadline cut the call, not its read timeout
