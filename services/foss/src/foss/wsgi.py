"""The WSGI entry point: ``gunicorn -c python:flusk_common.gunicorn_conf foss.wsgi:app``."""

from flusk_common import configure_logging
from foss import create_app

configure_logging()
app = create_app()
