"""A caller's fakes follow the callee's contract: change licenses', and foss's tests fail."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from test_new_service import copy_repository


def _foss_license_tests(repo: Path) -> subprocess.CompletedProcess[str]:
    sources = [repo / "services" / name / "src" for name in ("foss", "licenses")]
    environ = {**os.environ, "PYTHONPATH": os.pathsep.join(map(str, sources))}
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "addopts="]
    return subprocess.run(
        [*command, "tests/test_licenses.py"],
        cwd=repo / "services" / "foss",
        env=environ,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_change_of_licenses_contract_fails_foss_tests(tmp_path: Path) -> None:
    repo = copy_repository(tmp_path / "repo")
    assert _foss_license_tests(repo).returncode == 0

    schema_path = repo / "services" / "licenses" / "src" / "licenses" / "schemas" / "license.json"
    schema = json.loads(schema_path.read_text(encoding="utf-8"))
    schema["properties"]["osi_approved"] = {"type": "string", "default": "no"}
    schema_path.write_text(json.dumps(schema), encoding="utf-8")

    failed = _foss_license_tests(repo)
    assert failed.returncode == 1, failed.stdout
    assert "a fake answered what its service's document does not allow" in failed.stdout
    assert "osi_approved" in failed.stdout
