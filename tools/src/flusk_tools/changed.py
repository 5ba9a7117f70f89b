"""``make test-changed``: the tox environments a change needs, and no more.

A change inside ``services/<name>/`` selects that service's environment and the gateway
and tools suites (which run the services for real); a change to anything shared (flusk_common, the
template and tooling, the gateway, compose, the registry, pins, CI) selects everything;
a change under ``bench/`` selects the harness's test (``bench``); documentation alone
selects only ``lint``, which always runs.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

from .registry import RegistryError, Service, find_root, load_services

# Paths whose change can affect no test: only lint runs for them.
_DOCUMENTATION_SUFFIXES = (".md", ".rst", ".txt")


def all_environments(services: Sequence[Service]) -> list[str]:
    """Every tox environment, in tox.ini's order."""
    return ["lint", "tools", "common", *(service.name for service in services), "gateway", "bench"]


def environments_for(paths: Iterable[str], services: Sequence[Service]) -> list[str]:
    """The environments that test ``paths`` (repository-relative, '/'-separated)."""
    names = {service.name for service in services}
    selected = {"lint"}
    for path in paths:
        parts = path.split("/")
        if parts[0] == "services" and len(parts) > 2 and parts[1] in names:
            # The gateway and tools suites run the services for real, too.
            selected.update({parts[1], "gateway", "tools"})
        elif parts[0] == "bench":
            selected.add("bench")  # the harness's own test
        elif (
            "/" not in path and path.endswith(_DOCUMENTATION_SUFFIXES) and path != "constraints.txt"
        ):
            continue
        else:
            return all_environments(services)
    return [name for name in all_environments(services) if name in selected]


def changed_paths(root: Path, base: str) -> list[str]:
    """Files changed since ``base`` (committed, staged, unstaged, or new and not ignored)."""

    def git(*arguments: str) -> list[str]:
        result = subprocess.run(  # noqa: S603
            ["git", *arguments],  # noqa: S607 - git from the PATH, as a developer runs it
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        )
        return [line for line in result.stdout.splitlines() if line]

    merge_base = git("merge-base", base, "HEAD")[0]
    return sorted(
        {
            # --no-renames: a moved file counts where it went and where it came from.
            *git("diff", "--name-only", "--no-renames", merge_base),
            *git("ls-files", "--others", "--exclude-standard"),
        }
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Print the tox environments a change needs.")
    parser.add_argument("--base", default="main", help="what the change is compared with")
    args = parser.parse_args(argv)
    try:
        root = find_root()
        environments = environments_for(changed_paths(root, args.base), load_services(root))
    except (RegistryError, subprocess.CalledProcessError, OSError) as exc:
        detail = exc.stderr.strip() if isinstance(exc, subprocess.CalledProcessError) else exc
        sys.stderr.write(f"make test-changed: {detail}\n")
        return 1
    sys.stdout.write(",".join(environments) + "\n")
    return 0
