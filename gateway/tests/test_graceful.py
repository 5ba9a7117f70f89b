"""SIGTERM to a service with requests in flight: they complete; no acknowledged write is lost."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import httpx
import sqlalchemy as sa

from conftest import upstream_of
from helpers import foss_body
from stack import GatewayProcess, ServiceProcess

WRITERS = 6


@contextmanager
def writes_blocked(database_url: str) -> Iterator[None]:
    """Hold a lock that makes every insert into foss wait until the block ends."""
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as connection:
            if engine.dialect.name == "sqlite":
                connection.exec_driver_sql("BEGIN IMMEDIATE")
            else:
                connection.begin()
                connection.exec_driver_sql("LOCK TABLE foss IN SHARE ROW EXCLUSIVE MODE")
            yield
            connection.exec_driver_sql("ROLLBACK")
    finally:
        engine.dispose()


def test_finish_in_flight_requests_on_sigterm(
    make_service: Callable[..., ServiceProcess], make_gateway: Callable[..., GatewayProcess]
) -> None:
    service = make_service()
    gateway = make_gateway([upstream_of(service)])
    started = threading.Barrier(WRITERS + 1)

    def post(client: httpx.Client) -> httpx.Response:
        started.wait()
        return client.post("/foss", json=foss_body())

    with (
        httpx.Client(base_url=gateway.url, timeout=60) as client,
        ThreadPoolExecutor(WRITERS) as pool,
    ):
        with writes_blocked(service.database_url):
            futures = [pool.submit(post, client) for _ in range(WRITERS)]
            started.wait()
            time.sleep(1)  # let the requests reach the service's workers and wait on the lock
            assert service.process is not None
            service.process.send_signal(signal.SIGTERM)
            time.sleep(0.5)  # the workers are shutting down with their requests in hand
        responses = [future.result() for future in futures]
        assert service.stop() == 0

        statuses = [response.status_code for response in responses]
        assert set(statuses) <= {201, 502}, statuses
        assert statuses.count(201) >= 2, statuses  # at least one request per worker finished

        service.start()
        for response in responses:
            if response.status_code == 201:
                assert client.get(f"/foss/{response.json()['id']}").status_code == 200
