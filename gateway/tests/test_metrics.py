"""Metrics under real gunicorn (2 workers) and the gateway's stub_status on its internal port.

Each service's /metrics is on its own port, counted across its workers exactly; the gateway
never routes it. The gateway's own counters (nginx stub_status) answer on an internal port
only.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families

from flusk_tools.gateway import COMPOSE_STATUS_PORT, compose_settings, compose_upstreams, render
from flusk_tools.registry import load_services
from helpers import assert_problem, create_foss
from stack import ROOT, GatewayProcess, ServiceProcess

# (method, path, the route rule it is counted under, status)
Call = tuple[str, str, str, int]
ROUND: list[Call] = [
    *[("GET", "/healthz", "/healthz", 200)] * 8,
    *[("GET", "/foss/2000000000", "/foss/<foss:foss_id>", 404)] * 8,
    *[("GET", "/nowhere/1", "unmatched", 404)] * 4,
    *[("DELETE", "/foss", "unmatched", 405)] * 4,
]
MAX_ROUNDS = 25
SamplesKey = tuple[str, frozenset[tuple[str, str]]]


def send(base_url: str, call: Call) -> int:
    """One request on a connection of its own, so that either worker may take it."""
    method, path, _, _ = call
    with httpx.Client(base_url=base_url, timeout=30) as http:
        return http.request(method, path).status_code


def send_round(base_url: str, sent: Counter[tuple[str, str, int]]) -> None:
    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(lambda call: send(base_url, call), ROUND))
    assert statuses == [status for *_, status in ROUND]
    sent.update((rule, method, status) for method, _, rule, status in ROUND)


def requests_by_worker(folder: Path) -> dict[int, float]:
    """Requests each worker counted, from its own file of the shared folder."""
    counted = {}
    for path in folder.glob("counter_*.db"):
        samples = [
            sample
            for metric in MultiProcessCollector.merge([str(path)], accumulate=True)
            for sample in metric.samples
            if sample.name == "flusk_http_requests_total"
        ]
        counted[int(path.stem.rpartition("_")[2])] = sum(sample.value for sample in samples)
    return counted


def scrape(service: ServiceProcess) -> dict[SamplesKey, float]:
    response = httpx.get(f"{service.url}/metrics", timeout=30)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def assert_counted_exactly(
    before: dict[SamplesKey, float],
    after: dict[SamplesKey, float],
    sent: Counter[tuple[str, str, int]],
) -> None:
    """``after`` counts ``sent`` more requests than ``before`` (the start's probes)."""

    def added(key: SamplesKey) -> float:
        return after.get(key, 0) - before.get(key, 0)

    requests = {
        (labels["endpoint"], labels["method"], int(labels["status"])): added(key)
        for key in after
        if key[0] == "flusk_http_requests_total"
        for labels in [dict(key[1])]
        if added(key)
    }
    assert requests == dict(sent)
    by_route: Counter[tuple[str, str]] = Counter()
    for (rule, method, _), count in sent.items():
        by_route[rule, method] += count
    for (rule, method), count in by_route.items():
        labels = frozenset({"endpoint": rule, "method": method}.items())
        assert added(("flusk_http_request_duration_seconds_count", labels)) == count
        bucket = labels | {("le", "+Inf")}
        assert added(("flusk_http_request_duration_seconds_bucket", bucket)) == count
    assert after[("flusk_http_requests_in_flight", frozenset())] == 0


def test_count_requests_of_both_workers_exactly(
    make_service: Callable[..., ServiceProcess], tmp_path: Path
) -> None:
    folder = tmp_path / "metrics"
    folder.mkdir()
    # A file left by an earlier run in the same folder: emptied at start, never counted.
    (folder / "counter_999999.db").write_bytes(b"\x00" * 64)
    service = make_service(PROMETHEUS_MULTIPROC_DIR=str(folder), WEB_CONCURRENCY="2")
    before, counted_before = scrape(service), sum(requests_by_worker(folder).values())
    sent: Counter[tuple[str, str, int]] = Counter()
    with httpx.Client(base_url=service.url, timeout=30) as http:
        created = create_foss(http)
        assert created.status_code == 201
        assert http.get(created.headers["Location"]).status_code == 200
    sent.update({("/foss", "POST", 201): 1, ("/foss/<foss:foss_id>", "GET", 200): 1})

    for _ in range(MAX_ROUNDS):
        send_round(service.url, sent)
        if len([count for count in requests_by_worker(folder).values() if count]) == 2:
            break
    counted = requests_by_worker(folder)

    assert 999999 not in counted
    assert len(counted) == 2, "both workers served requests"
    assert all(counted.values())
    assert sum(counted.values()) - counted_before == sum(sent.values())
    assert_counted_exactly(before, scrape(service), sent)


def test_count_requests_in_temporary_folder_by_default(
    make_service: Callable[..., ServiceProcess], tmp_path: Path
) -> None:
    # No PROMETHEUS_MULTIPROC_DIR: the master makes a folder of its own (under TMPDIR).
    service = make_service(WEB_CONCURRENCY="2", TMPDIR=str(tmp_path))
    before = scrape(service)
    sent: Counter[tuple[str, str, int]] = Counter()

    for _ in range(3):
        send_round(service.url, sent)

    assert_counted_exactly(before, scrape(service), sent)
    [folder] = tmp_path.glob("flusk-metrics-*")
    assert list(folder.glob("counter_*.db"))
    assert service.stop() == 0
    assert not folder.exists()  # removed when the master exits


def test_count_database_connections_back_to_zero(foss_service: ServiceProcess) -> None:
    assert httpx.get(f"{foss_service.url}/readyz", timeout=30).status_code == 200

    samples = scrape(foss_service)

    pool = [
        (dict(labels), count)
        for (name, labels), count in samples.items()
        if name == "flusk_db_connections_checked_out"
    ]
    assert [count for _, count in pool] == [0]
    assert re.fullmatch(r"(sqlite|postgresql):.+", pool[0][0]["engine"])


def test_show_callee_breaker_closed(make_service: Callable[..., ServiceProcess]) -> None:
    service = make_service()  # foss calls licenses

    samples = scrape(service)

    assert samples[("flusk_service_breaker_state", frozenset({("callee", "licenses")}))] == 0


def test_never_route_metrics_through_gateway(client: httpx.Client) -> None:
    assert_problem(client.get("/metrics"), 404, "not_found")
    assert_problem(client.get("/foss/metrics"), 404, "not_found")


# The gateway's stub_status.


def stub_status(gateway: GatewayProcess) -> dict[str, int]:
    response = httpx.get(f"{gateway.status_url}/stub_status", timeout=30)
    assert response.status_code == 200
    found = re.search(
        r"Active connections: (\d+) \nserver accepts handled requests\n (\d+) (\d+) (\d+)",
        response.text,
    )
    assert found, response.text
    active, accepts, handled, requests = map(int, found.groups())
    return {"active": active, "accepts": accepts, "handled": handled, "requests": requests}


def test_answer_stub_status_on_internal_port(gateway: GatewayProcess) -> None:
    before = stub_status(gateway)
    for _ in range(3):
        assert httpx.get(f"{gateway.url}/healthz", timeout=30).status_code == 200

    after = stub_status(gateway)

    assert after["requests"] - before["requests"] == 4  # three, and this answer's own request
    assert after["active"] >= 1


def test_serve_nothing_else_on_internal_port(gateway: GatewayProcess) -> None:
    for path in ("/", "/healthz", "/foss", "/metrics"):
        assert httpx.get(f"{gateway.status_url}{path}", timeout=30).status_code == 404


def test_never_answer_stub_status_on_public_port(client: httpx.Client) -> None:
    assert_problem(client.get("/stub_status"), 404, "not_found")


def test_listen_for_stub_status_on_loopback_only(gateway: GatewayProcess) -> None:
    config = (gateway.prefix / "nginx.conf").read_text()

    assert f"listen 127.0.0.1:{gateway.status_port};" in config


def test_render_compose_stub_status_on_unpublished_port() -> None:
    config = render(ROOT, compose_upstreams(load_services(ROOT)), compose_settings())

    server = config[config.index(f"listen {COMPOSE_STATUS_PORT};") :]
    assert "location = /stub_status {\n            stub_status;" in server
