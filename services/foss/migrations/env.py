"""Alembic environment of foss; the shared body lives in flusk_common."""

from alembic import context

from flusk_common import run_migrations
from foss import create_app

if context.config.attributes.get("configure_logger", True) and context.config.config_file_name:
    from logging.config import fileConfig

    fileConfig(context.config.config_file_name, disable_existing_loggers=False)

run_migrations(create_app())
