"""The WSGI entry point: ``gunicorn -c python:flusk_common.gunicorn_conf licenses.wsgi:app``."""

from flusk_common import configure_logging
from licenses import create_app

configure_logging()
app = create_app()
