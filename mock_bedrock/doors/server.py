"""The server door: the WSGI app on a TCP port, HTTP/1.1 with keep-alive and HTTP/2.

Built on the standard library's threaded HTTP server with werkzeug's request handler (which
turns an HTTP request into a WSGI environ). werkzeug's own response writer closes every
connection (it cannot drain an unread body safely), but boto3 pools keep-alive connections,
so the response side (:meth:`_RequestHandler.run_wsgi`) is written here: it knows the
request body's length, so it can drain what the app left unread, or close when that is
unsafe. A connection that opens with the HTTP/2 preface is handed to :mod:`.http2`.

What one client may hold is bounded: a request head must arrive within HEADER_TIMEOUT of
its first byte, a body at BODY_MIN_RATE on average, an answer must leave within
SEND_TIMEOUT; past MAX_CONNECTIONS the longest-idle connection makes room, or the newcomer
gets a 503. Every request passes :mod:`.guard` (the Host and Origin checks) first. A stop
takes about STOP_WAIT whatever the connections are doing: calls waiting out a latency fault
are woken, every connection is closed, and a thread still busy after that is left behind.
"""

from __future__ import annotations

import contextlib
import errno
import http.server
import io
import ipaddress
import secrets
import socket
import socketserver
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Sequence
from typing import Any, BinaryIO, cast

from werkzeug.exceptions import ClientDisconnected
from werkzeug.serving import WSGIRequestHandler
from werkzeug.wsgi import LimitedStream

from bedrock_contract.printable import printable
from mock_bedrock.doors import date, http2
from mock_bedrock.doors.chunked import ChunkedBody
from mock_bedrock.doors.cors import origin_of
from mock_bedrock.doors.guard import HostPolicy, RequestGuard, is_loopback
from mock_bedrock.doors.limits import (
    BUSY_BODIES,
    MAX_CONNECTIONS,
    RETRY_AFTER,
    BodyBudget,
    SocketReader,
    busy_body,
    descriptor_cap,
)
from mock_bedrock.service.admin import ADMIN_TOKEN
from mock_bedrock.service.app import (
    STOPPING,
    DropConnection,
    MockBedrock,
    MockControls,
    WSGIApplication,
)
from mock_bedrock.service.call_log import CallLog

__all__ = ["MockServer"]

# A body the app left unread is discarded so the connection can carry the next request; up to
# this much, read in small pieces (never held whole). Beyond it, closing is cheaper.
DRAIN_LIMIT = 64 * 1024 * 1024
DRAIN_PIECE = 256 * 1024
# An idle keep-alive connection is closed after this long (clients reconnect transparently).
IDLE_TIMEOUT = 120.0
# Deadlines a slow client cannot stretch (module-level, so tests can lower them): the request
# line and headers within HEADER_TIMEOUT of their first byte (clients send them in one
# packet); a body within BODY_TIMEOUT plus a second per BODY_MIN_RATE bytes received (so a
# trickle is cut early, and a 25 MB body has 34 s); each write of an answer within
# SEND_TIMEOUT (a client that stops reading lets go of its thread and what it holds).
HEADER_TIMEOUT = 10.0
BODY_TIMEOUT = 10.0
BODY_MIN_RATE = 1024 * 1024
SEND_TIMEOUT = 30.0
# Request bodies being read at once, over either protocol, in bytes announced (one of
# unknown length counts as the largest Bedrock takes). The app holds a body several times
# over while it reads and parses it (and each thread's allocator keeps some): thirty 24 MB
# bodies at once took 1.4 GiB, two at a time stay near 250 MiB. Bodies up to SMALL_BODY
# (every text-to-image call) need no room; past the budget a request waits up to BODY_WAIT,
# then is answered 503.
BODY_BUDGET = 64 * 1024 * 1024
SMALL_BODY = 64 * 1024
BODY_WAIT = 30.0
# When accept() fails for want of descriptors, wait this long before the next try: the
# listener stays readable, so without a pause the accept loop spins at 100% CPU.
ACCEPT_BACKOFF = 0.05
MAX_REQUEST_LINE = 65536
# What either door answers when the app itself raises (a bug in the mock, not a fault rule).
CRASH_STATUS = "500 Internal Server Error"
CRASH_BODY = b"Internal error in the mock\n"
LINGER_SECONDS = 1.0
LINGER_BYTES = 4 * 1024 * 1024
# How long a stop waits for the connection threads once their sockets are closed. Only a
# thread inside the app (a large render, a recorder waiting on the upstream) is still busy
# by then; it is a daemon thread, left to finish (or to end with the process) unwaited.
STOP_WAIT = 1.0
# The admin token a server makes when it needs one: 32 random bytes, URL-safe base64 (the
# characters a Bearer token may hold, RFC 6750 2.1).
ADMIN_TOKEN_BYTES = 32


class _RequestHandler(WSGIRequestHandler):
    server: _ThreadedServer  # type: ignore[assignment]  # werkzeug types it as its own server
    protocol_version = "HTTP/1.1"
    # Until a request line parses, answer as HTTP/1.1: the stdlib's default (0.9) sends
    # refusals of garbage without a status line, which no client can read.
    default_request_version = "HTTP/1.1"
    server_version = "mock-bedrock"  # type: ignore[assignment]  # a property in werkzeug
    disable_nagle_algorithm = True  # headers and body go out as separate writes
    timeout = IDLE_TIMEOUT

    def setup(self) -> None:
        super().setup()
        self._reader = SocketReader(self.connection)
        self._buffered = io.BufferedReader(self._reader)
        self.rfile = self._buffered

    def handle_one_request(self) -> None:
        self.close_connection = True  # unless a request is read and answered whole
        self.server.mark_idle(self.connection)
        self._reader.expect(IDLE_TIMEOUT)
        try:
            if not self._buffered.peek(1):
                return
        except TimeoutError:
            return  # idle too long: closed without a word, as clients expect
        self._reader.expect(HEADER_TIMEOUT)
        try:
            line = self.rfile.readline(MAX_REQUEST_LINE + 1)
            if line == http2.PREFACE_FIRST_LINE:
                self._serve_http2(line)
                return
            if len(line) > MAX_REQUEST_LINE:
                self.requestline = self.request_version = self.command = ""
                self.send_error(414)
                return
            self.raw_requestline = line
            if not self.parse_request():  # it has answered 400 and marked the close
                return
        except TimeoutError:
            self.close_connection = True
            self._send_plain(408, b"The request head did not arrive in time\n")
            return
        if not self.server.mark_busy(self.connection):
            self.close_connection = True  # made room for another while its head arrived
            return
        self.run_wsgi()

    def _serve_http2(self, line: bytes) -> None:
        if not self.server.mark_busy(self.connection):
            return
        self._reader.untimed(IDLE_TIMEOUT)
        http2.serve_connection(self.connection, cast(BinaryIO, self.rfile),
                               self.server.app, line, environ_base=self._h2_environ_base(),
                               bodies=self.server.bodies)

    def send_error(self, code: int, message: str | None = None,
                   explain: str | None = None) -> None:
        self.connection.settimeout(SEND_TIMEOUT)
        super().send_error(code, message, explain)

    def _h2_environ_base(self) -> dict[str, Any]:
        return {
            "SERVER_NAME": self.server.server_address[0],
            "SERVER_PORT": str(self.server.server_address[1]),
            "REMOTE_ADDR": self.client_address[0],
            "REMOTE_PORT": self.client_address[1],
            "SERVER_SOFTWARE": self.server_version,
            **self.server.environ_extras,
        }

    def run_wsgi(self) -> None:
        environ = self.make_environ()
        environ.update(self.server.environ_extras)
        try:
            body = self._request_body(environ)
        except ValueError:
            self.close_connection = True
            self._send_plain(400, b"Bad Content-Length\n")
            return
        # A chunked body's length is unknown until it has been read.
        reserved = self.server.bodies.admit(None if body is None else body.limit)
        if reserved is None:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self._send(_busy_response(BUSY_BODIES))
            return
        try:
            self._reader.expect(BODY_TIMEOUT, bytes_per_second=BODY_MIN_RATE)
            self._run_app(environ, body)
        finally:
            self.server.bodies.release(reserved)
            # werkzeug's request keeps itself in the environ, which it refers to: a cycle
            # holding the whole body until the cyclic GC runs (the HTTP/2 door does the same).
            environ.clear()

    def _run_app(self, environ: dict[str, Any], body: LimitedStream | None) -> None:
        self._head_sent = False
        try:
            chunks = self.server.app(environ, self._start_response)
            try:
                self._write_response(environ, chunks)
            finally:
                close = getattr(chunks, "close", None)
                if close is not None:
                    close()
        except DropConnection:
            # The fault "drop the connection": no response at all, the socket just closes.
            self.close_connection = True
            return
        except (ConnectionError, TimeoutError, ClientDisconnected):
            self.close_connection = True
            return
        except Exception:
            # A bug in the app: say so on stderr, answer 500 if still possible, stay up.
            self.close_connection = True
            traceback.print_exc(file=sys.stderr)
            if not self._head_sent:
                self._send_plain(500, CRASH_BODY)
            return
        if body is not None:
            self._reader.expect(BODY_TIMEOUT, bytes_per_second=BODY_MIN_RATE)
            self._finish_body(body)

    def _request_body(self, environ: dict[str, Any]) -> LimitedStream | None:
        """Bound wsgi.input to Content-Length, so the app can't read into the next request."""
        if "wsgi.input_terminated" in environ:
            # Chunked (werkzeug marks it so): de-chunked here, extensions and trailer fields
            # taken. What the app leaves unread can't be skipped.
            environ["wsgi.input"] = ChunkedBody(cast(BinaryIO, self.rfile))
            self.close_connection = True
            return None
        length = int(environ.get("CONTENT_LENGTH") or 0)
        if length < 0:
            raise ValueError("negative Content-Length")
        body = LimitedStream(cast(BinaryIO, self.rfile), length)
        environ["wsgi.input"] = body
        return body

    def _finish_body(self, body: LimitedStream) -> None:
        """Skip what the app left of the request body, so the next request starts clean."""
        if body.is_exhausted or self.close_connection:
            return
        if body.limit - body.tell() > DRAIN_LIMIT:
            self.close_connection = True
            return
        try:
            while body.read(DRAIN_PIECE):
                pass
        except (OSError, ClientDisconnected):
            self.close_connection = True

    def _start_response(
        self, status: str, headers: list[tuple[str, str]], exc_info: Any = None
    ) -> Callable[[bytes], None]:
        if exc_info and self._head_sent:
            raise exc_info[1].with_traceback(exc_info[2])
        self._status = status
        self._headers = headers
        return self._write_unsupported

    def _write_unsupported(self, data: bytes) -> None:
        # The app never uses the legacy write() callable; refuse loudly rather than misorder.
        raise RuntimeError("mock-bedrock's server does not support WSGI write()")

    def _write_response(self, environ: dict[str, Any], chunks: Iterable[bytes]) -> None:
        iterator = iter(chunks)
        first = next(iterator, b"")  # an app may call start_response lazily
        names = {name.lower() for name, _ in self._headers}
        lines = [f"{self.protocol_version} {self._status}\r\n"]
        lines += [f"{name}: {value}\r\n" for name, value in self._headers]
        if "date" not in names:
            lines.append(f"{date.NAME}: {date.http_date()}\r\n")
        chunked = False
        if "content-length" not in names and environ["REQUEST_METHOD"] != "HEAD":
            if self.request_version == "HTTP/1.1":
                chunked = True
                lines.append("Transfer-Encoding: chunked\r\n")
            else:
                self.close_connection = True  # the end of the body is the end of the socket
        if self.close_connection:
            lines.append("Connection: close\r\n")
        lines.append("\r\n")
        head = "".join(lines).encode("latin-1")
        send = self._send
        # One write for head and first piece: fewer packets, and no Nagle/delayed-ACK stall.
        send(head + (_chunk(first) if chunked and first else first))
        self._head_sent = True
        for piece in iterator:
            if piece:
                send(_chunk(piece) if chunked else piece)
        if chunked:
            send(b"0\r\n\r\n")

    def _send(self, data: bytes) -> None:
        # Reads set their own timeouts; each write gets SEND_TIMEOUT in full.
        self.connection.settimeout(SEND_TIMEOUT)
        self.connection.sendall(data)

    def _send_plain(self, code: int, text: bytes) -> None:
        with contextlib.suppress(OSError):
            self._send(_plain_response(code, text))

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass  # calls are logged by the app's side (CallLog), both protocols alike

    def log_error(self, format: str, *args: Any) -> None:
        if self.server.log_requests:  # the arguments may quote the request: shown escaped
            super().log_error(format, *(printable(a) if isinstance(a, str) else a for a in args))


def _chunk(data: bytes) -> bytes:
    return b"%x\r\n%b\r\n" % (len(data), data)


def _plain_response(code: int, text: bytes, content_type: str = "text/plain",
                    extra: str = "") -> bytes:
    reason = http.server.BaseHTTPRequestHandler.responses.get(code, ("",))[0]
    head = (
        f"HTTP/1.1 {code} {reason}\r\n{date.NAME}: {date.http_date()}\r\n"
        f"Content-Type: {content_type}\r\n{extra}"
        f"Content-Length: {len(text)}\r\nConnection: close\r\n\r\n"
    )
    return head.encode("latin-1") + text


def _busy_response(message: str) -> bytes:
    """A 503 that clients retry (boto3 does), its message in JSON as SDKs read it."""
    return _plain_response(503, busy_body(message), "application/json",
                           f"Retry-After: {RETRY_AFTER}\r\n")


class _ThreadedServer(http.server.HTTPServer):
    """One thread per connection, at most ``max_connections`` of them; remembers its
    connections (and since when each waits for a request) so it can make room, and their
    threads, so it can stop within STOP_WAIT (the standard library's ThreadingMixIn joins
    them without a bound, or not at all)."""

    request_queue_size = 128
    # What werkzeug's handler reads from its server.
    multithread = True
    multiprocess = False
    ssl_context = None
    passthrough_errors = False

    def __init__(self, address: tuple[str, int], app: WSGIApplication, log_requests: bool,
                 max_connections: int) -> None:
        self.app = app
        self.log_requests = log_requests
        self.max_connections = descriptor_cap(max_connections)
        self.bodies = BodyBudget(BODY_BUDGET, SMALL_BODY, BODY_WAIT)
        self.stopping = threading.Event()  # set by stop(): the app's STOPPING
        # What the server tells the app in every request's environ, either protocol.
        self.environ_extras: dict[str, Any] = {STOPPING: self.stopping}
        # connection -> when it began waiting for a request (None: serving one)
        self._connections: dict[socket.socket, float | None] = {}
        self._threads: set[threading.Thread] = set()
        self._connections_lock = threading.Lock()
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        super().__init__(address, _RequestHandler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind looks the host name up in DNS, which can take seconds.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = cast(tuple[str, int], self.server_address[:2])

    def get_request(self) -> tuple[socket.socket, Any]:
        try:
            return super().get_request()
        except OSError as err:
            if err.errno in (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM):
                time.sleep(ACCEPT_BACKOFF)
            raise  # socketserver skips this round

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            room = len(self._connections) < self.max_connections or self._evict_idle()
            if room:
                self._connections[request] = time.monotonic()
        if not room:
            self._refuse(request)
            return
        thread = threading.Thread(target=self._serve_connection, args=(request, client_address),
                                  name="mock-bedrock connection", daemon=True)
        with self._connections_lock:
            self._threads.add(thread)
        thread.start()

    def _serve_connection(self, request: socket.socket, client_address: Any) -> None:
        try:
            self.finish_request(request, client_address)
        except Exception:
            self.handle_error(request, client_address)
        finally:
            self.shutdown_request(request)
            with self._connections_lock:
                self._threads.discard(threading.current_thread())

    def _evict_idle(self) -> bool:
        """End the connection that has waited longest for a request (an idle keep-alive
        one, or one whose head is late); False if every connection is serving a request.
        Clients reopen a pooled connection the server closed, transparently."""
        waiting = [(since, id(c), c) for c, since in self._connections.items()
                   if since is not None]
        if not waiting:
            return False
        _, _, oldest = min(waiting)
        del self._connections[oldest]
        with contextlib.suppress(OSError):  # its thread sees the end and returns
            oldest.shutdown(socket.SHUT_RDWR)
        return True

    def _refuse(self, request: socket.socket) -> None:
        """Answer 503 without a thread: sent without waiting (a fresh socket's buffer has
        room), what the client already sent read first so the close does not reset it."""
        message = (f"mock-bedrock is serving its limit of {self.max_connections} "
                   "connections; try again, or start it with a higher --max-connections")
        request.setblocking(False)
        with contextlib.suppress(OSError):
            request.send(_busy_response(message))
            request.recv(65536)
            request.shutdown(socket.SHUT_WR)
        self.close_request(request)

    def mark_idle(self, connection: socket.socket) -> None:
        with self._connections_lock:
            if connection in self._connections:
                self._connections[connection] = time.monotonic()

    def mark_busy(self, connection: socket.socket) -> bool:
        """Mark it as serving a request; False if it was ended to make room."""
        with self._connections_lock:
            if connection not in self._connections:
                return False
            self._connections[connection] = None
            return True

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.pop(request, None)
        # A lingering close (as nginx does): closing with unread input in the socket makes
        # the kernel send RST, which can destroy the answer (a 400, a 414) before the client
        # reads it. So: end our side, read what the client still sends, then close.
        try:
            request.shutdown(socket.SHUT_WR)
            request.settimeout(LINGER_SECONDS)
            left = LINGER_BYTES
            while left > 0 and (data := request.recv(min(left, DRAIN_PIECE))):
                left -= len(data)
        except OSError:
            pass
        self.close_request(request)

    def end_connections(self) -> None:
        with self._connections_lock:
            live = list(self._connections)
        for connection in live:
            with contextlib.suppress(OSError):  # already gone
                connection.shutdown(socket.SHUT_RDWR)

    def server_close(self) -> None:
        """Close the listener, then wait up to STOP_WAIT in all for the connection threads."""
        super().server_close()
        deadline = time.monotonic() + STOP_WAIT
        with self._connections_lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Bad input must not take the server down, nor flood stderr; the tests show it.
        if self.log_requests:
            super().handle_error(request, client_address)

    def log(self, type: str, message: str, *args: Any) -> None:
        print(message % args, file=sys.stderr)


def _unspecified(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_unspecified
    except ValueError:
        return False


class MockServer(MockControls):
    """The mock on a port: ``with MockServer() as server: server.endpoint_url``.

    ``app`` may be any WSGI application (the recorder and replayer are served this way);
    ``faults`` and ``journal`` are there when it is a :class:`MockBedrock` (the default).
    It answers to its own address, ``host`` and loopback names (and, bound to every
    interface, to any address); ``allow_hosts`` adds names (``"*"``: any).
    ``max_connections`` caps the connections served at once. ``cors_origins`` (e.g.
    ``"http://localhost:3000"``) are the web pages' origins that may call the models.

    The admin API (``/_mock/`` but health) needs ``Authorization: Bearer <admin_token>``
    when a token is given, and on any address but loopback or with signatures checked
    (``credentials``), where one is made at start unless ``admin_open`` (then none is
    needed): whoever can reach the port could otherwise read the journal and set faults,
    and behind a port mapping or proxy a peer's address says nothing of who it is.
    ``admin_token`` is the token in force once started (None: the API is open).
    """

    def __init__(
        self,
        app: WSGIApplication | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        log_requests: bool = False,
        allow_hosts: Sequence[str] = (),
        cors_origins: Sequence[str] = (),
        max_connections: int = MAX_CONNECTIONS,
        admin_token: str | None = None,
        admin_open: bool = False,
        **app_kwargs: Any,
    ) -> None:
        if app is not None and app_kwargs:
            raise TypeError("pass either an app or arguments to build one, not both")
        if admin_token is not None and admin_open:
            raise TypeError("pass either admin_token or admin_open, not both")
        if admin_token is not None and not admin_token:
            raise ValueError("admin_token is empty")
        self.admin_token = admin_token
        self.admin_open = admin_open
        self.app: WSGIApplication = app if app is not None else MockBedrock(**app_kwargs)
        self.host = host
        self.port = port
        self.log_requests = log_requests
        self.allow_hosts = tuple(allow_hosts)
        self.cors_origins = tuple(map(origin_of, cors_origins))  # ValueError at once
        if max_connections < 1:
            raise ValueError("max_connections must be at least 1")
        self.max_connections = max_connections
        self._server: _ThreadedServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def endpoint_url(self) -> str:
        """The URL a client on this machine uses: bound to every interface (0.0.0.0, ::),
        the loopback address of the same family, as no client can connect to those."""
        host, port = self._bound()
        if _unspecified(host):
            host = "::1" if ":" in host else "127.0.0.1"
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{port}"

    @property
    def all_interfaces(self) -> bool:
        """Whether it listens on every interface (bound to 0.0.0.0 or ::)."""
        return _unspecified(self._bound()[0])

    def _bound(self) -> tuple[str, int]:
        if self._server is None:
            raise RuntimeError("the server is not running; call start() first")
        return cast(tuple[str, int], self._server.server_address[:2])

    def start(self) -> MockServer:
        """Bind (port 0 picks a free one) and serve on a background thread."""
        if self._server is not None:
            raise RuntimeError("the server is already running")
        server = _ThreadedServer((self.host, self.port), self.app, self.log_requests,
                                 self.max_connections)
        if self.admin_token is None and not self.admin_open and self._admin_exposed(server):
            self.admin_token = secrets.token_urlsafe(ADMIN_TOKEN_BYTES)
        if self.admin_token is not None:
            server.environ_extras[ADMIN_TOKEN] = self.admin_token
        policy = HostPolicy((self.host, str(server.server_address[0])), self.allow_hosts)
        server.app = RequestGuard(self.app, policy, self.cors_origins)
        if self.log_requests:  # outermost: a call the guard refuses is logged too
            server.app = CallLog(server.app)
        self._server = server
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name=f"mock-bedrock {self.endpoint_url}",
            daemon=True,
        )
        self._thread.start()
        return self

    def _admin_exposed(self, server: _ThreadedServer) -> bool:
        """Whether clients other than this machine's own may reach the admin API, or the
        model calls need a signature the admin calls would then do without."""
        bound = str(server.server_address[0])
        return not is_loopback(bound) or bool(getattr(self.app, "checks_signatures", False))

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.stopping.set()  # calls waiting out a latency fault end now
        server.bodies.close()  # requests waiting for room to read their body give up
        server.shutdown()  # the accept loop returns
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        server.end_connections()  # every connection's thread sees its socket end
        server.server_close()  # closes the listener; waits STOP_WAIT at most for the threads

    def __enter__(self) -> MockServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
