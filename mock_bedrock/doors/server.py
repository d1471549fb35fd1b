"""The server door: the WSGI app on a TCP port, HTTP/1.1 with keep-alive and HTTP/2.

Built on the standard library's threaded HTTP server with werkzeug's request handler (which
turns an HTTP request into a WSGI environ). werkzeug's own response writer closes every
connection (it cannot drain an unread body safely), but boto3 pools keep-alive connections,
so the response side (:meth:`_RequestHandler.run_wsgi`) is written here: it knows the
request body's length, so it can drain what the app left unread, or close when that is
unsafe. A connection that opens with the HTTP/2 preface is handed to :mod:`.http2`.
"""

from __future__ import annotations

import contextlib
import http.server
import ipaddress
import socket
import socketserver
import sys
import threading
import traceback
from collections.abc import Callable, Iterable
from typing import Any, BinaryIO, cast

from werkzeug.exceptions import ClientDisconnected
from werkzeug.serving import WSGIRequestHandler
from werkzeug.wsgi import LimitedStream

from mock_bedrock.doors import http2
from mock_bedrock.service.app import DropConnection, MockBedrock, MockControls, WSGIApplication

__all__ = ["MockServer"]

# A body the app left unread is discarded so the connection can carry the next request; up to
# this much, read in small pieces (never held whole). Beyond it, closing is cheaper.
DRAIN_LIMIT = 64 * 1024 * 1024
DRAIN_PIECE = 256 * 1024
# An idle keep-alive connection is closed after this long (clients reconnect transparently).
IDLE_TIMEOUT = 120.0
MAX_REQUEST_LINE = 65536
# What either door answers when the app itself raises (a bug in the mock, not a fault rule).
CRASH_STATUS = "500 Internal Server Error"
CRASH_BODY = b"Internal error in the mock\n"
LINGER_SECONDS = 1.0
LINGER_BYTES = 4 * 1024 * 1024


class _RequestHandler(WSGIRequestHandler):
    server: _ThreadedServer  # type: ignore[assignment]  # werkzeug types it as its own server
    protocol_version = "HTTP/1.1"
    # Until a request line parses, answer as HTTP/1.1: the stdlib's default (0.9) sends
    # refusals of garbage without a status line, which no client can read.
    default_request_version = "HTTP/1.1"
    server_version = "mock-bedrock"  # type: ignore[assignment]  # a property in werkzeug
    disable_nagle_algorithm = True  # headers and body go out as separate writes
    timeout = IDLE_TIMEOUT

    def handle_one_request(self) -> None:
        line = self.rfile.readline(MAX_REQUEST_LINE + 1)
        if not line:
            self.close_connection = True
            return
        if line == http2.PREFACE_FIRST_LINE:
            self.close_connection = True
            http2.serve_connection(self.connection, cast(BinaryIO, self.rfile),
                                   self.server.app, line, environ_base=self._h2_environ_base())
            return
        if len(line) > MAX_REQUEST_LINE:
            self.requestline = self.request_version = self.command = ""
            self.send_error(414)
            self.close_connection = True
            return
        self.raw_requestline = line
        if self.parse_request():  # on failure it has answered 400 and marked the close
            self.run_wsgi()

    def _h2_environ_base(self) -> dict[str, Any]:
        return {
            "SERVER_NAME": self.server.server_address[0],
            "SERVER_PORT": str(self.server.server_address[1]),
            "REMOTE_ADDR": self.client_address[0],
            "REMOTE_PORT": self.client_address[1],
            "SERVER_SOFTWARE": self.server_version,
        }

    def run_wsgi(self) -> None:
        environ = self.make_environ()
        try:
            body = self._request_body(environ)
        except ValueError:
            self.close_connection = True
            self._send_plain(400, b"Bad Content-Length\n")
            return
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
        if self.server.log_requests:
            self.log_request(self._status.split(None, 1)[0], "-")
        if body is not None:
            self._finish_body(body)

    def _request_body(self, environ: dict[str, Any]) -> LimitedStream | None:
        """Bound wsgi.input to Content-Length, so the app can't read into the next request."""
        if "wsgi.input_terminated" in environ:
            # Chunked (werkzeug de-chunks it): what the app leaves unread can't be skipped.
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
        send = self.connection.sendall
        # One write for head and first piece: fewer packets, and no Nagle/delayed-ACK stall.
        send(head + (_chunk(first) if chunked and first else first))
        self._head_sent = True
        for piece in iterator:
            if piece:
                send(_chunk(piece) if chunked else piece)
        if chunked:
            send(b"0\r\n\r\n")

    def _send_plain(self, code: int, text: bytes) -> None:
        reason = http.server.BaseHTTPRequestHandler.responses.get(code, ("",))[0]
        head = (
            f"HTTP/1.1 {code} {reason}\r\nContent-Type: text/plain\r\n"
            f"Content-Length: {len(text)}\r\nConnection: close\r\n\r\n"
        )
        with contextlib.suppress(OSError):
            self.connection.sendall(head.encode("latin-1") + text)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        if self.server.log_requests:
            super().log_request(code, size)

    def log_error(self, format: str, *args: Any) -> None:
        if self.server.log_requests:
            super().log_error(format, *args)


def _chunk(data: bytes) -> bytes:
    return b"%x\r\n%b\r\n" % (len(data), data)


class _ThreadedServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    """One thread per connection; remembers its connections so stop() can end them."""

    daemon_threads = False
    block_on_close = True  # server_close() joins every connection thread
    request_queue_size = 128
    # What werkzeug's handler reads from its server.
    multithread = True
    multiprocess = False
    ssl_context = None
    passthrough_errors = False

    def __init__(self, address: tuple[str, int], app: WSGIApplication, log_requests: bool) -> None:
        self.app = app
        self.log_requests = log_requests
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        super().__init__(address, _RequestHandler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind looks the host name up in DNS, which can take seconds.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = cast(tuple[str, int], self.server_address[:2])

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
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
    """

    def __init__(
        self,
        app: WSGIApplication | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        log_requests: bool = False,
        **app_kwargs: Any,
    ) -> None:
        if app is not None and app_kwargs:
            raise TypeError("pass either an app or arguments to build one, not both")
        self.app: WSGIApplication = app if app is not None else MockBedrock(**app_kwargs)
        self.host = host
        self.port = port
        self.log_requests = log_requests
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
        self._server = _ThreadedServer((self.host, self.port), self.app, self.log_requests)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name=f"mock-bedrock {self.endpoint_url}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()  # the accept loop returns
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        server.end_connections()  # idle keep-alive connections end their threads
        server.server_close()  # closes the listener and joins the connection threads

    def __enter__(self) -> MockServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
