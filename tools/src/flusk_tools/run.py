"""``make run``: every service under gunicorn and the nginx gateway, in the foreground.

Checks what would otherwise fail obscurely (nginx missing, a port taken, a database that
does not exist), applies every service's migrations, renders the gateway config under
``var/``, starts every process under `supervise.Supervisor`, and prints the URLs once
every service answers ``/readyz``. A saved change to a service's code, schemas or
migrations restarts that service's gunicorn (migrating first when its migrations changed);
a change to flusk_common restarts every service. The rest of the stack stays up. A service
that fails to start or dies is reported and the others keep serving; the next change to it
starts it again. Ctrl-C, SIGTERM,
SIGHUP or a closed output stop everything.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from urllib.parse import unquote, urlsplit

from .commands import migrate_command, serve_command
from .gateway import (
    DOCS_ASSETS,
    LOCAL_PORT,
    LOCAL_STATUS_PORT,
    GatewayConfigError,
    write_local_config,
)
from .registry import RegistryError, Service, find_root, load_services
from .supervise import Output, Program, Supervisor, describe_exit
from .watch import Changes, Watcher

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


def gateway_status_port(environ: Mapping[str, str]) -> int:
    return _port(environ, "GATEWAY_STATUS_PORT", LOCAL_STATUS_PORT)


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


def docs_installed(root: Path) -> bool:
    """Whether Swagger UI's files, which the gateway serves at /docs, are installed."""
    return (root / DOCS_ASSETS / "swagger-ui-bundle.js").is_file()


def service_environment(
    root: Path,
    service: Service,
    services: Sequence[Service],
    var_dir: Path,
    environ: Mapping[str, str],
) -> dict[str, str]:
    """What a service process gets on top of the environment of `make run`.

    A service calls the others directly on their loopback ports, as it calls them by
    host name in compose: internal calls do not go through the gateway.
    """
    name = service.name.upper()
    # The code of this checkout, wherever the packages were installed from.
    sources = [root / "services" / service.name / "src", root / "libs" / "flusk_common" / "src"]
    variables = {
        "PORT": str(service_port(service, environ)),
        "HOST": "127.0.0.1",
        "TRUSTED_PROXY_HOPS": "1",
        "PYTHONPATH": os.pathsep.join(
            [*(str(path) for path in sources), *filter(None, [environ.get("PYTHONPATH")])]
        ),
        "PYTHONUNBUFFERED": "1",
    }
    if not environ.get(f"{name}_DATABASE_URL") and not environ.get("DATABASE_URL"):
        variables[f"{name}_DATABASE_URL"] = f"sqlite:///{var_dir / service.name}.db"
    variables.update(traces_environment(var_dir, environ))
    for callee in services:
        setting = f"{callee.name.upper()}_URL"
        if callee.name in service.calls and not (
            environ.get(f"{name}_{setting}") or environ.get(setting)
        ):
            address = f"http://127.0.0.1:{service_port(callee, environ)}"
            variables[f"{name}_{setting}"] = address
    return variables


def writes_trace_files(environ: Mapping[str, str]) -> bool:
    """Whether the services export spans to JSON-lines files (``make run traces=1``)."""
    exporters = environ.get("OTEL_TRACES_EXPORTER", "").lower().split(",")
    return "jsonl" in (name.strip() for name in exporters)


def traces_environment(var_dir: Path, environ: Mapping[str, str]) -> dict[str, str]:
    """With JSON-lines traces: the files under ``var/traces``, written within half a second."""
    if not writes_trace_files(environ):
        return {}
    defaults = {"FLUSK_TRACES_DIR": str(var_dir / "traces"), "OTEL_BSP_SCHEDULE_DELAY": "500"}
    return {name: value for name, value in defaults.items() if not environ.get(name)}


def database_url(service: Service, var_dir: Path, environ: Mapping[str, str]) -> str:
    """The database URL ``service`` runs on, as its settings will read it."""
    name = service.name.upper()
    return (
        environ.get(f"{name}_DATABASE_URL")
        or environ.get("DATABASE_URL")
        or f"sqlite:///{var_dir / service.name}.db"
    )


def without_password(url: str) -> str:
    """``url`` fit to print: its password, if any, replaced by ``***``."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user_info, host = parts.netloc.rsplit("@", 1)
    return parts._replace(netloc=f"{user_info.split(':', 1)[0]}:***@{host}").geturl()


_MISSING_DATABASE = re.compile(r'database "([^"]+)" does not exist')


def missing_database_advice(service: Service, url: str, error: str) -> str | None:
    """One line saying how to create the database, if ``error`` says it does not exist."""
    found = _MISSING_DATABASE.search(error)
    if found is None:
        return None
    parts = urlsplit(url)
    options = [
        *(["-h", parts.hostname] if parts.hostname else []),
        *(["-p", str(parts.port)] if parts.port else []),
        *(["-U", unquote(parts.username)] if parts.username else []),
    ]
    database = found.group(1)
    create = shlex.join(["createdb", *options, database])
    statement = f'CREATE DATABASE "{database}"'
    psql = shlex.join(["psql", *options, "-d", "postgres", "-c", statement])
    return (
        f"{service.name}'s database {database!r} does not exist on "
        f"{without_password(url)}; create it with: {create}  (or: {psql})"
    )


class MissingDatabaseError(RunError):
    """A service's PostgreSQL database does not exist; the message says how to create it."""


@dataclass
class Stack:
    """What `make run` runs: the repository, its services and where their files go."""

    root: Path
    services: list[Service]
    var_dir: Path
    nginx: str
    config: Path
    environ: Mapping[str, str]

    def migrate(self, service: Service, output: Output) -> bool:
        """Apply ``service``'s migrations; on failure print why and return False."""
        bin_dir = Path(sys.executable).parent
        command = migrate_command(str(self.root / "services" / service.name / "alembic.ini"))
        command[0] = str(bin_dir / command[0])
        env = {**self.environ, **self.service_environment(service)}
        result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603
        if result.returncode == 0:
            return True
        url = database_url(service, self.var_dir, self.environ)
        advice = missing_database_advice(service, url, result.stderr)
        if advice is not None:
            raise MissingDatabaseError(advice)
        output.lines(service.name, (f"{line}\n".encode() for line in result.stderr.splitlines()))
        output.say(f"migrating {service.name} failed (above); a saved change tries again")
        return False

    def service_environment(self, service: Service) -> dict[str, str]:
        return service_environment(self.root, service, self.services, self.var_dir, self.environ)

    def gateway(self) -> Program:
        command = [self.nginx, "-p", str(self.config.parent), "-e", "stderr", "-c"]
        return Program(
            "gateway",
            [*command, str(self.config), "-g", "daemon off;"],
            dict(self.environ),
            stop_signal=signal.SIGQUIT,  # graceful: requests in flight finish
            grace_seconds=graceful_timeout(self.environ),
        )

    def program(self, service: Service) -> Program:
        command = serve_command(service.name)
        command[0] = str(Path(sys.executable).parent / command[0])
        return Program(
            service.name,
            command,
            {**self.environ, **self.service_environment(service)},
            stop_signal=signal.SIGTERM,  # gunicorn's graceful stop
            grace_seconds=graceful_timeout(self.environ),
        )


def graceful_timeout(environ: Mapping[str, str]) -> float:
    """gunicorn's graceful timeout, as flusk_common's gunicorn settings read it."""
    raw = environ.get("GUNICORN_GRACEFUL_TIMEOUT", "20")
    if not raw.isdigit():
        raise RunError(f"GUNICORN_GRACEFUL_TIMEOUT={raw!r} is not a number of seconds")
    return float(raw)


def prepare(root: Path, environ: Mapping[str, str]) -> Stack:
    """Check the machine and write the gateway config."""
    services = load_services(root)
    var_dir = Path(environ.get("FLUSK_VAR_DIR") or root / "var").resolve()
    nginx = find_nginx(environ)
    graceful_timeout(environ)
    check_port_free(gateway_port(environ), "GATEWAY_PORT")
    check_port_free(gateway_status_port(environ), "GATEWAY_STATUS_PORT")
    for service in services:
        check_port_free(service_port(service, environ), f"{service.name.upper()}_PORT")
    ports = {service.name: service_port(service, environ) for service in services}
    config = write_local_config(
        root,
        var_dir / "gateway",
        port=gateway_port(environ),
        ports=ports,
        status_port=gateway_status_port(environ),
    )
    return Stack(root, services, var_dir, nginx, config, environ)


def opening_banner(stack: Stack) -> str:
    log_dir = stack.var_dir / "log"
    lines = [
        "Flusk is starting; Ctrl-C stops everything. A saved change restarts its service.",
        f"  logs     {log_dir}/<service>.log (make logs service=<service>)",
    ]
    if writes_trace_files(stack.environ):
        traces = stack.environ.get("FLUSK_TRACES_DIR") or stack.var_dir / "traces"
        lines.append(f"  traces   {traces}/<service>.jsonl, one JSON line per span")
    for service in stack.services:
        url = database_url(service, stack.var_dir, stack.environ)
        lines.append(f"  {service.name:8} database {without_password(url)}")
    if not docs_installed(stack.root):
        lines.append(f"  docs     Swagger UI is not installed in {DOCS_ASSETS}: run make venv")
    return "\n".join(lines) + "\n"


def banner(services: Sequence[Service], environ: Mapping[str, str], down: set[str]) -> str:
    """The URLs, printed once every running service answers ``/readyz``."""
    base = f"http://localhost:{gateway_port(environ)}"
    lines = ["Flusk is serving:", f"  gateway  {base}/healthz", f"  docs     {base}/docs"]
    lines += [
        f"  {service.name:8} {base}{service.prefix}"
        + ("  (not running: see its output above)" if service.name in down else "")
        for service in services
    ]
    if services:
        first = f"{base}{services[0].prefix}"
        lines += [
            "Try:",
            f"  curl -s {first} -H 'Content-Type: application/json' "
            """-d '{"name": "Ada Lovelace", "email": "ada@example.org"}'""",
            f"  curl -s {first}",
        ]
    return "\n".join(lines) + "\n"


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=0.5) as response:  # noqa: S310 - our own http URL
            return bool(response.status == 200)
    except (OSError, ValueError):
        return False


class LocalRun:
    """The stack in the foreground: started, watched, restarted on change, stopped."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        names = ["gateway", *(service.name for service in stack.services)]
        self.output = Output(stack.var_dir / "log", names)
        self.supervisor = Supervisor(self.output)
        self.unmigrated: set[str] = set()
        self.watcher = Watcher(stack.root, stack.services)

    def on_signal(self, number: int, _frame: FrameType | None) -> None:
        if self.supervisor.stop_reason is not None:
            self.supervisor.hurry = True
        self.supervisor.request_stop(signal.Signals(number).name)

    def start(self) -> None:
        for service in self.stack.services:
            if not self.stack.migrate(service, self.output):
                self.unmigrated.add(service.name)
        self.output.write(opening_banner(self.stack).encode())
        self.supervisor.start(self.stack.gateway())
        for service in self.stack.services:
            if service.name not in self.unmigrated:
                self.supervisor.start(self.stack.program(service))

    def ready(self) -> set[str] | None:
        """The services not running, once every other one and the gateway answer; else None."""
        down = {s.name for s in self.stack.services if not self.supervisor.running(s.name)}
        environ = self.stack.environ
        urls = [f"http://127.0.0.1:{gateway_port(environ)}/healthz"]
        urls += [
            f"http://127.0.0.1:{service_port(service, environ)}/readyz"
            for service in self.stack.services
            if service.name not in down
        ]
        return down if all(map(answers, urls)) else None

    def apply(self, changes: Changes) -> None:
        """Restart what the saved changes touch, migrating first where migrations changed."""
        for service in self.stack.services:
            name = service.name
            if not (changes.shared or name in changes.code or name in changes.migrations):
                continue
            if name in changes.migrations or name in self.unmigrated:
                self.output.say(f"migrating {name}")
                try:
                    migrated = self.stack.migrate(service, self.output)
                except MissingDatabaseError as exc:
                    self.output.say(str(exc))
                    migrated = False
                if not migrated:
                    self.unmigrated.add(name)
                    continue
                self.unmigrated.discard(name)
            self.supervisor.restart(self.stack.program(service))

    def report_exits(self) -> int | None:
        """Say which processes ended by themselves; an exit status if the run must end."""
        for name, returncode in self.supervisor.exited:
            how = describe_exit(returncode)
            if name == "gateway":
                self.output.say(f"the gateway stopped ({how}): stopping everything")
                self.supervisor.request_stop("the gateway stopped")
                return 1
            self.output.say(
                f"{name} stopped ({how}); the others keep serving. "
                f"Save a change to {name} to start it again."
            )
        self.supervisor.exited.clear()
        return None

    def serve(self) -> int:
        status = 0
        announced = False
        next_probe = 0.0
        self.watcher.start()
        try:
            while self.supervisor.stop_reason is None:
                self.supervisor.step(0.1)
                if (failed := self.report_exits()) is not None:
                    status = failed
                    break
                if changes := self.watcher.take():
                    self.apply(changes)
                if not announced and time.monotonic() >= next_probe:
                    next_probe = time.monotonic() + 0.25
                    down = self.ready()
                    if down is not None:
                        urls = banner(self.stack.services, self.stack.environ, down)
                        self.output.write(urls.encode())
                        announced = True
        finally:
            self.output.say(f"stopping ({self.supervisor.stop_reason or 'error'})")
            self.watcher.stop()
            names = [service.name for service in self.stack.services]
            self.supervisor.stop_all([["gateway"], names])
            self.output.say("stopped")
            self.output.close()
        return status


def main() -> int:
    try:
        root = find_root()
        stack = prepare(root, os.environ)
        run = LocalRun(stack)
        for number in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(number, run.on_signal)
        run.start()
    except (RunError, RegistryError, GatewayConfigError, OSError) as exc:
        sys.stderr.write(f"make run: {exc}\n")
        return 1
    return run.serve()
