"""`make db-revision` writes a migration that `make lint` accepts as it is.

On a copy of a service (foss) in a scratch repository with the real Makefile and ruff
settings: migrate to head, add a model, run `make db-revision`, then ruff on the result.
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


def test_write_revision_that_lint_accepts(scratch_repository: Path) -> None:
    root = scratch_repository
    bin_dir = Path(sys.executable).parent
    alembic_ini = str(root / "services" / SERVICE / "alembic.ini")
    run([str(bin_dir / "alembic"), "-c", alembic_ini, "upgrade", "head"], root)
    models = root / "services" / SERVICE / "src" / SERVICE / "models.py"
    base = re.search(r"^class (\w+)\(DeclarativeBase\)", models.read_text(), re.MULTILINE)
    assert base is not None, "the service declares its DeclarativeBase in models.py"
    models.write_text(models.read_text() + NEW_MODEL.format(base=base[1]))
    versions = root / "services" / SERVICE / "migrations" / "versions"
    before = set(versions.iterdir())

    make = ["make", "-o", "venv", f"BIN={bin_dir}", "db-revision", f"service={SERVICE}"]
    run([*make, "msg=add zz note"], root)

    written = set(versions.iterdir()) - before
    assert [path.name.endswith("_add_zz_note.py") for path in written] == [True]
    migration = str(written.pop())
    assert 'op.create_table(\n        "zz_note",' in Path(migration).read_text()
    ruff = [sys.executable, "-m", "ruff"]
    run([*ruff, "check", "--no-cache", migration], root)
    run([*ruff, "format", "--no-cache", "--check", migration], root)
