"""gunicorn workers whose own error answers are problem+json, like every other answer.

gunicorn refuses some requests before the app sees them (a control character in a header
value, a malformed request line, a chunked body it cannot frame) and answers them with an
HTML page of its own. These workers let gunicorn decide the status, as it does, and write
that status as problem details with a request id instead of its page. ``gunicorn_conf``
selects them: ``SyncWorker`` for one thread per worker, ``ThreadWorker`` for more.

The request id is the one the request carries, when gunicorn refused the request before
reading it into headers: each worker peeks at the head of the request as it arrives (the
bytes stay for gunicorn's parser), so the gateway's id is the one in the answer.
"""

from __future__ import annotations

import re
import select
import socket
import threading
import uuid
from http import HTTPStatus
from typing import Any

from gunicorn import util
from gunicorn.workers.gthread import DEFAULT_WORKER_DATA_TIMEOUT
from gunicorn.workers.gthread import ThreadWorker as _GunicornThreadWorker
from gunicorn.workers.sync import SyncWorker as _GunicornSyncWorker

from ._json import dumps_bytes
from ._problems import PROBLEM_MEDIA_TYPE, TYPE_PREFIX, code_for
from ._request_id import HEADER as REQUEST_ID_HEADER
from ._request_id import is_sane

PEEK_BYTES = 16384
_REQUEST_ID_LINE = re.compile(rb"\r\nX-Request-ID:[ \t]*([^\r\n]*?)[ \t]*\r\n", re.IGNORECASE)
_seen = threading.local()  # the head of the request the thread is handling


def _peek(client: Any, *, wait: float | None) -> None:
    """Keep the start of the request arriving on ``client`` (within ``wait`` seconds, or
    as long as it takes), leaving it there to be read."""
    _seen.head = b""
    try:
        if select.select([client], [], [], wait)[0]:
            _seen.head = client.recv(PEEK_BYTES, socket.MSG_PEEK | socket.MSG_DONTWAIT)
    except (OSError, ValueError):
        pass  # closed already: gunicorn's parser finds out


class _Recorder:
    """Stands in for the client's socket while gunicorn writes its page: keeps the bytes."""

    def __init__(self) -> None:
        self.written = bytearray()

    def gettimeout(self) -> float:
        return 0.0

    def setblocking(self, _flag: bool) -> None:
        return None

    def sendall(self, data: bytes) -> None:
        self.written += data


def problem_answer(page: bytes, request: Any) -> bytes:
    """The HTTP answer that says what gunicorn's ``page`` says, as problem+json."""
    status = int(page.split(b" ", 2)[1])
    request_id = _incoming_request_id(request) or uuid.uuid4().hex
    phrase = HTTPStatus(status).phrase
    body = dumps_bytes(
        {
            "type": TYPE_PREFIX + code_for(status),
            "title": phrase,
            "status": status,
            "detail": f"The server could not read this request ({phrase}).",
            "code": code_for(status),
            "request_id": request_id,
        }
    )
    head = (
        f"HTTP/1.1 {status} {phrase}\r\nConnection: close\r\n"
        f"Content-Type: {PROBLEM_MEDIA_TYPE}\r\nContent-Length: {len(body)}\r\n"
        f"{REQUEST_ID_HEADER}: {request_id}\r\n\r\n"
    )
    return head.encode("latin-1") + body


def _incoming_request_id(request: Any) -> str | None:
    """The request's own id: from its parsed headers, else from the bytes peeked at."""
    for name, value in getattr(request, "headers", None) or ():
        if name.upper() == REQUEST_ID_HEADER.upper() and is_sane(value):
            return str(value)
    found = _REQUEST_ID_LINE.search(getattr(_seen, "head", b""))
    if found:
        value = found.group(1).decode("latin-1")
        if is_sane(value):
            return value
    return None


class _ProblemErrors:
    log: Any

    def handle_error(self, req: Any, client: Any, addr: Any, exc: BaseException) -> None:
        recorder = _Recorder()
        super().handle_error(req, recorder, addr, exc)  # type: ignore[misc]
        if not recorder.written:
            return
        try:
            util.write_nonblock(client, problem_answer(bytes(recorder.written), req))
        except Exception:
            self.log.debug("Failed to send error message.")


class SyncWorker(_ProblemErrors, _GunicornSyncWorker):
    """gunicorn's sync worker, answering its own errors as problem+json."""

    def handle(self, listener: Any, client: Any, addr: Any) -> None:
        _peek(client, wait=None)  # the parser would wait for these bytes as long
        super().handle(listener, client, addr)


class ThreadWorker(_ProblemErrors, _GunicornThreadWorker):
    """gunicorn's threaded worker, answering its own errors as problem+json."""

    def handle(self, conn: Any) -> Any:
        # A new connection's first bytes are waited for as long as gunicorn waits for them
        # before putting it back; a kept-alive one's are there already, or in the parser.
        fresh = not (getattr(conn, "initialized", True) or getattr(conn, "data_ready", True))
        _peek(conn.sock, wait=DEFAULT_WORKER_DATA_TIMEOUT if fresh else 0)
        return super().handle(conn)
