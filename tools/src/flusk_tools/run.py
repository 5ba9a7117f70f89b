"""``make run``: every service under gunicorn and the nginx gateway, in the foreground.

Checks what would otherwise fail obscurely (nginx missing, a port taken), renders the
gateway config and a Procfile under ``var/``, prints the URLs, then hands over to honcho,
which starts every process, prefixes their output, and on Ctrl-C or SIGTERM stops them all.
"""

from __future__ import annotations

import os
import shlex
import shutil
import socket
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from .gateway import LOCAL_PORT, write_local_config
from .registry import Service, find_root, load_services

GUNICORN_CONFIG = "python:flusk_common.gunicorn_conf"


class RunError(Exception):
    """The stack cannot start; the message says why and what to do."""


def service_port(service: Service, environ: Mapping[str, str]) -> int:
    return int(environ.get(f"{service.name.upper()}_PORT", service.port))


def gateway_port(environ: Mapping[str, str]) -> int:
    return int(environ.get("GATEWAY_PORT", LOCAL_PORT))


def check_port_free(port: int, owner: str) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            raise RunError(
                f"port {port} ({owner}) is taken: stop what uses it, or choose another "
                f"port with {'GATEWAY_PORT' if owner == 'gateway' else owner.upper() + '_PORT'}"
            ) from None


def find_nginx() -> str:
    nginx = shutil.which("nginx") or next(
        (path for path in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(path, os.X_OK)),
        None,
    )
    if nginx is None:
        raise RunError(
            "nginx is not installed: sudo apt-get install nginx-light (or brew install nginx)"
        )
    return nginx


def procfile_lines(
    root: Path, services: Sequence[Service], nginx: str, config: Path, environ: Mapping[str, str]
) -> list[str]:
    """One Procfile line per process: the gateway, then each service."""
    bin_dir = Path(sys.executable).parent
    lines = [
        "gateway: exec "
        + shlex.join(
            [
                nginx,
                "-p",
                str(config.parent),
                "-e",
                "stderr",
                "-c",
                str(config),
                "-g",
                "daemon off;",
            ]
        )
    ]
    for service in services:
        command = [
            "env",
            f"PORT={service_port(service, environ)}",
            "TRUSTED_PROXY_HOPS=1",
            str(bin_dir / "gunicorn"),
            "--config",
            GUNICORN_CONFIG,
            f"{service.name}.wsgi:app",
        ]
        lines.append(f"{service.name}: exec {shlex.join(command)}")
    return lines


def prepare(root: Path, environ: Mapping[str, str]) -> Path:
    """Check the machine, write the gateway config and the Procfile; return the Procfile."""
    services = load_services(root)
    nginx = find_nginx()
    check_port_free(gateway_port(environ), "gateway")
    for service in services:
        check_port_free(service_port(service, environ), service.name)
    config = write_local_config(root, root / "var" / "gateway", port=gateway_port(environ))
    procfile = root / "var" / "run" / "Procfile"
    procfile.parent.mkdir(parents=True, exist_ok=True)
    procfile.write_text("\n".join(procfile_lines(root, services, nginx, config, environ)) + "\n")
    return procfile


def banner(services: Sequence[Service], environ: Mapping[str, str]) -> str:
    base = f"http://localhost:{gateway_port(environ)}"
    lines = ["Flusk is starting; Ctrl-C stops everything.", f"  gateway  {base}/healthz"]
    lines += [f"  {service.name:8} {base}{service.prefix}" for service in services]
    first = services[0].prefix if services else "/foss"
    lines += [
        "Try:",
        f"  curl -s {base}{first} -H 'Content-Type: application/json' "
        """-d '{"name": "Ada Lovelace", "email": "ada@example.org"}'""",
        f"  curl -s {base}{first}",
    ]
    return "\n".join(lines) + "\n"


def main() -> int:
    try:
        root = find_root()
        procfile = prepare(root, os.environ)
        services = load_services(root)
    except (RunError, OSError, ValueError) as exc:
        sys.stderr.write(f"make run: {exc}\n")
        return 1
    sys.stdout.write(banner(services, os.environ))
    sys.stdout.flush()
    honcho = str(Path(sys.executable).parent / "honcho")
    arguments = [honcho, "--procfile", str(procfile), "--app-root", str(root), "start"]
    os.execv(honcho, arguments)  # noqa: S606 - honcho replaces this process, signals and all
