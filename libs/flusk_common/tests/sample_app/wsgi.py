"""The WSGI entry point of the sample app, as a service has one."""

from flusk_common import configure_logging
from sample_app import create_app

configure_logging()
app = create_app()
