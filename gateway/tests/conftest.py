"""Fixtures of the gateway suite: real nginx in front of real gunicorn services on loopback."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from flusk_tools.gateway import DOCS_ASSETS, Upstream
from helpers import SUMMARY
from local_run import LocalRun, copy_repository
from stack import ROOT, GatewayProcess, ServiceProcess, migrate

ALLOWED_ORIGIN = "https://app.example"


@pytest.fixture(scope="session", autouse=True)
def nginx_installed() -> None:
    """Skip the suite when nginx is missing, visibly; on CI that is a failure instead."""
    if shutil.which("nginx") or os.access("/usr/sbin/nginx", os.X_OK):
        return
    reason = "nginx is not installed (apt-get install nginx-light): gateway tests need it"
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def docs_assets_installed() -> None:
    """/docs needs Swagger UI's files, which `make venv` installs (`make test` runs it)."""
    if not (ROOT / DOCS_ASSETS / "swagger-ui-bundle.js").is_file():
        pytest.fail(f"Swagger UI is not installed in {DOCS_ASSETS}: run make venv")


def upstream_of(service: ServiceProcess) -> Upstream:
    return Upstream(service.name, f"/{service.name}", f"127.0.0.1:{service.port}")


@pytest.fixture(scope="session")
def foss_service(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServiceProcess]:
    """foss under gunicorn on the run's database, migrated first, shared by the session."""
    migrate("foss", database_url)
    log = tmp_path_factory.mktemp("foss") / "foss.log"
    service = ServiceProcess("foss", database_url, log, env={"CORS_ORIGINS": ALLOWED_ORIGIN})
    yield service.start()
    service.stop()


@pytest.fixture(scope="session")
def gateway(
    foss_service: ServiceProcess, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[GatewayProcess]:
    """The gateway in front of ``foss_service``, with the default settings."""
    process = GatewayProcess(
        tmp_path_factory.mktemp("gateway"),
        [upstream_of(foss_service)],
        {"cors_origins": (ALLOWED_ORIGIN,)},
    )
    yield process.start()
    process.stop()


@pytest.fixture
def client(gateway: GatewayProcess) -> Iterator[httpx.Client]:
    """An HTTP client talking to the gateway."""
    with httpx.Client(base_url=gateway.url, timeout=30) as http:
        yield http


@pytest.fixture
def make_gateway(tmp_path: Path) -> Iterator[Callable[..., GatewayProcess]]:
    """Start a gateway of the test's own: ``make_gateway([upstreams], rate_limit=1)``."""
    started: list[GatewayProcess] = []

    def make(upstreams: list[Upstream], **settings: object) -> GatewayProcess:
        process = GatewayProcess(tmp_path / f"gateway{len(started)}", upstreams, settings)
        started.append(process.start())
        return process

    yield make
    for process in started:
        process.stop()


@pytest.fixture
def make_service(
    new_database_url: Callable[[], str], tmp_path: Path
) -> Iterator[Callable[..., ServiceProcess]]:
    """Start a service of the test's own on a new migrated database, to stop or kill.

    ``make_service()`` is a foss; ``make_service("licenses")`` a licenses; keyword
    arguments are environment variables of the process.
    """
    started: list[ServiceProcess] = []

    def make(name: str = "foss", **env: str) -> ServiceProcess:
        database_url = new_database_url()
        migrate(name, database_url)
        log = tmp_path / f"{name}-{len(started)}.log"
        service = ServiceProcess(name, database_url, log, env=env)
        started.append(service.start())
        return service

    yield make
    for service in started:
        if service.process is not None:
            service.stop()


@pytest.fixture
def local_run(tmp_path: Path) -> Iterator[LocalRun]:
    """`make run` of this repository, with ports and a var/ of its own."""
    run = LocalRun(tmp_path)
    yield run
    run.kill()


@pytest.fixture
def copied_run(tmp_path: Path) -> Iterator[LocalRun]:
    """`make run` of a copy of the repository, whose code the test may edit."""
    run = LocalRun(tmp_path, copy_repository(tmp_path / "repository"))
    yield run
    run.kill()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """What tests asked to show whatever their outcome (the fuzzer's report)."""
    lines = terminalreporter.config.stash.get(SUMMARY, [])
    if lines:
        terminalreporter.section("reports")
        for line in lines:
            terminalreporter.write_line(line)
