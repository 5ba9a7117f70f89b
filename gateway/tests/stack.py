"""Running the real thing on loopback: services under gunicorn, nginx in front of them.

Processes are started with the same commands their containers and `make run` use
(flusk_tools.commands) and stopped with the signals an orchestrator sends.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from flusk_tools.commands import migrate_command, serve_command
from flusk_tools.gateway import Upstream, local_settings, render
from flusk_tools.registry import find_root

ROOT = find_root(Path(__file__).parent)
STARTUP_SECONDS = 20


def beside_python(command: list[str]) -> list[str]:
    """``command`` with its program taken from this Python's environment (gunicorn, alembic)."""
    return [str(Path(sys.executable).parent / command[0]), *command[1:]]


def nginx_binary() -> str:
    return shutil.which("nginx") or "/usr/sbin/nginx"


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_until_serving(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    """Poll ``url`` until it answers; fail with the process's log if it dies or never does."""
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"{process.args} exited with {process.returncode}:\n{log.read_text()}"
            )
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.05)
    raise RuntimeError(f"{url} did not answer within {STARTUP_SECONDS}s:\n{log.read_text()}")


def stop_process(process: subprocess.Popen[bytes], sig: signal.Signals = signal.SIGTERM) -> int:
    """Send ``sig`` and wait for the process to end (killing it after 30 s)."""
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.returncode


def migrate(service: str, database_url: str) -> None:
    """The migration step of the service's container, run natively."""
    command = beside_python(migrate_command(str(ROOT / "services" / service / "alembic.ini")))
    env = {**os.environ, "DATABASE_URL": database_url}
    subprocess.run(command, env=env, check=True, capture_output=True)


@dataclass
class ServiceProcess:
    """One service under gunicorn, started with its container's command line."""

    name: str
    database_url: str
    log: Path
    port: int = field(default_factory=free_port)
    env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ServiceProcess:
        env = {
            **os.environ,
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            "DATABASE_URL": self.database_url,
            "TRUSTED_PROXY_HOPS": "1",
            "WEB_CONCURRENCY": "2",
            **self.env,
        }
        with self.log.open("ab") as output:
            self.process = subprocess.Popen(
                beside_python(serve_command(self.name)),
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        wait_until_serving(f"{self.url}/healthz", self.process, self.log)
        return self

    def stop(self, sig: signal.Signals = signal.SIGTERM) -> int:
        assert self.process is not None
        return stop_process(self.process, sig)


@dataclass
class GatewayProcess:
    """nginx rendered from gateway/nginx.conf.j2 (local target) in a folder of its own."""

    prefix: Path
    upstreams: list[Upstream]
    settings: dict[str, object] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    status_port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def status_url(self) -> str:
        """Where its stub_status answers (the internal port)."""
        return f"http://127.0.0.1:{self.status_port}"

    @property
    def log(self) -> Path:
        return self.prefix / "nginx.log"

    def start(self) -> GatewayProcess:
        (self.prefix / "tmp").mkdir(parents=True, exist_ok=True)
        settings = local_settings(
            self.prefix,
            port=self.port,
            **{"status_listen": f"127.0.0.1:{self.status_port}", **self.settings},
        )
        config = self.prefix / "nginx.conf"
        config.write_text(render(ROOT, self.upstreams, settings))
        command = [nginx_binary(), "-p", str(self.prefix), "-e", "stderr", "-c", str(config)]
        with self.log.open("ab") as output:
            self.process = subprocess.Popen(
                [*command, "-g", "daemon off;"], stdout=output, stderr=subprocess.STDOUT
            )
        wait_until_serving(f"{self.url}/healthz", self.process, self.log)
        return self

    def stop(self) -> int:
        assert self.process is not None
        return stop_process(self.process, signal.SIGQUIT)

    def access_log_lines(self) -> list[str]:
        return [line for line in self.log.read_text().splitlines() if line.startswith("{")]
