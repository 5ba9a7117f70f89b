"""The README's "Adding a field", followed on a new service in a copy of the repository.

A field is added in three places: the model, the resource schema, and the migration
Alembic writes. Until the schema has it, a test of the service fails and names it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from test_new_service import copy_repository

from flusk_tools.new_service import create_service

NAME = "zz_field_demos"  # a name no user's service has, so the copy never holds it already
MODEL_LINE = '    quantity: Mapped[int] = mapped_column(default=1, server_default="1")\n'
FIELD = {"type": "integer", "minimum": 1, "maximum": 10000, "default": 1}


def _run(command: list[str], service: Path, database: Path) -> subprocess.CompletedProcess[str]:
    environ = {
        **os.environ,
        "PYTHONPATH": str(service / "src"),
        f"{NAME.upper()}_DATABASE_URL": f"sqlite:///{database}",
    }
    return subprocess.run(
        command, cwd=service, env=environ, capture_output=True, text=True, timeout=300, check=False
    )


def _pytest(service: Path, database: Path, *selection: str) -> subprocess.CompletedProcess[str]:
    options = ["-q", "-p", "no:cacheprovider", "-o", "addopts=", *selection]
    return _run([sys.executable, "-m", "pytest", *options], service, database)


def _files(folder: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for path in folder.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }


def test_add_a_field_in_three_places(tmp_path: Path) -> None:
    repo = copy_repository(tmp_path / "repo")
    create_service(repo, NAME)
    service = repo / "services" / NAME
    database = tmp_path / "revision.db"
    before = _files(service)

    models = service / "src" / NAME / "models.py"
    text = models.read_text(encoding="utf-8")
    anchor = "    description: Mapped[str | None] = mapped_column(String(2000))\n"
    models.write_text(text.replace(anchor, anchor + MODEL_LINE), encoding="utf-8")

    failed = _pytest(service, database, "tests/test_contract.py", "-k", "resource_matches_model")
    assert failed.returncode == 1, failed.stdout
    assert "quantity: ZzFieldDemo.quantity is a column, but" in failed.stdout

    schema_path = service / "src" / NAME / "schemas" / "zz_field_demo.json"
    schema = json.loads(schema_path.read_text(encoding="utf-8"))
    schema["properties"]["quantity"] = FIELD
    schema_path.write_text(json.dumps(schema, indent=2) + "\n", encoding="utf-8")

    alembic = [sys.executable, "-m", "alembic", "-c", "alembic.ini"]
    for step in (["upgrade", "head"], ["revision", "--autogenerate", "-m", "add quantity"]):
        result = _run([*alembic, *step], service, database)
        assert result.returncode == 0, result.stderr

    passed = _pytest(service, database)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    changed = {path for path, content in _files(service).items() if before.get(path) != content}
    [migration] = [path for path in changed if path.startswith("migrations/versions/")]
    assert migration.endswith("_add_quantity.py")
    assert changed == {
        f"src/{NAME}/models.py",
        f"src/{NAME}/schemas/zz_field_demo.json",
        migration,
    }
