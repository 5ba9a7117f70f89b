"""The commands a service runs: the same in its container, in `make run` and in the tests."""

from __future__ import annotations

GUNICORN_CONFIG = "python:flusk_common.gunicorn_conf"
CONTAINER_ALEMBIC_INI = "/app/alembic.ini"
# The image's command: one image recipe serves every service, and its FLUSK_SERVICE
# variable names the app the shared gunicorn settings load (<service>.wsgi:app).
IMAGE_COMMAND = ["gunicorn", "--config", GUNICORN_CONFIG]


def wsgi_app(service: str) -> str:
    return f"{service}.wsgi:app"


def serve_command(service: str) -> list[str]:
    """Serve ``service`` under gunicorn with the shared settings (HOST, PORT, ... from env)."""
    return [*IMAGE_COMMAND, wsgi_app(service)]


def migrate_command(alembic_ini: str) -> list[str]:
    """Apply every migration of the service whose Alembic config is ``alembic_ini``."""
    return ["alembic", "-c", alembic_ini, "upgrade", "head"]
