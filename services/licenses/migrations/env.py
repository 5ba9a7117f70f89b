"""The Alembic environment of licenses; its body is flusk_common's."""

from alembic import context

import licenses
from flusk_common import run_migrations

if context.config.attributes.get("configure_logger", True) and context.config.config_file_name:
    from logging.config import fileConfig

    fileConfig(context.config.config_file_name, disable_existing_loggers=False)

run_migrations(licenses.create_app())
