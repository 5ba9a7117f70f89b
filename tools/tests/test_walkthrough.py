"""The README's "Adding a service", command for command, and `make test-changed`, on copies.

It runs `make new-service name=orders`, `make test service=orders` and `make test`, with
the very name the README uses, in a copy (so the user's own `orders`, if any, is never
touched), from a fresh virtualenv. It takes as long as `make test` itself, so it runs in
`make test-walkthrough`, not in `make test`; so does `make test-changed` on a branch
of a copy made a git repository, which builds that copy's virtualenv and its `lint`
environment.
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


def run_as_written(command: str, repo: Path) -> tuple[str, str]:
    """``command`` in ``repo`` as a developer types it; its stdout and all its output."""
    result = subprocess.run(
        command.split(),
        cwd=repo,
        env=clean_environment() | {"PYTHONDONTWRITEBYTECODE": "1"},
        capture_output=True,
        text=True,
        timeout=3000,
        check=False,
    )
    output = result.stdout + result.stderr
    # pip's warnings fill stderr, and the failing suite may not be the last: name every failed
    # test and error first, then the end of stdout.
    failures = [
        line
        for line in result.stdout.splitlines()
        if line.startswith(("FAILED ", "ERROR ")) or ": FAIL code" in line
    ]
    report = "\n".join([*failures, result.stdout[-6000:], "--- stderr ---", result.stderr[-1500:]])
    assert result.returncode == 0, f"{command} failed:\n{report}"
    return result.stdout, output


@pytest.mark.walkthrough
def test_run_the_readme_sequence_on_a_copy(tmp_path: Path) -> None:
    repo = copy_repository(tmp_path / "repo")
    for command in readme_sequence():
        if command == "make run":
            continue  # serving forever; the tools and gateway suites run `make run` itself
        _, output = run_as_written(command, repo)
        if command == "make test":
            assert re.search(r"orders: OK", output), output[-3000:]
    assert (repo / "services" / "orders" / "src" / "orders" / "views.py").is_file()
    assert os.path.isdir(repo / ".tox" / "orders")


@pytest.mark.walkthrough
def test_run_test_changed_on_a_branch_of_a_copy(tmp_path: Path) -> None:
    """`make test-changed` as the README shows it: on a branch off main, a README change."""
    repo = copy_repository(tmp_path / "repo")
    git = ["git", "-c", "user.name=Flusk", "-c", "user.email=flusk@example.org"]
    for command in (
        ["init", "--quiet", "--initial-branch=main"],
        ["add", "--all"],
        ["commit", "--quiet", "--message=main"],
        ["switch", "--quiet", "--create", "change"],
    ):
        subprocess.run([*git, *command], cwd=repo, check=True, capture_output=True)
    with (repo / "README.md").open("a", encoding="utf-8") as readme:
        readme.write("\nA line of documentation.\n")

    shown, output = run_as_written("make test-changed", repo)

    assert "tox environments: lint\n" in shown, output[-3000:]
    assert re.search(r"lint: OK", output), output[-3000:]
    assert not (repo / ".tox" / "tools").exists()
