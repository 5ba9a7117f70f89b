"""`make new-service`: refused names, a service wired everywhere, failures undone.

Every test works on a copy of the repository (the files git would commit), never on the
real tree. The last test is slow: it runs a generated service's own suite under tox, then
the whole stack with `flusk-run` and talks to the new service through the gateway.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import tomllib
import urllib.error
import urllib.request
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from flusk_tools.generate import drift
from flusk_tools.new_service import (
    InvalidServiceName,
    NewServiceError,
    class_name,
    create_service,
    main,
    template_files,
)
from flusk_tools.registry import Service, find_root, load_services, next_port
from flusk_tools.run import RunError, find_nginx

ROOT = find_root(Path(__file__).parent)
SERVICE_FILES = {
    "alembic.ini",
    "pyproject.toml",
    "migrations/env.py",
    "migrations/script.py.mako",
    "migrations/versions/0001_create_zz_orders_table.py",
    "src/zz_orders/__init__.py",
    "src/zz_orders/backend.py",
    "src/zz_orders/domain.py",
    "src/zz_orders/models.py",
    "src/zz_orders/views.py",
    "src/zz_orders/wsgi.py",
    "src/zz_orders/schemas/zz_order.json",
    "tests/conftest.py",
    "tests/test_api.py",
    "tests/test_contract.py",
}


def repository_files(root: Path) -> list[str]:
    """The files of ``root`` that git would commit: tracked ones, and others it does not ignore.

    Outside a git checkout (a copy, as the README walk-through makes) git's own rules still
    decide, through a throwaway repository whose work tree is ``root``: what ``make test``
    left behind (coverage files, egg-info, caches) is never taken for the project's own.
    """
    command = ["ls-files", "-z", "--cached", "--others", "--exclude-standard"]
    listed = subprocess.run(["git", *command], cwd=root, capture_output=True, check=False)
    if listed.returncode != 0:
        with tempfile.TemporaryDirectory() as git_dir:
            subprocess.run(["git", "init", "--quiet", "--bare", git_dir], check=True)
            listed = subprocess.run(
                ["git", f"--git-dir={git_dir}", f"--work-tree={root}", *command],
                cwd=root,  # git lists the files under its working directory
                capture_output=True,
                check=True,
            )
    return [os.fsdecode(name) for name in filter(None, listed.stdout.split(b"\0"))]


def copy_repository(destination: Path) -> Path:
    """The files of the repository that git would commit, copied to ``destination``."""
    for name in repository_files(ROOT):
        source = ROOT / name
        if source.is_file():  # a file deleted but not yet staged is listed too
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return destination


def test_list_in_a_copy_without_git_what_git_lists(tmp_path: Path) -> None:
    """Outside git, git's ignore rules all the same: leftovers of a test run are not listed."""
    copy = copy_repository(tmp_path / "copy")
    (copy / ".coverage.leftover").write_text("x")
    (copy / "services" / "foss" / "src" / "foss.egg-info").mkdir()
    (copy / "services" / "foss" / "src" / "foss.egg-info" / "requires.txt").write_text("x")

    listed = sorted(repository_files(copy))

    assert "services.toml" in listed
    assert listed == sorted(name for name in repository_files(ROOT) if (ROOT / name).is_file())


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return copy_repository(tmp_path / "repo")


def snapshot(root: Path) -> dict[str, bytes | None]:
    """Every path under ``root``: a file's bytes, None for a folder."""
    return {
        str(path.relative_to(root)): path.read_bytes() if path.is_file() else None
        for path in root.rglob("*")
    }


# Refused names


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "a service name is required"),
        ("Orders", "not a lowercase Python identifier"),
        ("order-lines", "not a lowercase Python identifier"),
        ("1zz_orders", "not a lowercase Python identifier"),
        ("_zz_orders", "not a lowercase Python identifier"),
        ("zz_orders ", "not a lowercase Python identifier"),
        ("x" * 33, "longer than 32 characters"),
        ("class", "Python keyword"),
        ("match", "Python keyword"),
        ("type", "Python keyword"),
        ("email", "standard library"),
        ("foss", "already exists"),
        ("jinja2", "already importable"),
        ("pytest", "already importable"),
        ("watchfiles", "already importable"),
        # installed where the services are; the template's code imports them anyway
        ("flask", "already importable|would clash"),
        ("sqlalchemy", "already importable|would clash"),
        ("base", "clash with the name 'Base'"),
        ("record", "clash with the name 'delete_record'"),
        ("paths", "a name URL routing already uses"),
        *(
            (name, "reserved in this repository")
            for name in [
                "libs",
                "gateway",
                "docs",
                "healthz",
                "readyz",
                "compose",
                "tools",
                "bench",
                "services",
                "static",
                "test",
                "tests",
                "flusk_common",
                "flusk_tools",
                "common",
                "lint",
                "postgres",
            ]
        ),
    ],
)
def test_refuse_bad_name(repo: Path, name: str, message: str) -> None:
    before = snapshot(repo)
    with pytest.raises(InvalidServiceName, match=message) as caught:
        create_service(repo, name)
    assert "\n" not in str(caught.value)
    assert snapshot(repo) == before


def test_refuse_name_of_unregistered_folder(repo: Path) -> None:
    (repo / "services" / "zz_orders").mkdir()
    before = snapshot(repo)
    with pytest.raises(InvalidServiceName, match="already exists"):
        create_service(repo, "zz_orders")
    assert snapshot(repo) == before


@pytest.mark.parametrize(
    ("argv", "status", "message"),
    [
        ([], 2, "usage: make new-service name=<name>"),
        (["zz_orders", "extra"], 2, "usage: make new-service name=<name>"),
        (["Orders"], 2, "not a lowercase Python identifier"),
    ],
)
def test_main_reports_error_in_one_line(
    repo: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    status: int,
    message: str,
) -> None:
    monkeypatch.chdir(repo)
    before = snapshot(repo)
    assert main(argv) == status
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("make new-service: ")
    assert message in err
    assert err.count("\n") == 1
    assert snapshot(repo) == before


# A good name


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("orders", "Order"),
        ("order_lines", "OrderLine"),
        ("foss", "Foss"),
        ("categories", "Category"),
    ],
)
def test_class_name(name: str, expected: str) -> None:
    """The model holds one of what the service holds: the name made singular."""
    assert class_name(name) == expected


def test_create_service_wired_everywhere(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    port = next_port(load_services(repo))
    monkeypatch.chdir(repo)
    assert main(["zz_orders"]) == 0
    out = capsys.readouterr().out
    assert "make test service=zz_orders" in out
    assert "make run" in out

    folder = repo / "services" / "zz_orders"
    files = {str(path.relative_to(folder)) for path in folder.rglob("*") if path.is_file()}
    assert files == SERVICE_FILES
    assert load_services(repo)[-1] == Service(name="zz_orders", port=port)
    tox_ini = (repo / "tox.ini").read_text(encoding="utf-8")
    assert "[testenv:zz_orders]" in tox_ini
    compose = (repo / "compose" / "docker-compose.yml").read_text(encoding="utf-8")
    assert "\n  zz_orders:\n" in compose
    assert "\n  zz_orders-migrate:\n" in compose
    assert drift(repo) == []
    existing = [service.name for service in load_services(ROOT)]
    assert sorted(path.name for path in (repo / "services").iterdir() if path.is_dir()) == sorted(
        [*existing, "zz_orders"]
    )


def test_create_service_runs_what_the_tools_run(repo: Path) -> None:
    create_service(repo, "zz_orders")
    folder = repo / "services" / "zz_orders"
    settings = tomllib.loads((folder / "pyproject.toml").read_text(encoding="utf-8"))
    assert settings["project"]["name"] == "zz_orders"
    assert settings["tool"]["pytest"]["ini_options"]["flusk_app"] == "zz_orders:create_app"
    views = (folder / "src" / "zz_orders" / "views.py").read_text(encoding="utf-8")
    for view in ["create_zz_order", "list_zz_orders", "get_zz_order", "delete_zz_order"]:
        assert f"\ndef {view}(" in views
    schemas = {path.name for path in (folder / "src" / "zz_orders" / "schemas").iterdir()}
    assert schemas == {"zz_order.json"}


def test_create_service_next_to_another_new_one(repo: Path) -> None:
    first = create_service(repo, "zz_orders")
    second = create_service(repo, "zz_order_lines")
    assert second.port == first.port + 1
    assert (
        repo / "services" / "zz_order_lines" / "src" / "zz_order_lines" / "models.py"
    ).read_text(encoding="utf-8").count("class ZzOrderLine(") == 1
    assert drift(repo) == []


LINT_NAMES = ["zz_orders", "a", "zz_order_lines", "zz9", "x" * 32]


def python_tool(module: str) -> list[str]:
    """``python -m <module>`` of this environment, or skip when it lacks the tool."""
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"{module} is not installed here; the lint tox environment covers it")
    return [sys.executable, "-m", module]


def run(command: Sequence[str], cwd: Path, timeout: float = 120, **kwargs: Any) -> str:
    """Run ``command``; fail the test with its output unless it succeeds."""
    result = subprocess.run(
        command, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False, **kwargs
    )
    assert result.returncode == 0, f"{command} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.mark.parametrize("arguments", [["check"], ["format", "--check"]])
def test_lint_generated_services(repo: Path, arguments: list[str]) -> None:
    """Names short and long: the service's package sorts and wraps differently with each."""
    ruff = python_tool("ruff")
    for name in LINT_NAMES:
        create_service(repo, name)
    run([*ruff, *arguments, *(f"services/{name}" for name in LINT_NAMES)], cwd=repo)


def test_type_check_generated_service(repo: Path, tmp_path: Path) -> None:
    mypy = python_tool("mypy")
    create_service(repo, "zz_orders")
    cache = tmp_path / "mypy-cache"
    run([*mypy, "--strict", "--cache-dir", str(cache), "services/zz_orders/src"], cwd=repo)


# Failures undone


def block_compose_file(root: Path) -> None:
    """Make writing the generated compose file, the last step, fail: a folder is in its way."""
    compose = root / "compose" / "docker-compose.yml"
    compose.unlink()
    compose.mkdir()


def test_create_service_undoes_everything_on_failure(repo: Path) -> None:
    block_compose_file(repo)
    before = snapshot(repo)
    with pytest.raises(NewServiceError, match="nothing was changed") as caught:
        create_service(repo, "zz_orders")
    assert not isinstance(caught.value, InvalidServiceName)
    assert snapshot(repo) == before


def test_create_service_failure_removes_generated_file_it_added(repo: Path) -> None:
    (repo / "tox.ini").unlink()
    block_compose_file(repo)
    before = snapshot(repo)
    with pytest.raises(NewServiceError):
        create_service(repo, "zz_orders")
    assert snapshot(repo) == before


# Packaging


def test_build_wheel_with_template(repo: Path, tmp_path: Path) -> None:
    run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(tmp_path), "."],
        cwd=repo / "tools",
        timeout=300,
    )
    (wheel,) = tmp_path.glob("flusk_tools-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {f"flusk_tools/service_template/{path}.tmpl" for path, _ in template_files()}
    assert len(expected) == len(SERVICE_FILES)
    assert expected <= names


# End to end


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for probe in sockets:
            probe.bind(("127.0.0.1", 0))
        return [probe.getsockname()[1] for probe in sockets]
    finally:
        for probe in sockets:
            probe.close()


def clean_environment() -> dict[str, str]:
    """This environment without what an outer tox run sets, nor a service's database URL."""
    return {
        name: value
        for name, value in os.environ.items()
        if name not in {"VIRTUAL_ENV", "PIP_CONSTRAINT", "DATABASE_URL"}
        and not name.startswith("TOX_")
        and not (name.endswith("_DATABASE_URL") and name != "TEST_DATABASE_URL")
    }


def call(method: str, url: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
    """An HTTP request with a JSON body; the status and the decoded answer."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, json.loads(response.read() or b"null")


def wait_for(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text(errors="replace")
        try:
            if call("GET", url)[0] == 200:
                return
        except (OSError, urllib.error.URLError):
            time.sleep(0.2)
    pytest.fail(f"{url} did not answer in {timeout} s:\n{log.read_text(errors='replace')}")


STARTED = re.compile(rb"\bstarted \(pid=(\d+)\)")


def stack_sessions(process: subprocess.Popen[bytes], log: Path) -> set[int]:
    """flusk-run's session and, as it starts each process in its own, theirs."""
    return {process.pid, *(int(pid) for pid in STARTED.findall(log.read_bytes()))}


def session_members(sessions: set[int]) -> list[int]:
    """Live (non-zombie) processes of ``sessions``, from /proc."""
    members = []
    for entry in Path("/proc").iterdir():
        with contextlib.suppress(OSError, ValueError):  # not a process, or it just ended
            state, _, _, session = (entry / "stat").read_text().rsplit(")", 1)[1].split()[:4]
            if int(session) in sessions and state != "Z":
                members.append(int(entry.name))
    return members


def stop(process: subprocess.Popen[bytes], log: Path) -> list[int]:
    """SIGTERM flusk-run's group as Ctrl-C would; what is left of the stack after 30 s."""
    sessions = stack_sessions(process, log)
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        pytest.fail(f"flusk-run still runs 30 s after SIGTERM:\n{log.read_text(errors='replace')}")
    deadline = time.monotonic() + 30
    while (left := session_members(sessions)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left


def kill(process: subprocess.Popen[bytes], log: Path) -> None:
    """Last resort: SIGKILL every session's group (a leader's group has its id), then reap."""
    for session in stack_sessions(process, log):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(session, signal.SIGKILL)
    process.wait()


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc to find leftovers")
def test_generated_service_passes_its_own_suite_and_serves_through_the_gateway(
    repo: Path, tmp_path: Path
) -> None:
    try:
        find_nginx(os.environ)
    except RunError as exc:
        pytest.skip(str(exc))
    create_service(repo, "zz_orders", prefix="/zz-orders")  # a prefix of its own, end to end
    environment = clean_environment()
    tox = [sys.executable, "-m", "tox", "run", "-e", "zz_orders"]
    run(tox, cwd=repo, env=environment, timeout=300)

    bin_dir = repo / ".tox" / "zz_orders" / "bin"
    services = load_services(repo)
    packages = ["./tools", *(f"./services/{service.name}[serve]" for service in services)]
    install = [str(bin_dir / "python"), "-m", "pip", "install", "--quiet", "-c", "constraints.txt"]
    run([*install, *packages], cwd=repo, env=environment, timeout=300)
    gateway, status, *service_ports = free_ports(2 + len(services))
    ports = {"GATEWAY_PORT": gateway, "GATEWAY_STATUS_PORT": status} | {
        f"{service.name.upper()}_PORT": port
        for service, port in zip(services, service_ports, strict=True)
    }
    log = tmp_path / "run.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [str(bin_dir / "flusk-run")],
            cwd=repo,
            env=environment
            | {name: str(port) for name, port in ports.items()}
            | {"FLUSK_VAR_DIR": str(tmp_path / "var")},
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        base = f"http://127.0.0.1:{gateway}"
        wait_for(f"{base}/zz-orders", process, log)
        wait_for(f"{base}/foss", process, log)
        assert len(stack_sessions(process, log)) == 2 + len(services)  # flusk-run, nginx, each
        status, created = call("POST", f"{base}/zz-orders", {"name": "first"})
        assert (status, created["name"]) == (201, "first")
        status, page = call("GET", f"{base}/zz-orders")
        assert (status, page["items"]) == (200, [created])
        status, document = call("GET", f"{base}/zz-orders/openapi.json")
        assert (status, list(document["paths"])) == (
            200,
            ["/zz-orders", "/zz-orders/{zz_order_id}"],
        )
        status, _ = call("POST", f"{base}/foss", {"name": "Ada", "email": "ada@example.org"})
        assert status == 201
        assert stop(process, log) == [], log.read_text(errors="replace")
    finally:
        kill(process, log)


def test_create_service_with_its_own_prefix(repo: Path) -> None:
    service = create_service(repo, "zz_order_items", prefix="/zz-order-items")
    assert service.prefix == "/zz-order-items"
    assert load_services(repo)[-1] == service
    views = (
        repo / "services" / "zz_order_items" / "src" / "zz_order_items" / "views.py"
    ).read_text(encoding="utf-8")
    assert 'url_prefix="/zz-order-items"' in views
    assert drift(repo) == []


@pytest.mark.parametrize(
    ("prefix", "message"),
    [
        ("zz", "one path segment"),
        ("/Zz", "one path segment"),
        ("/a/b", "one path segment"),
        ("/zz-", "one path segment"),
        ("/healthz", "reserved"),
        ("/foss", "already owns /foss"),
    ],
)
def test_refuse_bad_prefix(repo: Path, prefix: str, message: str) -> None:
    before = snapshot(repo)
    with pytest.raises(InvalidServiceName, match=message):
        create_service(repo, "zz_orders", prefix=prefix)
    assert snapshot(repo) == before
