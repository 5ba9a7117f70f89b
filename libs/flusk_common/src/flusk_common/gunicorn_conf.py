"""Gunicorn settings shared by every service: ``gunicorn -c python:flusk_common.gunicorn_conf``.

Each value can be overridden from the environment (``PORT``, ``WEB_CONCURRENCY``, ...).
"""

import os
from typing import Any

from flusk_common._logging import gunicorn_logging_config
from flusk_common._metrics import forget_worker, prepare_metrics_folder, remove_metrics_folder
from flusk_common._tracing import service_of_app, shutdown_tracing, worker_started

# The app, unless the command line names one: FLUSK_SERVICE's, as each service's image sets it.
if os.environ.get("FLUSK_SERVICE"):
    wsgi_app = f"{os.environ['FLUSK_SERVICE']}.wsgi:app"
bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# Threaded workers: a request waiting on another service holds one thread, not the worker.
# At most SERVICE_MAX_CONCURRENT_CALLS (4) threads of a worker wait on one callee, so the
# other 4 keep serving requests that do not call it (see README, "Timeouts and faults").
threads = int(os.environ.get("GUNICORN_THREADS", "8"))
# gunicorn's own workers, but its error answers (400 for a bad header, ...) are problem+json.
worker_class = (
    "flusk_common.gunicorn_workers.ThreadWorker"
    if threads > 1
    else "flusk_common.gunicorn_workers.SyncWorker"
)
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "20"))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))
# Above the gateway's limits (8k request line and header line, 32k of headers, see
# gateway/nginx.conf.j2): the gateway refuses oversized requests first, as problem+json,
# and never forwards one that gunicorn would refuse with its own HTML page.
limit_request_line = 8190  # gunicorn's maximum
limit_request_fields = 32768  # gunicorn's maximum; 32k of headers hold fewer
limit_request_field_size = 16384
accesslog = "-"
errorlog = "-"
# gunicorn's own lines in the app's format (LOG_FORMAT=json: JSON too), with the request id.
logconfig_dict = gunicorn_logging_config(os.environ)
# gunicorn's logger, building only the fields this format shows (the same lines, for less).
logger_class = "flusk_common.gunicorn_logger.AccessLogger"
access_log_format = (
    '%(h)s "%(r)s" %(s)s %(b)s %(M)sms request_id=%({x-request-id}o)s'
    " forwarded_for=%({x-forwarded-for}i)s"
)
# Forwarded headers are believed by the app alone, from TRUSTED_PROXY_HOPS proxies
# (Werkzeug's ProxyFix); gunicorn must not act on them by itself.
secure_scheme_headers: dict[str, str] = {}
# Several services run side by side on one machine; one control socket each would collide.
control_socket_disable = True


# The workers' metrics, in files of a folder they share (flusk_common._metrics).
def on_starting(_server: Any) -> None:
    prepare_metrics_folder()  # before any worker imports prometheus_client


def child_exit(_server: Any, worker: Any) -> None:
    forget_worker(worker.pid)


def on_exit(_server: Any) -> None:
    remove_metrics_folder()


# Traces (off unless OTEL_* asks): each worker makes its own provider and exporter threads
# after the fork, and exports what it holds before it exits (see flusk_common._tracing).
def post_fork(server: Any, worker: Any) -> None:
    worker_started(service_of_app(worker.cfg.wsgi_app or worker.cfg.proc_name))


def worker_exit(server: Any, worker: Any) -> None:
    shutdown_tracing()
