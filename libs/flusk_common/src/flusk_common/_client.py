"""Calls from one service to another, over HTTP (httpx, with connection pooling).

Every call has a connect and a read timeout. Only idempotent requests are retried, with
backoff (tenacity), and only when the callee could not be reached or answered 502, 503
or 504. The request id, the API key and the trace (W3C ``traceparent``) go along, when
well formed (see ``_headers``). A callee that cannot be reached raises
``UpstreamUnavailable`` (a 503 with Retry-After if left unhandled); a callee's own error
answer raises ``UpstreamError``, which carries its problem details (a 502 if unhandled).

Three guards keep a slow or dead callee from taking its caller down with it:

- a circuit breaker per callee (the circuitbreaker library): after
  ``SERVICE_BREAKER_FAILURES`` calls in a row that got no usable answer, calls fail fast
  with a 503 for ``SERVICE_BREAKER_RESET`` seconds, then go through again to probe (one
  more failure opens it again); an error answer (4xx, 500) counts as an answer;
- a bulkhead: at most ``SERVICE_MAX_CONCURRENT_CALLS`` calls in flight to one callee per
  process; one more is refused at once with a 503 instead of waiting, so the threads left
  serve requests that do not call it;
- the request deadline (see ``_deadline``): each attempt's timeouts are cut to the time
  the request has left, and retries stop when it would run out.

Each call is counted by outcome (``flusk_service_calls_total``, see ``_metrics``), with its
retries and the breaker's state.

A service names the services it calls (``create_service_app(..., calls=["licenses"])``);
each one's base URL is the ``<NAME>_URL`` setting (see ``_config.call_settings``).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import httpx
import tenacity
from circuitbreaker import CircuitBreaker
from flask import Flask, current_app, has_request_context, request

from ._auth import HEADER as API_KEY_HEADER
from ._deadline import time_left
from ._errors import UpstreamError, UpstreamUnavailable
from ._request_id import HEADER as REQUEST_ID_HEADER
from ._request_id import current_request_id
from ._tracing import forwardable_trace_headers, tracing_on

if TYPE_CHECKING:
    from ._metrics import Metrics

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
RETRYABLE_STATUSES = frozenset({502, 503, 504})
_EXTENSION = "flusk.service_clients"


class _RetryableAnswer(Exception):
    def __init__(self, response: httpx.Response) -> None:
        super().__init__(response.status_code)
        self.response = response


class ServiceClient:
    """A pooled HTTP client for one other service."""

    def __init__(
        self,
        service: str,
        base_url: str,
        *,
        connect_timeout: float,
        read_timeout: float,
        retries: int,
        retry_after: int,
        max_concurrent_calls: int,
        breaker_failures: int,
        breaker_reset: float,
        api_key: str | None = None,
        transport: httpx.BaseTransport | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self.service = service
        self.metrics = metrics
        self.retries = retries
        self.retry_after = retry_after
        self.api_key = api_key
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.max_concurrent_calls = max_concurrent_calls
        self._slots = threading.BoundedSemaphore(max_concurrent_calls)
        # Only a callee that gave no usable answer is failing; its error answers are answers.
        # Its state is read and changed without a lock: a count off by one under a race is
        # harmless, and calls in flight never wait for one another.
        self._breaker = CircuitBreaker(
            failure_threshold=breaker_failures,
            recovery_timeout=breaker_reset,
            expected_exception=UpstreamUnavailable,
            name=service,
        )
        self._http = httpx.Client(
            base_url=base_url,
            timeout=httpx.Timeout(read_timeout, connect=connect_timeout),
            transport=transport,
        )
        self._watch_breaker()

    @property
    def http(self) -> httpx.Client:
        """The underlying httpx client (where tracing instruments the calls)."""
        return self._http

    def close(self) -> None:
        self._http.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
    ) -> Any:
        """Send the request; return the decoded JSON of a 2xx answer (``None`` if empty)."""
        method = method.upper()
        left = time_left()
        if left is not None and left <= 0:
            raise self._unreachable("was not called: the request has no time left", "no_time_left")
        if self._breaker.opened:  # after SERVICE_BREAKER_RESET, calls probe again (half-open)
            self._count("breaker_open")
            raise UpstreamUnavailable(
                f"The {self.service} service failed repeatedly; calls to it are suspended.",
                retry_after=max(1, self._breaker.open_remaining),
            )
        if not self._slots.acquire(blocking=False):
            raise self._unreachable(
                f"has {self.max_concurrent_calls} calls in flight already", "bulkhead_full"
            )
        try:
            with self._breaker:
                response = self._attempts(method, path, json, params)
        finally:
            self._slots.release()
            self._watch_breaker()
        if response.is_error:
            self._count("error_status")
            raise _upstream_error(self.service, response)
        if not response.content:
            self._count("success")
            return None
        try:
            body = response.json()
        except ValueError:
            self._count("invalid_answer")
            raise _upstream_error(self.service, response) from None
        self._count("success")
        return body

    def get(self, path: str, *, params: Mapping[str, Any] | None = None) -> Any:
        return self.request("GET", path, params=params)

    def _attempts(
        self, method: str, path: str, json: Any, params: Mapping[str, Any] | None
    ) -> httpx.Response:
        """The call and its retries; ``UpstreamUnavailable`` when none got a usable answer."""
        attempts = self.retries + 1 if method in IDEMPOTENT_METHODS else 1
        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(attempts) | _OutOfTime(),
            wait=tenacity.wait_exponential(multiplier=0.1, max=1),
            retry=tenacity.retry_if_exception_type(
                (httpx.ConnectError, httpx.ConnectTimeout, _RetryableAnswer)
            ),
            reraise=True,
            before_sleep=self._count_retry,
        )
        try:
            return retrying(self._send, method, path, json, params)
        except _RetryableAnswer as answer:
            status = answer.response.status_code
            raise self._unreachable(f"answered {status}", "unavailable_status") from None
        except httpx.TimeoutException:
            raise self._unreachable("did not answer in time", "timeout") from None
        except httpx.HTTPError:
            raise self._unreachable("could not be reached", "unreachable") from None

    def _send(
        self, method: str, path: str, json: Any, params: Mapping[str, Any] | None
    ) -> httpx.Response:
        response = self._http.request(
            method, path, json=json, params=params, headers=self._headers(), timeout=self._timeout()
        )
        if response.status_code in RETRYABLE_STATUSES:
            raise _RetryableAnswer(response)
        return response

    def _timeout(self) -> httpx.Timeout:
        """The configured timeouts, cut to the time the request has left."""
        left = time_left()
        if left is None:
            return httpx.Timeout(self.read_timeout, connect=self.connect_timeout)
        left = max(left, 0.001)
        return httpx.Timeout(min(self.read_timeout, left), connect=min(self.connect_timeout, left))

    def _headers(self) -> dict[str, str]:
        headers = {"Accept": "application/json"}
        request_id = current_request_id()
        if request_id:
            headers[REQUEST_ID_HEADER] = request_id
        if has_request_context() and not tracing_on():
            # Not traced here: the caller's trace goes on as it came (traced, the client's
            # instrumentation sends this call's own span instead).
            headers.update(forwardable_trace_headers(request.headers))
        api_key = self.api_key
        if api_key is None and has_request_context():
            api_key = request.headers.get(API_KEY_HEADER)
        # httpx sends ASCII header values only, and gunicorn passes bytes 0x80-0xff on:
        # an incoming key that is not printable ASCII is matched by no key, so it is dropped.
        if api_key and api_key.isascii() and api_key.isprintable():
            headers[API_KEY_HEADER] = api_key
        return headers

    def _count(self, outcome: str) -> None:
        if self.metrics is not None:
            self.metrics.count_call(self.service, outcome)

    def _count_retry(self, _retry_state: tenacity.RetryCallState) -> None:
        if self.metrics is not None:
            self.metrics.count_retry(self.service)

    def _watch_breaker(self) -> None:
        if self.metrics is not None:
            self.metrics.set_breaker_state(self.service, self._breaker.state)

    def _unreachable(self, what: str, outcome: str) -> UpstreamUnavailable:
        """The error for a call that got no usable answer, counted as ``outcome``."""
        self._count(outcome)
        return UpstreamUnavailable(
            f"The {self.service} service {what}; retry later.", retry_after=self.retry_after
        )


class _OutOfTime(tenacity.stop.stop_base):
    """Stop retrying when the request's deadline would pass during the wait."""

    def __call__(self, retry_state: tenacity.RetryCallState) -> bool:
        left = time_left()
        return left is not None and left <= (retry_state.upcoming_sleep or 0)


def _upstream_error(service: str, response: httpx.Response) -> UpstreamError:
    """The error for an answer of ``service`` this one cannot use, with its problem details."""
    try:
        body = response.json()
    except ValueError:
        body = None
    return UpstreamError(service, response.status_code, body if isinstance(body, dict) else {})


def init_service_clients(
    app: Flask, calls: Iterable[str], *, metrics: Metrics | None = None
) -> None:
    """One client per called service, from the app's settings, counting its calls in ``metrics``.

    ``SERVICE_TRANSPORTS`` ({name: httpx transport}) replaces the network in tests.
    """
    transports: Mapping[str, httpx.BaseTransport] = app.config.get("SERVICE_TRANSPORTS") or {}
    app.extensions[_EXTENSION] = {
        service: ServiceClient(
            service,
            app.config[f"{service.upper()}_URL"],
            connect_timeout=app.config["SERVICE_CONNECT_TIMEOUT"],
            read_timeout=app.config["SERVICE_READ_TIMEOUT"],
            retries=app.config["SERVICE_RETRIES"],
            retry_after=app.config["RETRY_AFTER"],
            max_concurrent_calls=app.config["SERVICE_MAX_CONCURRENT_CALLS"],
            breaker_failures=app.config["SERVICE_BREAKER_FAILURES"],
            breaker_reset=app.config["SERVICE_BREAKER_RESET"],
            api_key=app.config[f"{service.upper()}_API_KEY"],
            transport=transports.get(service),
            metrics=metrics,
        )
        for service in calls
    }


def service_client(service: str) -> ServiceClient:
    """The client for ``service``, which the current app declared it calls."""
    clients: dict[str, ServiceClient] = current_app.extensions[_EXTENSION]
    try:
        return clients[service]
    except KeyError:
        raise LookupError(
            f"{service!r} is not among the services this app calls; add it to calls="
        ) from None


def service_clients(app: Flask) -> list[ServiceClient]:
    """The clients of every service ``app`` calls."""
    return list(app.extensions.get(_EXTENSION, {}).values())


def close_service_clients(app: Flask) -> None:
    for client in service_clients(app):
        client.close()
