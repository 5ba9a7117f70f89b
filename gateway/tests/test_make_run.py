"""`make run`: started as a developer does, stopped as Ctrl-C, a closed terminal or a pipe does.

Every way of stopping must end every process of the stack and free every port, so that the
next `make run` just works.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import time
import uuid
from pathlib import Path

import httpx
import pytest

from flusk_tools.gateway import DOCS_ASSETS
from local_run import (
    PORT_VARIABLES,
    SERVICES,
    SERVING,
    STOP_SECONDS,
    LocalRun,
    assert_ports_free,
    create_record,
    listed_records,
    session_members,
)

needs_proc = pytest.mark.skipif(
    not Path("/proc/self/stat").exists(), reason="finding leftover processes needs /proc"
)


def banner_example(banner: str) -> tuple[str, dict[str, str], str]:
    """The URL, headers and body of the banner's `curl ... -d` example."""
    examples = [line for line in banner.splitlines() if line.strip().startswith("curl -s http")]
    posts = [shlex.split(line) for line in examples if " -d " in line]
    assert len(posts) == 1, banner
    words = posts[0]
    headers = dict(
        words[index + 1].split(": ", 1) for index, word in enumerate(words) if word == "-H"
    )
    url = next(word for word in words if word.startswith("http"))
    return url, headers, words[words.index("-d") + 1]


def test_start_stack_serving_every_service(local_run: LocalRun) -> None:
    local_run.start_serving()

    record = create_record(local_run)

    assert listed_records(local_run) == [record]
    var = Path(local_run.env["FLUSK_VAR_DIR"])
    assert all((var / f"{service.name}.db").is_file() for service in SERVICES)


def test_print_urls_and_working_curl_example(local_run: LocalRun) -> None:
    local_run.start_serving()
    banner = local_run.output("stdout")
    base = f"http://localhost:{local_run.env['GATEWAY_PORT']}"

    url, headers, body = banner_example(banner)
    response = httpx.post(url, headers=headers, content=body, timeout=10)

    assert f"{base}/healthz" in banner
    assert all(f"{base}{service.prefix}" in banner for service in SERVICES)
    assert response.status_code == 201, response.text


def test_serve_docs_of_every_service(local_run: LocalRun) -> None:
    local_run.start_serving()
    banner = local_run.output("stdout")

    with httpx.Client(base_url=local_run.gateway_url, timeout=10) as gateway:
        page = gateway.get("/docs")
        script = gateway.get("/docs/swagger-ui-bundle.js")
        listed = gateway.get("/docs/swagger-config.json").json()["urls"]
        documents = [gateway.get(entry["url"]).json() for entry in listed]

    assert f"http://localhost:{local_run.env['GATEWAY_PORT']}/docs" in banner
    assert "Swagger UI is not installed" not in banner
    assert (page.status_code, script.status_code) == (200, 200)
    assert [entry["name"] for entry in listed] == [service.name for service in SERVICES]
    assert [document["openapi"] for document in documents] == ["3.1.0"] * len(SERVICES)


def start_watched(run: LocalRun, **options: int) -> subprocess.Popen[bytes]:
    """Start serving, and make sure /proc shows the processes that must stop later."""
    process = run.start(**options)
    run.wait_serving(process)
    assert set(run.started().values()) <= set(session_members(run.sessions))
    return process


def test_name_databases_and_print_urls_once_serving(local_run: LocalRun) -> None:
    local_run.start_serving()
    banner = local_run.output("stdout")
    opening = banner.split(SERVING)[0]

    statuses = [
        httpx.get(f"{local_run.gateway_url}{service.prefix}", timeout=10).status_code
        for service in SERVICES
    ]

    var = Path(local_run.env["FLUSK_VAR_DIR"])
    for service in SERVICES:
        assert f"{service.name:8} database sqlite:///{var / service.name}.db" in opening
    assert "http://localhost" not in opening
    assert statuses == [200] * len(SERVICES)  # no retry: the banner came after /readyz


@needs_proc
@pytest.mark.parametrize(
    ("sig", "to_group"),
    [
        pytest.param(signal.SIGINT, True, id="ctrl-c"),  # the terminal's foreground group
        pytest.param(signal.SIGTERM, False, id="sigterm"),
        pytest.param(signal.SIGHUP, True, id="closed-terminal"),
    ],
)
def test_stop_everything_on_signal(
    local_run: LocalRun, sig: signal.Signals, to_group: bool
) -> None:
    process = start_watched(local_run)

    if to_group:
        os.killpg(process.pid, sig)
    else:
        process.send_signal(sig)
    local_run.wait_stopped(process)

    assert process.returncode == 0, local_run.report()
    assert_ports_free(local_run)


@needs_proc
def test_stop_everything_when_output_closed(local_run: LocalRun) -> None:
    """`make run | head`: the reader goes away; flusk-run notices without writing."""
    process = local_run.start(stdout=subprocess.PIPE)
    assert process.stdout is not None
    seen = b""
    deadline = time.monotonic() + 30
    while SERVING.encode() not in seen and time.monotonic() < deadline:
        seen += process.stdout.readline()
    assert SERVING.encode() in seen, seen.decode()
    local_run.sessions |= set(map(int, re.findall(rb"started \(pid=(\d+)\)", seen)))

    process.stdout.close()
    local_run.wait_stopped(process)

    assert_ports_free(local_run)


@needs_proc
def test_leave_nothing_when_killed(local_run: LocalRun) -> None:
    """flusk-run SIGKILLed: its processes get their stop signal from the kernel."""
    process = start_watched(local_run)

    process.kill()
    local_run.wait_all_gone(time.monotonic() + STOP_SECONDS)

    assert_ports_free(local_run)


@needs_proc
def test_run_twice_in_a_row(local_run: LocalRun) -> None:
    counts = []
    for _ in range(2):
        process = start_watched(local_run)
        create_record(local_run)  # leaves connections in TIME_WAIT on both ports
        counts.append(len(listed_records(local_run)))
        process.send_signal(signal.SIGTERM)
        local_run.wait_stopped(process)

    assert counts == [1, 2]  # the second run kept the first one's database
    assert_ports_free(local_run)


def postgres_reachable() -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", 5432)) == 0


@pytest.mark.skipif(not postgres_reachable(), reason="no PostgreSQL on 127.0.0.1:5432")
def test_say_how_to_create_missing_database(local_run: LocalRun) -> None:
    name = f"flusk_missing_{uuid.uuid4().hex[:12]}"
    url = f"postgresql+psycopg://postgres:secret@127.0.0.1:5432/{name}"
    local_run.env[f"{SERVICES[0].name.upper()}_DATABASE_URL"] = url

    message = local_run.fails_with()

    assert f"createdb -h 127.0.0.1 -p 5432 -U postgres {name}" in message
    assert "CREATE DATABASE" in message
    assert "secret" not in message


@pytest.mark.parametrize("variable", PORT_VARIABLES)
def test_refuse_taken_port(local_run: LocalRun, variable: str) -> None:
    port = int(local_run.env[variable])
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind(("127.0.0.1", port))
        holder.listen()

        message = local_run.fails_with()

    assert str(port) in message
    assert variable in message


def test_say_how_to_install_missing_docs_page(copied_run: LocalRun) -> None:
    """Without Swagger UI's files the stack still starts, and says how to get /docs."""
    shutil.rmtree(copied_run.root / DOCS_ASSETS)

    copied_run.start_serving()
    opening = copied_run.output("stdout").split(SERVING)[0]

    assert f"Swagger UI is not installed in {DOCS_ASSETS}: run make venv" in opening


def test_refuse_missing_nginx(local_run: LocalRun) -> None:
    local_run.env["NGINX_BIN"] = "/nonexistent/nginx"

    message = local_run.fails_with()

    assert "nginx is not installed" in message
    assert "apt-get install nginx-light" in message
