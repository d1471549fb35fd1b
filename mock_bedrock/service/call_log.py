"""The server's request log: one line per call, for a person watching ``--log-requests``.

Each line (wrapped here) is, separated by spaces and with ``-`` for what a call lacks::

    2025-06-01T12:34:56.789 InvokeModel stability.stable-image-core-v1:1 400
        ValidationException - 5d1e8a0c-0f3b-4a57-9d7e-2b41c6f0e9aa 3.2ms

time (local, to the millisecond, when the call arrived), operation (or ``METHOD /path`` for
the admin endpoints and unknown paths), model id as the caller sent it, HTTP status
(``dropped`` when a fault or the client ended the connection without an answer), error code
(also an error sent mid-stream), the fault rules that fired (a rule's ``name``, else ``#``
and its place in the rule list), request id, and milliseconds until the answer was sent.

It wraps the served WSGI application, so a call through either protocol (HTTP/1.1, HTTP/2)
is logged the same way; the facts come from what :class:`MockBedrock` left in the environ
(its journal entry and the rules that fired), or, for any other application (the recorder,
the replayer), from the request and the response headers. The status is coloured only when
the log goes to a terminal and ``NO_COLOR`` is not set (https://no-color.org). What a caller
sent (a path, a model id) or a rule's author wrote (its name) is shown with its
non-printable characters escaped (:func:`bedrock_contract.printable.printable`): a ``%0A`` in
a path cannot start a forged line, nor an ESC drive the terminal.

The first call answered for a model past its end of life (served because the mock's date
allows it) is followed by one line saying so, with the model's end-of-life date and
replacement (:class:`bedrock_contract.retired.RetiredCall`); once a model per log, so that
a log of many such calls stays readable::

    2025-06-01T12:34:56.789 warning: stability.stable-diffusion-xl-v1 reached its end of
        life on 2025-05-20: Bedrock refuses it, and this call was answered only because the
        mock's date allows it; move to stability.stable-image-core-v1:1
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TextIO

from bedrock_contract.printable import printable
from bedrock_contract.retired import RetiredCall
from mock_bedrock.service.app import (
    CALL_ENTRY,
    FIRED_RULES,
    DropConnection,
    StartResponse,
    WSGIApplication,
    WSGIEnvironment,
    route,
)
from mock_bedrock.service.errors import BedrockError, stream_exception_members
from mock_bedrock.service.journal import JournalEntry
from mock_bedrock.service.wire import ERROR_TYPE_HEADER, REQUEST_ID_HEADER

__all__ = ["CallLog", "wants_colour"]

DROPPED = "dropped"
_RESET = "\x1b[0m"
# By the status's first digit; a dropped connection is magenta.
_COLOURS = {"2": "\x1b[32m", "3": "\x1b[36m", "4": "\x1b[33m", "5": "\x1b[1;31m"}
_DROPPED_COLOUR = "\x1b[35m"


def wants_colour(stream: TextIO) -> bool:
    """Colour for a terminal only, and never when ``NO_COLOR`` is set to anything."""
    if os.environ.get("NO_COLOR"):
        return False
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed stream
        return False


def _field(value: str | None) -> str:
    if not value:
        return "-"
    # A value with spaces (a rule's free-text name) stays one field.
    quoted = json.dumps(value, ensure_ascii=False) if any(c.isspace() for c in value) else value
    return printable(quoted)


class _Call:
    """What one call's line needs, gathered while it is answered."""

    def __init__(self, environ: WSGIEnvironment) -> None:
        self.environ = environ
        self.arrived = time.time()
        self.started = time.perf_counter()
        self.status: str | None = None
        self.headers: list[tuple[str, str]] = []

    def line(self, *, dropped: bool = False, colour: bool = False) -> str:
        elapsed = (time.perf_counter() - self.started) * 1000
        entry: JournalEntry | None = self.environ.get(CALL_ENTRY)
        operation, model_id = self._operation(entry)
        status = DROPPED if dropped or self.status is None else self.status.split(None, 1)[0]
        rules = self.environ.get(FIRED_RULES) or []
        fields = [
            dt.datetime.fromtimestamp(self.arrived).isoformat(timespec="milliseconds"),
            operation,
            _field(model_id),
            self._paint(status, colour),
            self._paint(_field(self._error(entry, status)), colour, status),
            ",".join(_field(rule) for rule in rules) or "-",
            _field(entry.request_id if entry is not None else self._header(REQUEST_ID_HEADER)),
            f"{elapsed:.1f}ms",
        ]
        return " ".join(fields)

    def retired(self) -> RetiredCall | None:
        """The call's end-of-life notice, when it was answered for a retired model."""
        entry: JournalEntry | None = self.environ.get(CALL_ENTRY)
        if entry is None or entry.end_of_life is None:
            return None
        return RetiredCall.from_json(entry.end_of_life)

    def warning(self, retired: RetiredCall) -> str:
        when = dt.datetime.fromtimestamp(self.arrived).isoformat(timespec="milliseconds")
        return f"{when} warning: {printable(retired.warning())}"

    def _operation(self, entry: JournalEntry | None) -> tuple[str, str | None]:
        if entry is not None and entry.operation is not None:
            return entry.operation, entry.model_id
        method = self.environ.get("REQUEST_METHOD", "-")
        path = self.environ.get("PATH_INFO", "") or "/"
        if entry is None:  # another application: the route says what the call was
            try:
                return route(method, path)
            except BedrockError:
                pass
        return printable(f"{method} {path}"), None

    def _error(self, entry: JournalEntry | None, status: str) -> str | None:
        if entry is not None and entry.outcome in stream_exception_members():
            return entry.outcome  # an error event inside a 200 stream
        if status == DROPPED:
            return entry.outcome if entry is not None else None
        error_type = self._header(ERROR_TYPE_HEADER)
        if error_type:
            return error_type.split(":", 1)[0]
        if status[:1] in ("4", "5") and entry is not None:
            return entry.outcome
        return None

    def _header(self, name: str) -> str | None:
        wanted = name.lower()
        return next((value for key, value in self.headers if key.lower() == wanted), None)

    @staticmethod
    def _paint(text: str, colour: bool, status: str | None = None) -> str:
        if not colour or text == "-":
            return text
        status = status or text
        code = _DROPPED_COLOUR if status == DROPPED else _COLOURS.get(status[:1])
        return f"{code}{text}{_RESET}" if code else text


class CallLog:
    """WSGI middleware that writes one line per call to ``stream`` (default: stderr, looked
    up at each write, so a redirected ``sys.stderr`` is honoured)."""

    def __init__(self, app: WSGIApplication, stream: TextIO | None = None) -> None:
        self.app = app
        self._stream = stream
        self._lock = threading.Lock()  # one line at a time from the server's threads
        self._warned: set[str] = set()  # the retired models this log has warned of

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        call = _Call(environ)

        def noting(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            call.status, call.headers = status, headers
            return start_response(status, headers, exc_info)

        try:
            chunks = self.app(environ, noting)
        except DropConnection:
            self._write(call, dropped=True)
            raise
        except Exception:  # a bug in the app: the door answers 500
            call.status = "500"
            self._write(call)
            raise
        return _Logged(chunks, lambda: self._write(call))

    def _write(self, call: _Call, *, dropped: bool = False) -> None:
        stream = self._stream or sys.stderr
        text = call.line(dropped=dropped, colour=wants_colour(stream)) + "\n"
        retired = call.retired()
        with self._lock:
            if retired is not None and retired.model_id not in self._warned:
                self._warned.add(retired.model_id)
                text += call.warning(retired) + "\n"
            try:
                stream.write(text)
                stream.flush()
            except (OSError, ValueError):  # the log's reader went away: keep serving
                pass


class _Logged:
    """The application's response body; writes the line when the door closes it (the
    answer sent, or the client gone)."""

    def __init__(self, chunks: Iterable[bytes], done: Callable[[], None]) -> None:
        self._chunks = chunks
        self._done: Callable[[], None] | None = done

    def __iter__(self) -> Iterator[bytes]:
        return iter(self._chunks)

    def close(self) -> None:
        try:
            close = getattr(self._chunks, "close", None)
            if close is not None:
                close()
        finally:
            done, self._done = self._done, None
            if done is not None:
                done()
