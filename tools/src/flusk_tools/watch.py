"""Saved files, sorted by the service they change: what `make run` reloads (with watchfiles)."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import watchfiles

from .registry import Service

SOURCE_SUFFIXES = (".py", ".json", ".ini", ".mako", ".toml")
SHARED_SOURCE = Path("libs", "flusk_common", "src")
DEBOUNCE_MS = 200


@dataclass
class Changes:
    """Services whose code changed, those whose migrations changed, and the shared package."""

    code: set[str] = field(default_factory=set)
    migrations: set[str] = field(default_factory=set)
    shared: bool = False

    def __bool__(self) -> bool:
        return bool(self.code or self.migrations or self.shared)

    def update(self, other: Changes) -> None:
        self.code |= other.code
        self.migrations |= other.migrations
        self.shared = self.shared or other.shared


def classify(root: Path, services: Sequence[Service], paths: Iterable[str | Path]) -> Changes:
    """What the saved ``paths`` change; tests, docs and editors' scratch files change nothing."""
    changes = Changes()
    names = {service.name for service in services}
    for path in map(Path, paths):
        if path.suffix not in SOURCE_SUFFIXES:
            continue
        try:
            relative = path.resolve().relative_to(root.resolve())
        except ValueError:
            continue
        parts = relative.parts
        if relative.is_relative_to(SHARED_SOURCE):
            changes.shared = True
        elif len(parts) >= 3 and parts[0] == "services" and parts[1] in names:
            if parts[2] in {"migrations", "alembic.ini"}:
                changes.migrations.add(parts[1])
            elif parts[2] == "src":
                changes.code.add(parts[1])
    return changes


def watched_paths(root: Path, services: Sequence[Service]) -> list[Path]:
    paths = [root / "services" / service.name for service in services]
    return [path for path in [*paths, root / SHARED_SOURCE] if path.is_dir()]


class Watcher:
    """A thread that collects the changes saved under the services' folders."""

    def __init__(self, root: Path, services: Sequence[Service]) -> None:
        self.root = root
        self.services = services
        self.stop_event = threading.Event()
        self.found: queue.SimpleQueue[Changes] = queue.SimpleQueue()
        self.thread = threading.Thread(target=self._watch, name="flusk-watch", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stop_event.set()
        self.thread.join(timeout=2)

    def take(self) -> Changes:
        """Everything saved since the last call (empty if nothing was)."""
        changes = Changes()
        while True:
            try:
                changes.update(self.found.get_nowait())
            except queue.Empty:
                return changes

    def _watch(self) -> None:
        paths = watched_paths(self.root, self.services)
        for saved in watchfiles.watch(
            *paths, debounce=DEBOUNCE_MS, stop_event=self.stop_event, raise_interrupt=False
        ):
            changes = classify(self.root, self.services, (path for _, path in saved))
            if changes:
                self.found.put(changes)
