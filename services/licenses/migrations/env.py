"""Alembic environment of licenses; the shared body lives in flusk_common."""

from flusk_common import run_migrations
from licenses import create_app

run_migrations(create_app())
