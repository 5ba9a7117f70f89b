"""Internal probes, outside every service prefix: ``/healthz`` (alive), ``/readyz`` (database)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from ._database import get_database

probes = Blueprint("probes", __name__)


@probes.get("/healthz")
def healthz() -> dict[str, Any]:
    """The process is up and serving."""
    return {"status": "ok"}


@probes.get("/readyz")
def readyz() -> dict[str, Any]:
    """The database answers; a failure is a 503 from the database error handlers."""
    get_database().ping()
    return {"status": "ok", "database": "ok"}
