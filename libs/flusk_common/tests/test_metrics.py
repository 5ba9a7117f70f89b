"""Prometheus metrics: /metrics outside the prefix, requests by route rule, the pool, calls."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from flask import Flask
from prometheus_client.parser import text_string_to_metric_families

from flusk_common import UpstreamUnavailable, service_client
from flusk_common._database import get_database
from flusk_common._metrics import (
    MULTIPROC_DIR,
    Metrics,
    app_metrics,
    forget_worker,
    prepare_metrics_folder,
    remove_metrics_folder,
)
from flusk_common.testing import assert_problem
from test_client import PROBLEM, Peer, answering, relay

MakeApp = Callable[..., Flask]


def metrics_of(app: Flask) -> Metrics:
    found = app_metrics(app)
    assert found is not None
    return found


def value(app: Flask, name: str, **labels: str) -> float:
    """A sample's value as the app's registry holds it (0 for a series not there yet)."""
    found = metrics_of(app).registry.get_sample_value(name, labels)
    return 0.0 if found is None else found


def scraped(app: Flask) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of ``GET /metrics``, parsed as Prometheus parses it."""
    response = app.test_client().get("/metrics")
    assert response.status_code == 200
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.get_data(as_text=True))
        for sample in family.samples
    }


def test_serve_metrics_as_prometheus_text(client: Any) -> None:
    response = client.get("/metrics")

    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    assert "# TYPE flusk_http_requests_total counter" in response.get_data(as_text=True)


def test_serve_openmetrics_when_asked(client: Any) -> None:
    response = client.get("/metrics", headers={"Accept": "application/openmetrics-text"})

    assert response.mimetype == "application/openmetrics-text"
    assert response.get_data(as_text=True).endswith("# EOF\n")


def test_serve_metrics_outside_service_prefix(app: Flask, client: Any) -> None:
    rules = {rule.endpoint: rule.rule for rule in app.url_map.iter_rules()}

    assert rules["metrics.metrics"] == "/metrics"
    assert_problem(client.get("/widgets/metrics"), 404)


def test_serve_metrics_without_api_key(make_app: MakeApp) -> None:
    client = make_app(API_KEYS=("secret",)).test_client()

    assert client.get("/metrics").status_code == 200
    assert_problem(client.get("/widgets"), 401, "unauthorized")


def test_leave_metrics_out_of_api_document(client: Any) -> None:
    document = client.get("/widgets/openapi.json").get_json()

    assert "/metrics" not in document["paths"]


def test_answer_405_problem_for_post_to_metrics(client: Any) -> None:
    assert_problem(client.post("/metrics"), 405, "method_not_allowed")


def test_count_requests_by_route_rule_method_and_status(app: Flask) -> None:
    client = app.test_client()
    for _ in range(3):
        client.get("/healthz")
    for missing in ("/nope/1", "/nope/2"):
        assert_problem(client.get(missing), 404)
    assert_problem(client.delete("/healthz"), 405)

    samples = scraped(app)

    def sample(name: str, **labels: str) -> float:
        return samples.get((name, frozenset(labels.items())), 0.0)

    total = "flusk_http_requests_total"
    assert sample(total, endpoint="/healthz", method="GET", status="200") == 3
    assert sample(total, endpoint="unmatched", method="GET", status="404") == 2  # no raw path
    assert sample(total, endpoint="unmatched", method="DELETE", status="405") == 1
    duration = "flusk_http_request_duration_seconds"
    assert sample(f"{duration}_count", endpoint="/healthz", method="GET") == 3
    assert sample(f"{duration}_bucket", endpoint="/healthz", method="GET", le="+Inf") == 3
    assert sample(f"{duration}_sum", endpoint="/healthz", method="GET") > 0
    assert sample("flusk_http_requests_in_flight") == 0
    assert not any(dict(labels).get("endpoint") == "/metrics" for _, labels in samples)


def test_count_request_refused_before_view_with_its_status(make_app: MakeApp) -> None:
    app = make_app(API_KEYS=("secret",))

    assert_problem(app.test_client().get("/widgets"), 401, "unauthorized")

    labels = {"endpoint": "/widgets", "method": "GET", "status": "401"}
    assert value(app, "flusk_http_requests_total", **labels) == 1


def test_label_unknown_method_as_other(app: Flask) -> None:
    app.test_client().open("/healthz", method="BREW")

    labels = {"endpoint": "unmatched", "method": "other", "status": "405"}
    assert value(app, "flusk_http_requests_total", **labels) == 1


def test_count_request_in_flight_while_it_runs(app: Flask) -> None:
    seen: list[float] = []

    @app.get("/in-flight")
    def in_flight() -> dict[str, Any]:
        seen.append(value(app, "flusk_http_requests_in_flight"))
        return {}

    app.test_client().get("/in-flight")

    assert seen == [1.0]
    assert value(app, "flusk_http_requests_in_flight") == 0


def test_record_nothing_with_metrics_off(make_app: MakeApp) -> None:
    app = make_app(METRICS=False)

    assert app_metrics(app) is None
    assert_problem(app.test_client().get("/metrics"), 404)


def test_keep_each_app_metrics_apart(make_app: MakeApp) -> None:
    first, second = make_app(), make_app()

    first.test_client().get("/healthz")

    labels = {"endpoint": "/healthz", "method": "GET", "status": "200"}
    assert value(first, "flusk_http_requests_total", **labels) == 1
    assert value(second, "flusk_http_requests_total", **labels) == 0


# The pool: connections checked out, per engine.


def test_count_connections_checked_out(make_app: MakeApp, new_database_url: Any) -> None:
    app = make_app(DATABASE_URL=new_database_url(), isolated=False)
    engine = get_database(app).engine
    label = f"{engine.url.get_backend_name()}:{engine.url.database}"

    def checked_out() -> float:
        return value(app, "flusk_db_connections_checked_out", engine=label)

    with engine.connect():
        assert checked_out() == 1
        with engine.connect():
            assert checked_out() == 2
        assert checked_out() == 1
    assert checked_out() == 0
    assert app.test_client().get("/readyz").status_code == 200
    assert checked_out() == 0


def test_stop_counting_detached_connection(make_app: MakeApp, new_database_url: Any) -> None:
    app = make_app(DATABASE_URL=new_database_url(), isolated=False)
    engine = get_database(app).engine
    label = f"{engine.url.get_backend_name()}:{engine.url.database}"

    with engine.connect() as connection:
        connection.detach()
        assert value(app, "flusk_db_connections_checked_out", engine=label) == 0


# Calls to other services, with the fake transport.


@pytest.fixture
def peer_app(make_app: MakeApp) -> Callable[..., Flask]:
    def make(peer: Peer, **config: Any) -> Flask:
        return make_app(SERVICE_TRANSPORTS={"peer": httpx.MockTransport(peer)}, **config)

    return make


def calls(app: Flask, outcome: str) -> float:
    return value(app, "flusk_service_calls_total", callee="peer", outcome=outcome)


def breaker_state(app: Flask) -> float | None:
    return metrics_of(app).registry.get_sample_value(
        "flusk_service_breaker_state", {"callee": "peer"}
    )


@pytest.mark.parametrize(
    ("answer", "method", "outcome"),
    [
        (httpx.Response(200, json={}), "GET", "success"),
        (httpx.Response(204), "DELETE", "success"),
        (httpx.Response(404, json=PROBLEM), "GET", "error_status"),
        (httpx.Response(500, json={}), "POST", "error_status"),
        (httpx.Response(200, text="<html>"), "GET", "invalid_answer"),
        (httpx.Response(503), "POST", "unavailable_status"),
        (httpx.ConnectError("refused"), "POST", "unreachable"),
        (httpx.ReadTimeout("slow"), "GET", "timeout"),
    ],
)
def test_count_call_by_outcome(
    peer_app: Callable[..., Flask], answer: Any, method: str, outcome: str
) -> None:
    app = peer_app(answering(answer))

    relay(app, method)

    assert calls(app, outcome) == 1
    counted = [
        sample.value
        for family in metrics_of(app).registry.collect()
        for sample in family.samples
        if sample.name == "flusk_service_calls_total"
    ]
    assert counted == [1]  # one call, one outcome


def test_count_retries(peer_app: Callable[..., Flask]) -> None:
    refused = httpx.ConnectError("refused")
    app = peer_app(answering(refused, httpx.Response(502), httpx.Response(200, json={})))

    relay(app, "GET")

    assert value(app, "flusk_service_call_retries_total", callee="peer") == 2
    assert calls(app, "success") == 1


def test_count_no_retry_of_unsafe_call(peer_app: Callable[..., Flask]) -> None:
    app = peer_app(answering(httpx.ConnectError("refused")), SERVICE_RETRIES=3)

    relay(app, "POST")

    assert value(app, "flusk_service_call_retries_total", callee="peer") == 0
    assert calls(app, "unreachable") == 1


def test_show_breaker_state_and_calls_refused_by_it(peer_app: Callable[..., Flask]) -> None:
    refused = httpx.ConnectError("refused")
    peer = answering(refused, refused, httpx.Response(200, json={}))
    app = peer_app(peer, SERVICE_BREAKER_FAILURES=2, SERVICE_BREAKER_RESET=0.2)
    assert breaker_state(app) == 0  # closed from the start

    for _ in range(3):
        relay(app, "POST")

    assert breaker_state(app) == 2  # open
    assert (calls(app, "unreachable"), calls(app, "breaker_open")) == (2, 1)
    time.sleep(0.3)
    relay(app, "POST")  # the probe gets an answer: closed again
    assert breaker_state(app) == 0
    assert calls(app, "success") == 1


def test_count_call_refused_by_bulkhead(peer_app: Callable[..., Flask]) -> None:
    entered, release = threading.Event(), threading.Event()

    def slow(_request: httpx.Request) -> httpx.Response:
        entered.set()
        release.wait(10)
        return httpx.Response(200, json={})

    app = peer_app(Peer(slow), SERVICE_MAX_CONCURRENT_CALLS=1)
    first = threading.Thread(target=relay, args=(app, "GET"))
    first.start()
    try:
        assert entered.wait(10)
        relay(app, "GET")
    finally:
        release.set()
        first.join(10)

    assert (calls(app, "bulkhead_full"), calls(app, "success")) == (1, 1)


def test_count_call_without_time_left(peer_app: Callable[..., Flask]) -> None:
    peer = answering(httpx.Response(200, json={}))
    app = peer_app(peer, REQUEST_DEADLINE=0.05)

    with app.test_request_context("/healthz"):
        app.preprocess_request()  # the request's clock starts
        time.sleep(0.1)
        with pytest.raises(UpstreamUnavailable):
            service_client("peer").get("/things")

    assert calls(app, "no_time_left") == 1
    assert not peer.requests


# Under gunicorn: the folder of the workers' files (real gunicorn: gateway/tests/test_metrics.py).


def test_import_nothing_of_prometheus_client_before_gunicorn_starts() -> None:
    """Loading gunicorn's settings must not choose prometheus_client's mode too early."""
    script = "import sys, flusk_common.gunicorn_conf;sys.exit('prometheus_client' in sys.modules)"
    environment = {key: item for key, item in os.environ.items() if key != MULTIPROC_DIR}

    result = subprocess.run([sys.executable, "-c", script], env=environment, check=False)
    assert result.returncode == 0


def test_make_temporary_folder_when_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    # Set, then unset: so the variable prepare_metrics_folder() sets is undone after the test.
    monkeypatch.setenv(MULTIPROC_DIR, "")
    monkeypatch.delenv(MULTIPROC_DIR)

    prepare_metrics_folder()
    folder = Path(os.environ[MULTIPROC_DIR])
    assert folder.is_dir()
    assert not list(folder.iterdir())

    remove_metrics_folder()
    assert not folder.exists()


def test_empty_given_folder_of_last_run(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "counter_12.db").write_bytes(b"old")
    (tmp_path / "notes.txt").write_text("kept")
    monkeypatch.setenv(MULTIPROC_DIR, str(tmp_path))

    prepare_metrics_folder()
    remove_metrics_folder()

    assert [path.name for path in tmp_path.iterdir()] == ["notes.txt"]


def test_forget_dead_worker_live_gauges(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("gauge_livesum_12.db", "gauge_livemax_12.db", "counter_12.db"):
        (tmp_path / name).write_bytes(b"")
    monkeypatch.setenv(MULTIPROC_DIR, str(tmp_path))

    forget_worker(12)

    assert [path.name for path in tmp_path.iterdir()] == ["counter_12.db"]  # counts stay
