"""Flusk's shared runtime: the app factory helper, middleware, database, errors and helpers.

Services import only the names listed here.
"""

from ._app import MAX_RECORD_ID as MAX_RECORD_ID
from ._app import ServiceApp as ServiceApp
from ._app import create_service_app as create_service_app
from ._body import request_body as request_body
from ._client import ServiceClient as ServiceClient
from ._client import ServiceProblem as ServiceProblem
from ._client import ServiceUnreachable as ServiceUnreachable
from ._client import service_client as service_client
from ._config import SETTINGS as SETTINGS
from ._config import load_settings as load_settings
from ._database import Database as Database
from ._database import create_engine as create_engine
from ._database import get_database as get_database
from ._database import get_session as get_session
from ._database_errors import flush as flush
from ._exceptions import BadRequest as BadRequest
from ._exceptions import ConfigurationError as ConfigurationError
from ._exceptions import Conflict as Conflict
from ._exceptions import DatabaseUnavailable as DatabaseUnavailable
from ._exceptions import FieldError as FieldError
from ._exceptions import FluskError as FluskError
from ._exceptions import MalformedJSON as MalformedJSON
from ._exceptions import NotFound as NotFound
from ._exceptions import RecordNotFound as RecordNotFound
from ._exceptions import ServiceUnavailable as ServiceUnavailable
from ._exceptions import Unauthorized as Unauthorized
from ._exceptions import UnsupportedMediaType as UnsupportedMediaType
from ._exceptions import ValidationFailed as ValidationFailed
from ._logging import configure_logging as configure_logging
from ._logging import logging_config as logging_config
from ._migrations import run_migrations as run_migrations
from ._models import SerializerMixin as SerializerMixin
from ._models import Timestamps as Timestamps
from ._models import UTCDateTime as UTCDateTime
from ._models import new_metadata as new_metadata
from ._models import serialize as serialize
from ._pagination import DEFAULT_PAGE_SIZE as DEFAULT_PAGE_SIZE
from ._pagination import MAX_PAGE_SIZE as MAX_PAGE_SIZE
from ._pagination import KeysetPage as KeysetPage
from ._pagination import decode_cursor as decode_cursor
from ._pagination import encode_cursor as encode_cursor
from ._pagination import fetch_page as fetch_page
from ._request_id import current_request_id as current_request_id
from ._validation import query_params as query_params

__all__ = [
    "DEFAULT_PAGE_SIZE",
    "MAX_PAGE_SIZE",
    "MAX_RECORD_ID",
    "SETTINGS",
    "BadRequest",
    "ConfigurationError",
    "Conflict",
    "Database",
    "DatabaseUnavailable",
    "FieldError",
    "FluskError",
    "KeysetPage",
    "MalformedJSON",
    "NotFound",
    "RecordNotFound",
    "SerializerMixin",
    "ServiceApp",
    "ServiceClient",
    "ServiceProblem",
    "ServiceUnavailable",
    "ServiceUnreachable",
    "Timestamps",
    "UTCDateTime",
    "Unauthorized",
    "UnsupportedMediaType",
    "ValidationFailed",
    "configure_logging",
    "create_engine",
    "create_service_app",
    "current_request_id",
    "decode_cursor",
    "encode_cursor",
    "fetch_page",
    "flush",
    "get_database",
    "get_session",
    "load_settings",
    "logging_config",
    "new_metadata",
    "query_params",
    "request_body",
    "run_migrations",
    "serialize",
    "service_client",
]
