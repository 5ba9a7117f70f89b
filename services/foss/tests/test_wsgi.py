"""The WSGI entry point builds the app from the environment."""

from __future__ import annotations

import importlib
import logging
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from flusk_common import get_database


@pytest.fixture
def wsgi_module(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[ModuleType]:
    """``foss.wsgi`` imported afresh on a SQLite file; logging and modules restored after."""
    monkeypatch.setenv("FOSS_DATABASE_URL", f"sqlite:///{tmp_path / 'wsgi.db'}")
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    sys.modules.pop("foss.wsgi", None)
    try:
        module = importlib.import_module("foss.wsgi")
        yield module
        get_database(module.app).engine.dispose()
    finally:
        sys.modules.pop("foss.wsgi", None)
        root.handlers[:] = handlers
        root.setLevel(level)


def test_import_wsgi_app(wsgi_module: ModuleType, tmp_path: Path) -> None:
    app = wsgi_module.app
    assert app.config["DATABASE_URL"] == f"sqlite:///{tmp_path / 'wsgi.db'}"
    assert app.test_client().get("/readyz").status_code == 200
    assert (tmp_path / "wsgi.db").exists()
