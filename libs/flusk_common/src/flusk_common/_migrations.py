"""The body of every service's Alembic ``env.py``: one place, not one copy per service.

Alembic is imported when migrations run, not when a service starts: a worker serving
requests never needs it (about 10 MB less per worker, measured with ``make bench``).
"""

from __future__ import annotations

from logging.config import fileConfig
from typing import TYPE_CHECKING, Any, Literal

import sqlalchemy as sa
from flask import Flask

if TYPE_CHECKING:
    from alembic.autogenerate.api import AutogenContext

from ._database import get_database
from ._models import UTCDateTime


def _render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _configure(connection: sa.Connection, metadata: sa.MetaData) -> None:
    from alembic import context  # noqa: PLC0415 - when migrations run, never in a worker

    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        render_item=_render_item,
        compare_type=True,
    )


def run_migrations(app: Flask) -> None:
    """Run Alembic for ``app``'s models, on its database or the connection a caller passes.

    Logging is set up from the Alembic config file, if it has a ``[loggers]`` section,
    unless the caller sets ``config.attributes["configure_logger"] = False`` (as tests do).

    A caller (a test, say) may pass ``config.attributes["connection"]``; otherwise the
    URL comes from ``sqlalchemy.url`` in the Alembic config, or else from the app.
    """
    from alembic import context  # noqa: PLC0415 - when migrations run, never in a worker

    config = context.config
    wants_logging = config.attributes.get("configure_logger", True)
    if wants_logging and config.config_file_name and config.file_config.has_section("loggers"):
        fileConfig(config.config_file_name, disable_existing_loggers=False)
    database = get_database(app)
    metadata = database.metadata
    if context.is_offline_mode():
        context.configure(
            url=config.get_main_option("sqlalchemy.url") or str(database.engine.url),
            target_metadata=metadata,
            literal_binds=True,
            render_item=_render_item,
        )
        with context.begin_transaction():
            context.run_migrations()
        return
    given: sa.Connection | None = config.attributes.get("connection")
    if given is not None:
        _configure(given, metadata)
        with context.begin_transaction():
            context.run_migrations()
        return
    url = config.get_main_option("sqlalchemy.url")
    engine = sa.create_engine(url) if url else database.engine
    try:
        with engine.connect() as connection:
            _configure(connection, metadata)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()  # a pooled connection left open would outlive the migration
