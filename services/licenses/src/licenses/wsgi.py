"""The WSGI entry point that gunicorn serves (see the Dockerfile's CMD)."""

from flusk_common import configure_logging

from . import create_app

configure_logging()
app = create_app()
