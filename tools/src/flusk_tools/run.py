"""``make run``: every service under gunicorn and the nginx gateway, in the foreground.

Checks what would otherwise fail obscurely (nginx missing, a port taken), applies every
service's migrations, renders the gateway config and a Procfile under ``var/``, prints the
URLs, then hands over to honcho, which starts every process, prefixes their output, and
on Ctrl-C or SIGTERM stops them all.
"""

from __future__ import annotations

import os
import shlex
import shutil
import socket
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from .commands import migrate_command, serve_command
from .gateway import DOCS_ASSETS, LOCAL_PORT, GatewayConfigError, write_local_config
from .registry import RegistryError, Service, find_root, load_services

NGINX_INSTALL_HINT = "sudo apt-get install nginx-light (or brew install nginx)"


class RunError(Exception):
    """The stack cannot start; the message says why and what to do."""


def _port(environ: Mapping[str, str], variable: str, default: int) -> int:
    raw = environ.get(variable, str(default))
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise RunError(f"{variable}={raw!r} is not a port number")
    return int(raw)


def gateway_port(environ: Mapping[str, str]) -> int:
    return _port(environ, "GATEWAY_PORT", LOCAL_PORT)


def service_port(service: Service, environ: Mapping[str, str]) -> int:
    return _port(environ, f"{service.name.upper()}_PORT", service.port)


def check_port_free(port: int, variable: str) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # As nginx and gunicorn do: connections of the last run in TIME_WAIT do not count.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            raise RunError(
                f"port {port} is taken; stop what uses it or set {variable} to another port"
            ) from None


def find_nginx(environ: Mapping[str, str]) -> str:
    """nginx from NGINX_BIN, the PATH, or /usr/sbin (not on a Debian user's PATH)."""
    candidates = (
        [environ["NGINX_BIN"]]
        if environ.get("NGINX_BIN")
        else [
            shutil.which("nginx") or "",
            "/usr/sbin/nginx",
            "/usr/local/sbin/nginx",
        ]
    )
    for candidate in candidates:
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    raise RunError(f"nginx is not installed: {NGINX_INSTALL_HINT}")


def check_docs_assets(root: Path) -> None:
    """Swagger UI's files, which the gateway serves at /docs, are installed."""
    if not (root / DOCS_ASSETS / "swagger-ui-bundle.js").is_file():
        raise RunError(
            f"the /docs page's files are not installed in {DOCS_ASSETS}: "
            "run make venv (it installs them with npm ci)"
        )


def service_environment(
    service: Service, services: Sequence[Service], var_dir: Path, environ: Mapping[str, str]
) -> dict[str, str]:
    """What a service process gets on top of the environment of `make run`.

    A service calls the others directly on their loopback ports, as it calls them by
    host name in compose: internal calls do not go through the gateway.
    """
    name = service.name.upper()
    variables = {
        "PORT": str(service_port(service, environ)),
        "HOST": "127.0.0.1",
        "TRUSTED_PROXY_HOPS": "1",
    }
    if not environ.get(f"{name}_DATABASE_URL") and not environ.get("DATABASE_URL"):
        variables[f"{name}_DATABASE_URL"] = f"sqlite:///{var_dir / service.name}.db"
    for callee in services:
        setting = f"{callee.name.upper()}_URL"
        if callee.name in service.calls and not (
            environ.get(f"{name}_{setting}") or environ.get(setting)
        ):
            address = f"http://127.0.0.1:{service_port(callee, environ)}"
            variables[f"{name}_{setting}"] = address
    return variables


def procfile_lines(
    services: Sequence[Service], nginx: str, config: Path, var_dir: Path, environ: Mapping[str, str]
) -> list[str]:
    """One Procfile line per process: the gateway, then each service."""
    bin_dir = Path(sys.executable).parent
    nginx_command = [nginx, "-p", str(config.parent), "-e", "stderr", "-c", str(config)]
    lines = ["gateway: exec " + shlex.join([*nginx_command, "-g", "daemon off;"])]
    for service in services:
        variables = service_environment(service, services, var_dir, environ)
        command = serve_command(service.name)
        command[0] = str(bin_dir / command[0])
        assignments = [f"{name}={value}" for name, value in variables.items()]
        lines.append(f"{service.name}: exec {shlex.join(['env', *assignments, *command])}")
    return lines


def migrate(
    root: Path, services: Sequence[Service], var_dir: Path, environ: Mapping[str, str]
) -> None:
    bin_dir = Path(sys.executable).parent
    for service in services:
        command = migrate_command(str(root / "services" / service.name / "alembic.ini"))
        command[0] = str(bin_dir / command[0])
        env = {**environ, **service_environment(service, services, var_dir, environ)}
        result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603
        if result.returncode != 0:
            raise RunError(f"migrating {service.name} failed:\n{result.stderr.strip()}")


def prepare(root: Path, environ: Mapping[str, str]) -> tuple[list[Service], Path]:
    """Check the machine, migrate, write the gateway config and the Procfile."""
    services = load_services(root)
    var_dir = Path(environ.get("FLUSK_VAR_DIR") or root / "var").resolve()
    nginx = find_nginx(environ)
    check_docs_assets(root)
    check_port_free(gateway_port(environ), "GATEWAY_PORT")
    for service in services:
        check_port_free(service_port(service, environ), f"{service.name.upper()}_PORT")
    migrate(root, services, var_dir, environ)
    ports = {service.name: service_port(service, environ) for service in services}
    config = write_local_config(root, var_dir / "gateway", port=gateway_port(environ), ports=ports)
    procfile = var_dir / "run" / "Procfile"
    procfile.parent.mkdir(parents=True, exist_ok=True)
    lines = procfile_lines(services, nginx, config, var_dir, environ)
    procfile.write_text("\n".join(lines) + "\n")
    return services, procfile


def banner(services: Sequence[Service], environ: Mapping[str, str]) -> str:
    base = f"http://localhost:{gateway_port(environ)}"
    lines = [
        "Flusk is starting; Ctrl-C stops everything.",
        f"  gateway  {base}/healthz",
        f"  docs     {base}/docs",
    ]
    lines += [f"  {service.name:8} {base}{service.prefix}" for service in services]
    if services:
        first = f"{base}{services[0].prefix}"
        lines += [
            "Try:",
            f"  curl -s {first} -H 'Content-Type: application/json' "
            """-d '{"name": "Ada Lovelace", "email": "ada@example.org"}'""",
            f"  curl -s {first}",
        ]
    return "\n".join(lines) + "\n"


def main() -> int:
    try:
        root = find_root()
        services, procfile = prepare(root, os.environ)
    except (RunError, RegistryError, GatewayConfigError, OSError) as exc:
        sys.stderr.write(f"make run: {exc}\n")
        return 1
    sys.stdout.write(banner(services, os.environ))
    sys.stdout.flush()
    honcho = str(Path(sys.executable).parent / "honcho")
    arguments = [honcho, "--procfile", str(procfile), "--app-root", str(root), "start"]
    # Unbuffered: honcho prints from its signal handler too, and a buffered stdout raises
    # "reentrant call" when a signal lands while the main loop is printing.
    environ = {**os.environ, "PYTHONUNBUFFERED": "1"}
    os.execve(honcho, arguments, environ)  # noqa: S606 - honcho takes over, signals and all
