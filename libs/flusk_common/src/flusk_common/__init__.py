"""Flusk's shared runtime: what a service's code imports, and nothing else.

Tests import their helpers from ``flusk_common.testing``; fixtures, from the pytest plugin.
"""

from ._app import ServiceApp, create_service_app
from ._body import request_body
from ._client import service_client
from ._database import get_session
from ._errors import (
    Conflict,
    FieldError,
    FluskError,
    RecordNotFound,
    UpstreamError,
    UpstreamUnavailable,
    ValidationFailed,
    found,
)
from ._logging import configure_logging
from ._migrations import run_migrations
from ._models import SerializerMixin, Timestamps, UTCDateTime, new_metadata, read_record
from ._pagination import Page, fetch_page, fetch_record_page
from ._request_validation import query_params
from ._resources import Resource
from ._schemas import check_email
from ._writes import add_record, delete_record, flush_or_conflict, update_record

__all__ = [
    "Conflict",
    "FieldError",
    "FluskError",
    "Page",
    "RecordNotFound",
    "Resource",
    "SerializerMixin",
    "ServiceApp",
    "Timestamps",
    "UTCDateTime",
    "UpstreamError",
    "UpstreamUnavailable",
    "ValidationFailed",
    "add_record",
    "check_email",
    "configure_logging",
    "create_service_app",
    "delete_record",
    "fetch_page",
    "fetch_record_page",
    "flush_or_conflict",
    "found",
    "get_session",
    "new_metadata",
    "query_params",
    "read_record",
    "request_body",
    "run_migrations",
    "service_client",
    "update_record",
]
