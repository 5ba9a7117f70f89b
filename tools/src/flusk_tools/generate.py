"""Files generated from the registry and checked in: ``tox.ini``, the compose file and its
Prometheus configuration.

``flusk-generate`` (``make generate``) writes them; ``flusk-generate --check`` (run by the
tools tests, so by ``make test``) fails when one has drifted from the registry or was
edited by hand, and when a service folder and the registry disagree.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import jinja2

from .gateway import COMPOSE_STATUS_PORT
from .registry import RegistryError, find_root, folder_problems, load_services

GENERATED = {
    Path("tox.ini"): "tox.ini.j2",
    Path("compose") / "docker-compose.yml": "docker-compose.yml.j2",
    Path("compose") / "prometheus.yml": "prometheus.yml.j2",
}
REGENERATE = "make generate"


def render_generated(root: Path) -> dict[Path, str]:
    """What every generated file should hold, from ``root``'s registry."""
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("flusk_tools", "templates"),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,  # noqa: S701 - ini and YAML, not HTML
    )
    services = load_services(root)
    return {
        path: environment.get_template(template).render(
            services=services, gateway_status_port=COMPOSE_STATUS_PORT
        )
        for path, template in GENERATED.items()
    }


def write_generated(root: Path) -> list[Path]:
    """Write the generated files that differ from what the registry gives; return them."""
    written = []
    for path, content in render_generated(root).items():
        target = root / path
        if not target.is_file() or target.read_text(encoding="utf-8") != content:
            target.write_text(content, encoding="utf-8")
            written.append(path)
    return written


def drift(root: Path) -> list[str]:
    """Everything that disagrees with the registry, each with the command that mends it."""
    problems = folder_problems(root, load_services(root))
    for path, content in render_generated(root).items():
        target = root / path
        if not target.is_file() or target.read_text(encoding="utf-8") != content:
            problems.append(
                f"{path} differs from what services.toml gives (edited by hand, or the "
                f"registry changed): run `{REGENERATE}`"
            )
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write the files generated from services.toml.")
    parser.add_argument("--check", action="store_true", help="only report drift; exit 1 if any")
    args = parser.parse_args(argv)
    try:
        root = find_root()
        if args.check:
            problems = drift(root)
            for problem in problems:
                sys.stderr.write(f"{problem}\n")
            return 1 if problems else 0
        for path in write_generated(root):
            sys.stdout.write(f"wrote {path}\n")
    except (RegistryError, OSError) as exc:
        sys.stderr.write(f"flusk-generate: {exc}\n")
        return 1
    return 0
