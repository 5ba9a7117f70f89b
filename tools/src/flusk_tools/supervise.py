"""The processes of ``make run`` kept under one roof: started, relayed, restarted, stopped.

Each process runs in a session (and process group) of its own, so a terminal's Ctrl-C or
hang-up reaches flusk-run alone, which then stops every group in order: the gateway first
with its graceful signal (requests in flight finish), then the services, each given its
grace period before SIGKILL. On Linux each process also gets a parent-death signal, so a
flusk-run killed outright (SIGKILL) leaves no orphan behind. A process that dies is
reported and the others go on; `restart` brings it back.

Every line a process prints is copied to the terminal, prefixed with its name, and to
``<log_dir>/<name>.log`` unprefixed. A terminal or pipe that goes away (``make run | head``)
is a request to stop, as a signal is.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import select
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
KILL_MARGIN_SECONDS = 5.0
_EXIT_EVENTS = select.POLLERR | select.POLLHUP


@dataclass(frozen=True)
class Program:
    """A process of the stack: how to start it, the signal that stops it gracefully, how long."""

    name: str
    command: list[str]
    env: dict[str, str]
    stop_signal: signal.Signals = signal.SIGTERM
    grace_seconds: float = 20.0


@dataclass
class _Child:
    program: Program
    process: subprocess.Popen[bytes]
    partial: bytes = b""
    restart: bool = False


def describe_exit(returncode: int) -> str:
    """``exit status 3`` or ``killed by SIGKILL``: how a process ended, in words."""
    if returncode < 0:
        try:
            return f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exit status {returncode}"


def _parent_death_signal(sig: signal.Signals) -> Callable[[], None] | None:
    """A preexec function that has the child receive ``sig`` when flusk-run dies (Linux)."""
    if not sys.platform.startswith("linux"):
        return None
    libc = ctypes.CDLL(None, use_errno=True)
    parent = os.getpid()

    def setup() -> None:
        libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0)
        if os.getppid() != parent:  # flusk-run died before prctl took effect
            os.kill(os.getpid(), sig)

    return setup


class Output:
    """The terminal (prefixed lines) and one log file per process (its lines as printed)."""

    def __init__(self, log_dir: Path, names: Iterable[str], stream: IO[bytes] | None = None):
        log_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir = log_dir
        self.fd = (stream or sys.stdout.buffer).fileno()
        self.closed = False
        self.width = max((len(name) for name in names), default=0)
        self.logs = {name: (log_dir / f"{name}.log").open("wb", buffering=0) for name in names}

    def watches_for_close(self) -> bool:
        """Whether the terminal side is a pipe or socket, whose reader can go away."""
        try:
            mode = os.fstat(self.fd).st_mode
        except OSError:
            return False
        return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)

    def write(self, data: bytes) -> None:
        if self.closed:
            return
        try:
            while data:
                data = data[os.write(self.fd, data) :]
        except OSError:  # EPIPE: the reader is gone (`make run | head`)
            self.closed = True

    def lines(self, name: str, lines: Iterable[bytes]) -> None:
        """Lines (with their newline) of process ``name``: to its log and the terminal."""
        prefix = f"{name:<{self.width}} | ".encode()
        lines = list(lines)
        log = self.logs.get(name)
        if log is not None:
            log.write(b"".join(lines))
        self.write(b"".join(prefix + line for line in lines))

    def say(self, message: str) -> None:
        """flusk-run's own words, on the terminal only: a log holds what its process printed."""
        self.write(f"flusk-run: {message}\n".encode())

    def close(self) -> None:
        for log in self.logs.values():
            log.close()


@dataclass
class Supervisor:
    """Starts programs, relays their output, notices deaths, and stops them all in order."""

    output: Output
    children: dict[str, _Child] = field(default_factory=dict)
    groups: set[int] = field(default_factory=set)
    stop_reason: str | None = None
    exited: list[tuple[str, int]] = field(default_factory=list)
    hurry: bool = False

    def __post_init__(self) -> None:
        self.poller = select.poll()
        self.by_fd: dict[int, _Child] = {}
        if self.output.watches_for_close():
            self.poller.register(self.output.fd, 0)  # only POLLERR: the reader went away

    def running(self, name: str) -> bool:
        child = self.children.get(name)
        return child is not None and child.process.poll() is None

    def pid(self, name: str) -> int | None:
        return self.children[name].process.pid if self.running(name) else None

    def start(self, program: Program) -> None:
        """Start ``program`` in a session of its own (ending what is left of a previous one)."""
        previous = self.children.get(program.name)
        if previous is not None:
            self._kill_group(previous.process.pid)
        process = subprocess.Popen(  # noqa: S603 - our own commands, no shell
            program.command,
            env=program.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_parent_death_signal(program.stop_signal),  # noqa: PLW1509
        )
        assert process.stdout is not None
        os.set_blocking(process.stdout.fileno(), False)
        child = _Child(program, process)
        self.children[program.name] = child
        self.groups.add(process.pid)
        self.by_fd[process.stdout.fileno()] = child
        self.poller.register(process.stdout.fileno(), select.POLLIN)
        self.output.say(f"{program.name} started (pid={process.pid})")

    def restart(self, program: Program) -> None:
        """Stop it gracefully if it runs, then start it again with ``program``.

        Saves that come while it stops just leave the restart pending: the process that
        starts reads the files as they are then.
        """
        child = self.children.get(program.name)
        if child is not None and child.process.poll() is None:
            self.output.say(f"restarting {program.name}")
            child.restart = True
            child.program = program
            self._signal(child.process.pid, program.stop_signal)
        else:
            self.start(program)

    def request_stop(self, reason: str) -> None:
        if self.stop_reason is None:
            self.stop_reason = reason

    def step(self, timeout: float) -> None:
        """Wait up to ``timeout`` seconds for output, relay it, and handle processes that ended."""
        for fd, events in self.poller.poll(timeout * 1000):
            if fd == self.output.fd and fd not in self.by_fd:
                if events & _EXIT_EVENTS:
                    self.output.closed = True
                    self.poller.unregister(fd)
                continue
            if fd in self.by_fd:
                self._relay(self.by_fd[fd])
        if self.output.closed:
            self.request_stop("the output was closed")
        for name, child in list(self.children.items()):
            returncode = child.process.poll()
            if returncode is None:
                continue
            self._relay(child, final=True)
            del self.children[name]
            self._kill_group(child.process.pid)  # a dead gunicorn master's workers go too
            if child.restart:
                self.start(child.program)
            elif self.stop_reason is None:
                self.exited.append((name, returncode))

    def _relay(self, child: _Child, *, final: bool = False) -> None:
        """Copy what ``child`` printed; ``final``: up to the end, then close its pipe."""
        stream = child.process.stdout
        if stream is None or stream.closed:
            return
        fd = stream.fileno()
        chunks = []
        while True:
            try:
                chunk = os.read(fd, 65536)
            except BlockingIOError:
                break
            if not chunk:
                final = True
                break
            chunks.append(chunk)
        data = child.partial + b"".join(chunks)
        lines = data.splitlines(keepends=True)
        child.partial = lines.pop() if lines and not lines[-1].endswith(b"\n") else b""
        if final:
            if child.partial:
                lines.append(child.partial + b"\n")
                child.partial = b""
            self.poller.unregister(fd)
            del self.by_fd[fd]
            stream.close()
        if lines:
            self.output.lines(child.program.name, lines)

    def _signal(self, pid: int, sig: signal.Signals) -> None:
        """Signal the process itself: its children are its business (gunicorn's, nginx's)."""
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)

    def _kill_group(self, group: int) -> None:
        """SIGKILL what is left of a process group this run started (its leader's pid)."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(group, signal.SIGKILL)
        self.groups.discard(group)

    def stop_all(self, order: Iterable[list[str]]) -> None:
        """Stop the processes, one batch of names after the other, each batch gracefully first.

        A batch gets its programs' grace period (plus a margin) before SIGKILL; a second
        Ctrl-C, SIGTERM or SIGHUP meanwhile (``hurry``) kills at once. Whatever is left of
        any process group this run started is killed at the end.
        """
        for batch in order:
            started = [name for name in batch if self.running(name)]
            for name in started:
                child = self.children[name]
                child.restart = False
                self._signal(child.process.pid, child.program.stop_signal)
            if started:
                grace = max(self.children[name].program.grace_seconds for name in started)
                deadline = time.monotonic() + grace + KILL_MARGIN_SECONDS
                while any(self.running(name) for name in started):
                    if time.monotonic() > deadline or self.hurry:
                        for name in started:
                            if self.running(name):
                                self.output.say(f"{name} is slow to stop: killing it")
                                self._kill_group(self.children[name].process.pid)
                    self.step(0.1)
        self.step(0)
        for group in list(self.groups):
            self._kill_group(group)
        for child in list(self.children.values()):
            child.process.wait()
            self._relay(child, final=True)
        self.children.clear()
