"""Alembic environment of foss; the shared body lives in flusk_common."""

from flusk_common import run_migrations
from foss import create_app

run_migrations(create_app())
