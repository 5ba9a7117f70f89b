"""The commands a service runs: the same in its container, in `make run` and in the tests."""

from __future__ import annotations

GUNICORN_CONFIG = "python:flusk_common.gunicorn_conf"
CONTAINER_ALEMBIC_INI = "/app/alembic.ini"


def serve_command(service: str) -> list[str]:
    """Serve ``service`` under gunicorn with the shared settings (HOST, PORT, ... from env)."""
    return ["gunicorn", "--config", GUNICORN_CONFIG, f"{service}.wsgi:app"]


def migrate_command(alembic_ini: str) -> list[str]:
    """Apply every migration of the service whose Alembic config is ``alembic_ini``."""
    return ["alembic", "-c", alembic_ini, "upgrade", "head"]
