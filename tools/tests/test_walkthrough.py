"""The README's "Adding a service", command for command, on a copy of the repository.

It runs `make new-service name=orders`, `make test service=orders` and `make test`, with
the very name the README uses, in a copy (so the user's own `orders`, if any, is never
touched), from a fresh virtualenv. It takes as long as `make test` itself, so it runs in
`make test-walkthrough` (and CI), not in `make test`.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
from test_new_service import clean_environment, copy_repository

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_sequence() -> list[str]:
    """The commands of the README's "Adding a service" block, as the README writes them."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Adding a service") :]
    start = section.index("```sh") + len("```sh")
    block = section[start : section.index("```", start)]
    return [line.split("#", 1)[0].strip() for line in block.strip().splitlines()]


def test_readme_names_the_sequence() -> None:
    assert readme_sequence() == [
        "make new-service name=orders",
        "make test service=orders",
        "make test",
        "make run",
    ]


@pytest.mark.walkthrough
def test_run_the_readme_sequence_on_a_copy(tmp_path: Path) -> None:
    repo = copy_repository(tmp_path / "repo")
    environment = clean_environment() | {"PYTHONDONTWRITEBYTECODE": "1"}
    for command in readme_sequence():
        if command == "make run":
            continue  # serving forever; the tools and gateway suites run `make run` itself
        result = subprocess.run(
            command.split(),
            cwd=repo,
            env=environment,
            capture_output=True,
            text=True,
            timeout=3000,
            check=False,
        )
        output = result.stdout + result.stderr
        assert result.returncode == 0, f"{command} failed:\n{output[-6000:]}"
        if command == "make test":
            assert re.search(r"orders: OK", output), output[-3000:]
    assert (repo / "services" / "orders" / "src" / "orders" / "views.py").is_file()
    assert os.path.isdir(repo / ".tox" / "orders")
