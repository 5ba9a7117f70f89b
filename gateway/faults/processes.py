"""Signals to one process tree: a server's master and the workers it forked."""

from __future__ import annotations

import contextlib
import os
import signal
from pathlib import Path


def children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (read from /proc: Linux only)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            # "pid (comm) state ppid ...": comm may hold spaces, so split after its ')'.
            fields = stat.read_text().rpartition(")")[2].split()
            if int(fields[1]) == pid:
                found.append(int(stat.parent.name))
    return sorted(found)


def signal_tree(pid: int, sig: signal.Signals) -> None:
    """Send ``sig`` to ``pid`` and its children: the parent first, but last to continue.

    The children are listed before the parent is signalled (a killed parent's children
    are handed to init) and again after (a stopped parent forks no new ones).
    """
    if sig == signal.SIGCONT:
        for child in children(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, sig)
        os.kill(pid, sig)
        return
    before = children(pid)
    os.kill(pid, sig)
    for child in sorted({*before, *children(pid)}):
        with contextlib.suppress(ProcessLookupError):
            os.kill(child, sig)
