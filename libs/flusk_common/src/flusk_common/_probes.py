"""Internal probes, outside every service prefix: ``/healthz`` (alive), ``/readyz`` (database).

``/metrics`` (see ``_metrics``) is internal too.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from ._database import get_database
from ._metrics import METRICS_ENDPOINT

probes = Blueprint("probes", __name__)
# Outside every prefix, for orchestrators and scrapers: no API key, no request schema, and
# not in the API document.
INTERNAL_ENDPOINTS = frozenset({"probes.healthz", "probes.readyz", METRICS_ENDPOINT})


@probes.get("/healthz")
def healthz() -> dict[str, Any]:
    """The process is up and serving."""
    return {"status": "ok"}


@probes.get("/readyz")
def readyz() -> dict[str, Any]:
    """The database answers; a failure is a 503 from the database error handlers."""
    get_database().ping()
    return {"status": "ok", "database": "ok"}
