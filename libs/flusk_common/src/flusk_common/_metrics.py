"""Prometheus metrics of a service, served at ``/metrics`` on its own port (prometheus_client).

Outside every prefix and not routed by the gateway, like the probes; no API key needed.
Recorded: requests by route rule (never the raw path), method and status; their latency;
requests in flight; database connections checked out of the pool; calls to other services
by callee and outcome, their retries, and each callee's circuit breaker state.

Under gunicorn each worker is a process of its own, so the values live in files shared by
every worker (prometheus_client's multiprocess mode), in the folder
``PROMETHEUS_MULTIPROC_DIR`` names. prometheus_client chooses that mode when it is first
imported, so this module imports it only inside functions: the gunicorn master imports
flusk_common (its settings module does) before ``on_starting`` sets the folder, and the
workers import the app after. Without the variable (tests, ``flask run``) each app keeps
its values in a registry of its own. ``METRICS=false`` records nothing and serves no
``/metrics``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from flask import Blueprint, Flask, Response, current_app, g, request

from ._database import get_database

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry
    from werkzeug import Response as BaseResponse

MULTIPROC_DIR = "PROMETHEUS_MULTIPROC_DIR"
METRICS_ENDPOINT = "metrics.metrics"
EXTENSION = "flusk.metrics"
UNMATCHED = "unmatched"  # the endpoint label of a request that routed nowhere (404, 405)
OTHER_METHOD = "other"  # a method no route takes, so the label's values stay few
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# Circuit breaker states as the gauge's values: the larger, the worse.
BREAKER_STATES = {"closed": 0, "half_open": 1, "open": 2}

metrics_blueprint = Blueprint("metrics", __name__)


class Metrics:
    """The metrics of one app, registered in a registry of its own."""

    def __init__(self) -> None:
        # Imported here, never at the top: see the module docstring.
        from prometheus_client import (  # noqa: PLC0415
            CollectorRegistry,
            Counter,
            Gauge,
            Histogram,
        )

        self.multiprocess = bool(os.environ.get(MULTIPROC_DIR))
        self.registry = CollectorRegistry()
        registry = self.registry
        self.requests = Counter(
            "flusk_http_requests",
            "HTTP requests answered, by route rule, method and status.",
            ["endpoint", "method", "status"],
            registry=registry,
        )
        self.duration = Histogram(
            "flusk_http_request_duration_seconds",
            "Time from a request's routing to its answer, by route rule and method.",
            ["endpoint", "method"],
            registry=registry,
        )
        self.in_flight = Gauge(
            "flusk_http_requests_in_flight",
            "HTTP requests being answered now.",
            registry=registry,
            multiprocess_mode="livesum",
        )
        self.connections_checked_out = Gauge(
            "flusk_db_connections_checked_out",
            "Database connections checked out of the pool now, by engine.",
            ["engine"],
            registry=registry,
            multiprocess_mode="livesum",
        )
        self.calls = Counter(
            "flusk_service_calls",
            "Calls to other services, by callee and outcome.",
            ["callee", "outcome"],
            registry=registry,
        )
        self.retries = Counter(
            "flusk_service_call_retries",
            "Attempts of calls to other services beyond the first, by callee.",
            ["callee"],
            registry=registry,
        )
        self.breaker_state = Gauge(
            "flusk_service_breaker_state",
            "Circuit breaker of each callee: 0 closed, 1 half-open, 2 open (worst worker).",
            ["callee"],
            registry=registry,
            multiprocess_mode="livemax",
        )

    def exposition_registry(self) -> CollectorRegistry:
        """What ``/metrics`` shows: every worker's files, or this app's own values."""
        if not self.multiprocess:
            return self.registry
        from prometheus_client import CollectorRegistry  # noqa: PLC0415 - see the docstring
        from prometheus_client.multiprocess import MultiProcessCollector  # noqa: PLC0415

        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        return registry

    def count_call(self, callee: str, outcome: str) -> None:
        self.calls.labels(callee, outcome).inc()

    def count_retry(self, callee: str) -> None:
        self.retries.labels(callee).inc()

    def set_breaker_state(self, callee: str, state: str) -> None:
        self.breaker_state.labels(callee).set(BREAKER_STATES[state])


def app_metrics(app: Flask | None = None) -> Metrics | None:
    """The app's metrics; None when ``METRICS`` is off."""
    metrics: Metrics | None = (app or current_app).extensions.get(EXTENSION)
    return metrics


@metrics_blueprint.get("/metrics")
def metrics() -> Response:
    """Every metric, in the format the scraper asks for (Prometheus text by default)."""
    from prometheus_client.exposition import choose_encoder  # noqa: PLC0415 - see the docstring

    found = app_metrics()
    assert found is not None  # the route exists only with metrics on
    encoder, content_type = choose_encoder(request.headers.get("Accept", ""))
    return Response(encoder(found.exposition_registry()), content_type=content_type)


def init_metrics(app: Flask) -> None:
    """Serve ``/metrics`` and time every request, unless ``METRICS`` is off.

    Call it before any other ``init_*``: its ``before_request`` then runs before theirs
    (the deadline's clock aside) and its ``after_request`` after theirs, so a request
    another hook refuses (401, 415, ...) is counted with the status the client gets, and
    timed whole.
    """
    if not app.config["METRICS"]:
        return
    found = Metrics()
    app.extensions[EXTENSION] = found
    app.register_blueprint(metrics_blueprint)

    def start() -> None:
        if request.endpoint != METRICS_ENDPOINT:  # a scrape does not count itself
            g.flusk_metrics_started = time.perf_counter()
            found.in_flight.inc()

    # Each label set's series, found once: the label values are few (see README, "Metrics").
    counters: dict[tuple[str, str, int], Any] = {}
    histograms: dict[tuple[str, str], Any] = {}

    def record(response: BaseResponse) -> BaseResponse:
        started: float | None = g.get("flusk_metrics_started")
        if started is not None:
            rule = request.url_rule
            endpoint = rule.rule if rule is not None else UNMATCHED
            method = request.method if request.method in KNOWN_METHODS else OTHER_METHOD
            status = response.status_code
            counter = counters.get((endpoint, method, status))
            if counter is None:
                counter = counters[endpoint, method, status] = found.requests.labels(
                    endpoint, method, str(status)
                )
            histogram = histograms.get((endpoint, method))
            if histogram is None:
                histogram = histograms[endpoint, method] = found.duration.labels(endpoint, method)
            counter.inc()
            histogram.observe(time.perf_counter() - started)
        return response

    def finish(_error: BaseException | None) -> None:
        if g.pop("flusk_metrics_started", None) is not None:
            found.in_flight.dec()

    app.before_request(start)
    app.after_request(record)
    app.teardown_request(finish)


def init_pool_metrics(app: Flask) -> None:
    """Count the connections checked out of the app's pool (after ``init_database``)."""
    found = app_metrics(app)
    if found is None:
        return
    engine = get_database(app).engine
    url = engine.url
    checked_out = found.connections_checked_out.labels(f"{url.get_backend_name()}:{url.database}")

    def checkout(*_args: Any) -> None:
        checked_out.inc()

    def give_back(*_args: Any) -> None:
        checked_out.dec()

    # A detached connection never comes back to the pool: it is no longer checked out.
    for event, listener in (("checkout", checkout), ("checkin", give_back), ("detach", give_back)):
        sa.event.listen(engine, event, listener)


# For gunicorn's server hooks (flusk_common.gunicorn_conf), run in its master process.

_made_folders: list[str] = []


def prepare_metrics_folder() -> None:
    """Before any worker starts: an empty folder for the workers' metric files.

    A folder of ``PROMETHEUS_MULTIPROC_DIR``'s is emptied of the last run's files; without
    it, a new temporary folder is made (and removed on exit). Workers inherit the variable.
    """
    folder = os.environ.get(MULTIPROC_DIR)
    if not folder:
        folder = tempfile.mkdtemp(prefix="flusk-metrics-")
        _made_folders.append(folder)
        os.environ[MULTIPROC_DIR] = folder
        return
    os.makedirs(folder, exist_ok=True)
    for name in os.listdir(folder):
        if name.endswith(".db"):
            os.remove(os.path.join(folder, name))


def forget_worker(pid: int) -> None:
    """A worker ended: its live gauges (in flight, pool, breakers) no longer count."""
    if os.environ.get(MULTIPROC_DIR):
        from prometheus_client import multiprocess  # noqa: PLC0415 - once the folder is set

        multiprocess.mark_process_dead(pid)


def remove_metrics_folder() -> None:
    """The master ends: remove the folder it made."""
    while _made_folders:
        shutil.rmtree(_made_folders.pop(), ignore_errors=True)
