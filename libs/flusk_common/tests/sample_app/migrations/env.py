"""Alembic environment of the sample app; the shared body lives in flusk_common."""

from flusk_common import run_migrations
from sample_app import create_app

run_migrations(create_app())
