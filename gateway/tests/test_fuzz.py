"""schemathesis against every service's document, through the real gateway, as a client would.

Every phase (examples, coverage, fuzzing, stateful) and every check, with a fixed seed.
`make test` runs FUZZ_EXAMPLES (default 25) examples per operation; `make fuzz` many more.
Each service's own database is fresh; the gateway's rate limit is lifted for the run, since
the fuzzer is one client sending as fast as it can.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from conftest import upstream_of
from flusk_tools.registry import Service, load_services
from helpers import SUMMARY
from stack import ROOT, GatewayProcess, ServiceProcess, migrate

SERVICES = load_services(ROOT)
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))
SEED = int(os.environ.get("FUZZ_SEED", "20261124"))
SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"


@pytest.fixture
def stack(tmp_path: Path, new_database_url: Callable[[], str]) -> Iterator[str]:
    """Every service of the registry, each caller told where its callees are, behind nginx."""
    started: dict[str, ServiceProcess] = {}
    try:
        for service in _callees_first(SERVICES):
            database_url = new_database_url()
            migrate(service.name, database_url)
            env = {f"{callee.upper()}_URL": started[callee].url for callee in service.calls}
            log = tmp_path / f"{service.name}.log"
            started[service.name] = ServiceProcess(service.name, database_url, log, env=env).start()
        upstreams = [upstream_of(process) for process in started.values()]
        settings = {"rate_limit": 100000, "rate_burst": 100000}
        gateway = GatewayProcess(tmp_path / "gateway", upstreams, settings).start()
        try:
            yield gateway.url
        finally:
            gateway.stop()
    finally:
        for process in started.values():
            process.stop()


def _callees_first(services: list[Service]) -> list[Service]:
    ordered: list[Service] = []
    pending = list(services)
    while pending:
        ready = [s for s in pending if all(c in {o.name for o in ordered} for c in s.calls)]
        ordered += ready
        pending = [s for s in pending if s not in ready]
    return ordered


def test_fuzz_every_contract_through_the_gateway(
    stack: str, tmp_path: Path, pytestconfig: pytest.Config
) -> None:
    for service in SERVICES:
        report = _fuzz(stack, service, tmp_path)
        summary = report[report.rfind("API Operations:") :].strip().splitlines()
        pytestconfig.stash.setdefault(SUMMARY, []).extend(
            [f"schemathesis, {service.name}:", *(f"  {line}" for line in summary if line.strip())]
        )


def _fuzz(gateway: str, service: Service, folder: Path) -> str:
    command = [
        str(SCHEMATHESIS),
        "run",
        f"{gateway}{service.prefix}/openapi.json",
        "--url",
        gateway,
        "--checks",
        "all",
        "--phases",
        "examples,coverage,fuzzing,stateful",
        "--max-examples",
        str(EXAMPLES),
        "--seed",
        str(SEED),
        "--no-color",
    ]
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=900, check=False, cwd=folder
    )
    report = result.stdout + result.stderr
    assert result.returncode == 0, f"schemathesis found failures in {service.name}:\n{report}"
    assert re.search(r"(\d+) generated, \1 passed", report), report
    return report
