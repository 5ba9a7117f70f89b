"""`make db-revision` writes a migration `make lint` accepts; `make db-upgrade-sql` the pending SQL.

On a copy of a service (foss) in a scratch repository with the real Makefile and ruff
settings, and its own SQLite database.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

SERVICE = "foss"
BIN_DIR = Path(sys.executable).parent
NEW_MODEL = """

class ZzNote({base}):
    __tablename__ = "zz_note"

    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(String(200))
"""


@pytest.fixture
def scratch_repository(tmp_path: Path) -> Path:
    for name in ("Makefile", "pyproject.toml", "services.toml"):
        shutil.copy(ROOT / name, tmp_path / name)
    shutil.copytree(
        ROOT / "services" / SERVICE,
        tmp_path / "services" / SERVICE,
        ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "tests"),
    )
    return tmp_path


def run(command: list[str], root: Path) -> str:
    environment = {
        **os.environ,
        "PYTHONPATH": str(root / "services" / SERVICE / "src"),
        "DATABASE_URL": f"sqlite:///{root / 'scratch.db'}",
    }
    result = subprocess.run(
        command, cwd=root, env=environment, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, f"{command}:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def alembic(root: Path, *arguments: str) -> str:
    alembic_ini = str(root / "services" / SERVICE / "alembic.ini")
    return run([str(BIN_DIR / "alembic"), "-c", alembic_ini, *arguments], root)


def make(root: Path, *arguments: str) -> str:
    """A target of the real Makefile, with this environment's tools instead of .venv's."""
    return run(["make", "--no-print-directory", "-o", "venv", f"BIN={BIN_DIR}", *arguments], root)


def test_print_only_pending_migrations(scratch_repository: Path) -> None:
    root = scratch_repository
    alembic(root, "upgrade", "+1")

    pending = make(root, "db-upgrade-sql", f"service={SERVICE}")
    alembic(root, "upgrade", "head")
    nothing = make(root, "db-upgrade-sql", f"service={SERVICE}")

    steps = [line for line in pending.splitlines() if line.startswith("-- Running upgrade")]
    assert steps, pending
    assert not any(step.startswith("-- Running upgrade  ->") for step in steps)  # not the first
    assert "-- Running upgrade" not in nothing


def test_write_revision_that_lint_accepts(scratch_repository: Path) -> None:
    root = scratch_repository
    alembic(root, "upgrade", "head")
    models = root / "services" / SERVICE / "src" / SERVICE / "models.py"
    base = re.search(r"^class (\w+)\(DeclarativeBase\)", models.read_text(), re.MULTILINE)
    assert base is not None, "the service declares its DeclarativeBase in models.py"
    models.write_text(models.read_text() + NEW_MODEL.format(base=base[1]))
    versions = root / "services" / SERVICE / "migrations" / "versions"
    before = set(versions.iterdir())

    make(root, "db-revision", f"service={SERVICE}", "msg=add zz note")

    written = set(versions.iterdir()) - before
    assert [path.name.endswith("_add_zz_note.py") for path in written] == [True]
    migration = str(written.pop())
    assert 'op.create_table(\n        "zz_note",' in Path(migration).read_text()
    ruff = [sys.executable, "-m", "ruff"]
    run([*ruff, "check", "--no-cache", migration], root)
    run([*ruff, "format", "--no-cache", "--check", migration], root)
