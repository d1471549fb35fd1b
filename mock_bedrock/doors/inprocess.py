"""The in-process door: botocore's prepared request goes to the WSGI app without a socket.

This works the way moto does: a dormant ``before-send`` handler sits in botocore's
``BUILTIN_HANDLERS`` from import time on, so every session (and every client made from it)
carries it; :func:`mock_image_models` only switches it on. botocore takes the first non-None
answer of ``before-send`` as the HTTP response, so the handler is registered first on the
``bedrock-runtime`` event and wins over moto's generic stub inside ``moto.mock_aws()``.
"""

from __future__ import annotations

import functools
import io
import os
import sys
import threading
import traceback
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar
from urllib.parse import urlsplit

import botocore
from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.exceptions import ConnectionClosedError
from urllib3.exceptions import ProtocolError
from werkzeug.datastructures import Headers
from werkzeug.test import EnvironBuilder, run_wsgi_app

from bedrock_contract.service import configured_region, has_local_credentials
from mock_bedrock.client_setup import PLACEHOLDER_CREDENTIALS, REGION
from mock_bedrock.doors import date, hook
from mock_bedrock.doors.server import CRASH_BODY, CRASH_STATUS
from mock_bedrock.service.app import DropConnection, MockBedrock, MockControls, WSGIApplication

__all__ = ["MockHandle", "attach", "missing_identity", "mock_image_models", "mock_sdxl"]

ANSWERED_URL = "mock-bedrock://answered-in-process"

P = ParamSpec("P")
R = TypeVar("R")

# Fake identity for the duration of a mock when the machine has none, as moto does.
FAKE_ENVIRONMENT = dict(PLACEHOLDER_CREDENTIALS)
FAKE_REGION = {"AWS_DEFAULT_REGION": REGION}


@dataclass(frozen=True)
class MockHandle(MockControls):
    """What ``with mock_image_models() as mock`` gives: the app and (for a
    :class:`MockBedrock`) its controls."""

    app: WSGIApplication


class _Activation:
    """The process-wide state: which apps are mocked (innermost last), and the environment
    overrides that the outermost activation installed."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._apps: list[WSGIApplication] = []
        self._saved_env: dict[str, str | None] = {}

    def current(self) -> WSGIApplication | None:
        apps = self._apps  # one read: a list swap elsewhere can't tear it
        return apps[-1] if apps else None

    def push(self, app: WSGIApplication) -> None:
        with self._lock:
            if not self._apps:
                self._saved_env = _install_fake_identity()
            self._apps = [*self._apps, app]

    def pop(self, app: WSGIApplication) -> None:
        with self._lock:
            apps = list(self._apps)
            # Remove the last occurrence, so overlapping (non-nested) exits also restore.
            del apps[len(apps) - 1 - apps[::-1].index(app)]
            self._apps = apps
            if not apps:
                _restore_environment(self._saved_env)
                self._saved_env = {}


_ACTIVE = _Activation()


def missing_identity() -> dict[str, str]:
    """Fake credentials and region for whichever of them this machine has not configured."""
    wanted: dict[str, str] = {}
    if not has_local_credentials():
        wanted.update(FAKE_ENVIRONMENT)
    if configured_region() is None:
        wanted.update(FAKE_REGION)
    return wanted


def _install_fake_identity() -> dict[str, str | None]:
    wanted = missing_identity()
    saved = {name: os.environ.get(name) for name in wanted}
    os.environ.update(wanted)
    return saved


def _restore_environment(saved: Mapping[str, str | None]) -> None:
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


# --- the bridge between botocore and WSGI -------------------------------------------------


class _BufferedBody(io.BytesIO):
    """A whole response body, shaped like the urllib3 response botocore normally reads."""

    def stream(self, amt: int = 2**16, decode_content: bool | None = None) -> Iterator[bytes]:
        while chunk := self.read(amt):
            yield chunk


class _StreamedBody(io.RawIOBase):
    """A response body without Content-Length (the event stream): handed out as the app
    produces it, so a mid-stream fault reaches the caller mid-iteration, as over a socket."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = iter(chunks)
        self._close_app = getattr(chunks, "close", None)
        self._pending = b""

    def _next_chunk(self) -> bytes:
        try:
            return next(self._chunks, b"")
        except DropConnection as drop:
            # What urllib3 raises when a server closes the socket mid-body.
            raise ProtocolError("Connection broken: the mock dropped the connection") from drop

    def stream(self, amt: int = 2**16, decode_content: bool | None = None) -> Iterator[bytes]:
        try:
            if self._pending:
                yield self._pending
                self._pending = b""
            while chunk := self._next_chunk():
                yield chunk
        finally:
            self.close()

    def readable(self) -> bool:
        return True

    def read(self, amt: int | None = None) -> bytes:  # type: ignore[override]
        while amt is None or len(self._pending) < amt:
            chunk = self._next_chunk()
            if not chunk:
                break
            self._pending += chunk
        if amt is None:
            data, self._pending = self._pending, b""
        else:
            data, self._pending = self._pending[:amt], self._pending[amt:]
        return data

    def close(self) -> None:
        if self._close_app is not None:
            self._close_app()
            self._close_app = None
        super().close()


def _body_bytes(body: object) -> bytes:
    if body is None:
        return b""
    if isinstance(body, bytes | bytearray | memoryview):
        return bytes(body)
    if isinstance(body, str):
        return body.encode("utf-8")
    read = getattr(body, "read", None)
    if read is not None:
        data = read()
        return data.encode("utf-8") if isinstance(data, str) else bytes(data)
    return b"".join(body)  # type: ignore[arg-type]  # an iterable of byte chunks


def wsgi_environ(request: AWSPreparedRequest) -> dict[str, Any]:
    """The WSGI environ the server door would build for this request."""
    url = urlsplit(request.url)
    headers = [(k, v.decode("latin-1") if isinstance(v, bytes) else v)
               for k, v in request.headers.items()]
    builder = EnvironBuilder(
        path=url.path,
        base_url=f"{url.scheme}://{url.netloc}",
        query_string=url.query,
        method=request.method,
        headers=headers,
        data=_body_bytes(request.body),
        environ_overrides={"SERVER_PROTOCOL": "HTTP/1.1"},
    )
    try:
        return builder.get_environ()
    finally:
        builder.close()


def answer(app: WSGIApplication, request: AWSPreparedRequest) -> AWSResponse:
    """Run one prepared request through the WSGI app; botocore gets the result as if it
    had come over the wire. A dropped connection becomes botocore's connection error."""
    environ = wsgi_environ(request)
    try:
        chunks, status, headers = run_wsgi_app(app, environ)
        if "Content-Length" in headers:
            try:
                raw: io.IOBase = _BufferedBody(b"".join(chunks))
            finally:
                close = getattr(chunks, "close", None)
                if close is not None:
                    close()
        else:
            raw = _StreamedBody(chunks)
    except DropConnection as drop:
        raise ConnectionClosedError(endpoint_url=request.url) from drop
    except Exception:
        # A bug in the app: answer as the server door does (500), not with the traceback.
        traceback.print_exc(file=sys.stderr)
        status, raw = CRASH_STATUS, _BufferedBody(CRASH_BODY)
        headers = Headers([("Content-Type", "text/plain"),
                           ("Content-Length", str(len(CRASH_BODY)))])
    if date.NAME not in headers:
        headers[date.NAME] = date.http_date()
    return AWSResponse(request.url, int(status.split(None, 1)[0]), headers, raw)


def answer_if_active(request: AWSPreparedRequest) -> AWSResponse | None:
    """What :mod:`mock_bedrock.doors.hook`'s handler answers: the active mock's response,
    or None (the request goes out as usual)."""
    app = _ACTIVE.current()
    if app is None:
        return None
    response = answer(app, request)
    # botocore calls every before-send handler, even after one has answered. moto's
    # catch-all (inside mock_aws) would then run the request through its own bedrock-runtime
    # stub, which lacks the stream operation and raises. A URL outside any AWS domain makes
    # such stubs pass; botocore builds a fresh request for each attempt, so nothing else
    # sees it.
    request.url = ANSWERED_URL + urlsplit(request.url).path
    return response


def unsigned_if_active() -> Any:
    """What :mod:`mock_bedrock.doors.hook`'s signer choice answers: botocore.UNSIGNED while
    the active mock checks no signatures (no credentials needed), else None. An app that
    does not say whether it checks them is taken to check them."""
    app = _ACTIVE.current()
    if app is None or getattr(app, "checks_signatures", True):
        return None
    return botocore.UNSIGNED


hook.install()


def attach(client: Any) -> Any:
    """Give a client made from a session older than this module the handlers (rarely
    needed: sessions created after import already have them)."""
    hook.register(client.meta.events)
    return client


class mock_image_models:
    """Route every bedrock-runtime call of this process to a :class:`MockBedrock` (every
    model of the catalogue; :data:`mock_sdxl` is its first name).

    ``with mock_image_models() as mock:`` yields a :class:`MockHandle`;
    ``@mock_image_models()`` wraps a function. Pass an ``app`` to share one (any WSGI
    application: the recorder and replayer are used this way), or keyword arguments to build
    a fresh mock.
    Contexts nest (the innermost app answers) and each exit restores what was before.
    """

    def __init__(self, app: WSGIApplication | None = None, **app_kwargs: Any) -> None:
        if app is not None and app_kwargs:
            raise TypeError("pass either an app or arguments to build one, not both")
        self.app: WSGIApplication = app if app is not None else MockBedrock(**app_kwargs)

    def __enter__(self) -> MockHandle:
        _ACTIVE.push(self.app)
        return MockHandle(self.app)

    def __exit__(self, *exc_info: object) -> None:
        _ACTIVE.pop(self.app)

    def __call__(self, func: Callable[P, R]) -> Callable[P, R]:
        # functools.wraps keeps __wrapped__, so pytest still sees the fixtures it asks for.
        @functools.wraps(func)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            with self:
                return func(*args, **kwargs)

        return wrapper


# The name from when SDXL was the only model; kept so that code written then runs.
mock_sdxl = mock_image_models
