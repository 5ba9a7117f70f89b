"""make test-changed: which tox environments a change selects."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from flusk_tools.changed import all_environments, changed_paths, environments_for
from flusk_tools.registry import Service

SERVICES = [Service("foss", 8001), Service("licenses", 8002)]
EVERYTHING = ["lint", "tools", "common", "foss", "licenses", "gateway", "bench"]


@pytest.mark.parametrize(
    ("paths", "expected"),
    [
        ([], ["lint"]),
        (["README.md"], ["lint"]),
        (["bench/stack.py", "bench/README.txt"], ["lint", "bench"]),
        (["services/foss/src/foss/views.py"], ["lint", "tools", "foss", "gateway"]),
        (
            ["services/foss/tests/test_api.py", "services/licenses/Dockerfile"],
            ["lint", "tools", "foss", "licenses", "gateway"],
        ),
        (["libs/flusk_common/src/flusk_common/_app.py"], EVERYTHING),
        (["tools/src/flusk_tools/service_template/pyproject.toml.tmpl"], EVERYTHING),
        (["gateway/nginx.conf.j2"], EVERYTHING),
        (["services.toml"], EVERYTHING),
        (["constraints.txt"], EVERYTHING),
        (["tox.ini"], EVERYTHING),
        (["Makefile"], EVERYTHING),
        (["services/orders/x.py"], EVERYTHING),  # not a registered service
        (["README.md", "compose/docker-compose.yml"], EVERYTHING),
    ],
)
def test_select_environments(paths: list[str], expected: list[str]) -> None:
    assert environments_for(paths, SERVICES) == expected


def test_list_all_environments_in_tox_order() -> None:
    assert all_environments(SERVICES) == EVERYTHING


def git(root: Path, *arguments: str) -> None:
    subprocess.run(["git", *arguments], cwd=root, check=True, capture_output=True)


def init_repository(root: Path) -> None:
    git(root, "init", "--quiet", "--initial-branch=main")
    git(root, "config", "user.email", "dev@example.org")
    git(root, "config", "user.name", "Dev")


def test_find_changed_paths(tmp_path: Path) -> None:
    init_repository(tmp_path)
    (tmp_path / "README.md").write_text("one\n")
    (tmp_path / "kept.py").write_text("x = 1\n")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "--quiet", "-m", "first")
    git(tmp_path, "checkout", "--quiet", "-b", "feature")
    (tmp_path / "README.md").write_text("two\n")
    git(tmp_path, "commit", "--quiet", "-am", "second")
    (tmp_path / "kept.py").write_text("x = 2\n")
    (tmp_path / "new.py").write_text("y = 1\n")
    (tmp_path / ".gitignore").write_text("ignored.py\n")
    (tmp_path / "ignored.py").write_text("z = 1\n")
    assert changed_paths(tmp_path, "main") == [".gitignore", "README.md", "kept.py", "new.py"]


def test_find_both_sides_of_moved_file(tmp_path: Path) -> None:
    init_repository(tmp_path)
    (tmp_path / "libs").mkdir()
    (tmp_path / "libs" / "shared.py").write_text("x = 1\n" * 20)
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "--quiet", "-m", "first")
    git(tmp_path, "checkout", "--quiet", "-b", "feature")
    (tmp_path / "services").mkdir()
    git(tmp_path, "mv", "libs/shared.py", "services/shared.py")
    git(tmp_path, "commit", "--quiet", "-m", "moved")
    assert changed_paths(tmp_path, "main") == ["libs/shared.py", "services/shared.py"]
