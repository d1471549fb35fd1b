"""HTTP/2 over cleartext with prior knowledge: each stream runs through the WSGI app.

The ``h2`` library does the protocol (framing, HPACK, flow-control accounting); it does no
I/O. The I/O around it is written here, since no maintained library bridges h2 to WSGI
without an async framework:

- the connection's thread reads the socket and feeds h2 (and so sees window updates while
  responses are being written);
- each request stream runs the app on a worker thread, its body piped in as it arrives and
  credited to the client as the app reads it (:mod:`.http2_body`);
- one writer thread owns the socket's send side, so nobody holding the h2 state lock ever
  blocks on a slow peer; what waits for it is bounded (:class:`.http2_limits.Outbox`).

What a connection may cost (streams, resets, stalls, bytes waiting) is in :mod:`.http2_limits`;
its request bodies draw on the server's budget for bodies read at once, as HTTP/1.1's do
(:class:`.limits.BodyBudget`).
"""

from __future__ import annotations

import contextlib
import functools
import socket
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from typing import Any, BinaryIO
from urllib.parse import unquote

import h2.config
import h2.connection
import h2.errors
import h2.events
import h2.exceptions
import h2.settings

from mock_bedrock.doors import date, http2_limits as limits
from mock_bedrock.doors.http2_body import BodyPipe, LargeBodyTurn
from mock_bedrock.doors.limits import BUSY_BODIES, RETRY_AFTER, BodyBudget, busy_body
from mock_bedrock.service.app import DropConnection, StartResponse, WSGIApplication

__all__ = ["PREFACE_FIRST_LINE", "serve_connection"]

# An HTTP/1.1 server reads this as a request line; it is the start of the HTTP/2 preface.
PREFACE_FIRST_LINE = b"PRI * HTTP/2.0\r\n"
DEFAULT_WINDOW = 65535
READ_SIZE = 65536
# Headers that describe an HTTP/1.1 connection and are forbidden in HTTP/2 (RFC 9113 8.2.2).
HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-connection", "transfer-encoding",
                        "upgrade"})
ErrorCodes = h2.errors.ErrorCodes


class _H2Connection(h2.connection.H2Connection):
    """h2's connection, minus one strictness: a peer's GOAWAY does not close it at once.

    RFC 9113 (6.8) lets the streams a GOAWAY leaves open run to completion, and clients rely
    on it: the AWS SDK for JavaScript closes its session (GOAWAY, then a WINDOW_UPDATE) as
    soon as a response starts, while it still reads an event stream. h2 moves to CLOSED on
    GOAWAY, after which it refuses those frames and every further byte of the response; so
    the GOAWAY is noted and the connection stays open until the peer closes the socket.
    """

    peer_went_away = False

    def _receive_goaway_frame(self, frame: Any) -> tuple[list[Any], list[Any]]:
        self.peer_went_away = True
        return [], []


class _StreamGone(Exception):
    """The peer reset the stream, it stalled, or the connection ended during the answer."""


class _Stream:
    def __init__(self, stream_id: int, headers: list[tuple[bytes, bytes]],
                 body: BodyPipe) -> None:
        self.id = stream_id
        self.headers = headers
        self.body = body
        self.reset = False  # by the client
        self.client_ended = False  # the client sent END_STREAM
        # When the answer last moved or the client last opened its window for it.
        self.flow_at = time.monotonic()


class _Connection:
    def __init__(self, sock: socket.socket, rfile: BinaryIO, app: WSGIApplication,
                 environ_base: dict[str, Any], bodies: BodyBudget) -> None:
        self._sock = sock
        self._rfile = rfile
        self._app = app
        self._environ_base = environ_base
        self._bodies = bodies
        config = h2.config.H2Configuration(client_side=False, header_encoding=None)
        self._h2 = _H2Connection(config=config)
        # Guards self._h2, self._streams, self._closed, self._resets, each stream's flags.
        self._state = threading.Condition()
        self._streams: dict[int, _Stream] = {}  # admitted, answer not finished
        self._draining: dict[int, _Stream] = {}  # answered, the client still sending
        self._closed = False
        self._resets = limits.ResetBudget()
        self._outbox = limits.Outbox()
        self._large_body_turn = LargeBodyTurn()

    # --- the connection thread ----------------------------------------------------------

    def serve(self, already_read: bytes) -> None:
        writer = threading.Thread(target=self._write_loop, name="mock-bedrock h2 writer")
        writer.start()
        workers = limits.Workers("mock-bedrock h2 stream")
        try:
            with self._state:
                self._h2.local_settings = h2.settings.Settings(
                    client=False,
                    initial_values={
                        h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS: limits.MAX_STREAMS,
                        h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: limits.STREAM_WINDOW,
                    },
                )
                self._h2.initiate_connection()
                # The connection window can only grow by an update (RFC 9113 6.9.2).
                self._h2.increment_flow_control_window(limits.CONNECTION_WINDOW - DEFAULT_WINDOW)
                self._flush()
            data = already_read
            while data and self._receive(data, workers):
                # Answers wait at OUTBOX_LIMIT; what piles up past twice that is frames the
                # client makes us send (pings, resets...) and does not read: it is not read
                # from either until it reads (or is dropped).
                if not self._outbox.wait_for_room(2 * limits.OUTBOX_LIMIT):
                    self.drop()
                    break
                try:
                    data = self._rfile.read1(READ_SIZE)  # type: ignore[attr-defined]
                except OSError:
                    break
        finally:
            with self._state:
                self._closed = True
                for stream in self._streams.values():
                    stream.body.end(aborted=True)
                self._state.notify_all()
            self._outbox.closing()
            workers.shutdown()  # streams not started never will be
            self._outbox.end()
            if not self._outbox.drain():
                self.drop()
            writer.join()

    def _receive(self, data: bytes, workers: limits.Workers) -> bool:
        """Feed bytes to h2 and act on its events; False when the connection is over."""
        with self._state:
            try:
                events = self._h2.receive_data(data)
            except h2.exceptions.ProtocolError:
                return self._end_connection()  # h2 has queued a GOAWAY naming the error
            admitted: list[_Stream] = []
            for event in events:
                if isinstance(event, h2.events.RequestReceived):
                    if (stream := self._admit(event)) is not None:
                        admitted.append(stream)
                elif isinstance(event, h2.events.DataReceived):
                    self._on_data(event)
                elif isinstance(event, h2.events.StreamEnded):
                    self._draining.pop(event.stream_id, None)  # type: ignore[arg-type]
                    if (ended := self._streams.get(event.stream_id)) is not None:  # type: ignore[arg-type]
                        ended.client_ended = True
                        ended.body.end()
                elif isinstance(event, h2.events.StreamReset):
                    if not self._on_reset(event.stream_id):  # type: ignore[arg-type]
                        self._h2.close_connection(ErrorCodes.ENHANCE_YOUR_CALM,
                                                  b"streams reset faster than answered")
                        return self._end_connection()
                elif isinstance(event, h2.events.WindowUpdated):
                    self._on_credit(event.stream_id)  # type: ignore[arg-type]
                elif isinstance(event, h2.events.RemoteSettingsChanged):
                    self._on_credit(0)  # maybe every stream's window
                elif isinstance(event, h2.events.ConnectionTerminated):
                    return self._end_connection()
            # Started once every event read is known: a stream reset in the same read (as
            # in the rapid-reset attack) is then skipped, not worked out.
            for stream in admitted:
                workers.submit(functools.partial(self._respond, stream))
            self._flush()
            self._state.notify_all()  # window updates, resets: wake blocked senders
        return True

    def _end_connection(self) -> bool:
        self._closed = True
        self._flush()
        return False

    def _admit(self, event: h2.events.RequestReceived) -> _Stream | None:
        stream_id: int = event.stream_id  # type: ignore[assignment]
        if len(self._streams) >= limits.MAX_STREAMS:
            # Counted are the streams whose answer is not finished, reset ones included; h2's
            # own count (of streams open in the protocol) forgets a stream once it is reset.
            # (Closed already if the client reset it in the same read.)
            with contextlib.suppress(h2.exceptions.StreamClosedError):
                self._h2.reset_stream(stream_id, ErrorCodes.REFUSED_STREAM)
            return None
        body = BodyPipe(lambda size: self._credit(stream_id, size),
                        lambda: self._widen(stream_id), self._large_body_turn)
        stream = _Stream(stream_id, list(event.headers), body)  # type: ignore[arg-type]
        self._streams[stream_id] = stream
        if event.stream_ended is not None:
            stream.client_ended = True
            stream.body.end()
        return stream

    def _on_reset(self, stream_id: int) -> bool:
        """The client reset a stream; False once it resets more than any client would."""
        self._draining.pop(stream_id, None)
        if (stream := self._streams.get(stream_id)) is None:
            return True  # answered already: nothing was wasted
        stream.reset = True
        stream.body.end(aborted=True)
        return self._resets.spend()

    def _on_data(self, event: h2.events.DataReceived) -> None:
        stream_id: int = event.stream_id  # type: ignore[assignment]
        data: bytes = event.data or b""  # type: ignore[assignment]
        stream = self._streams.get(stream_id) or self._draining.get(stream_id)
        # Padding, and whatever the app will never read, is credited on arrival; the rest
        # as the app reads it.
        unread: int = event.flow_controlled_length - len(data)  # type: ignore[operator]
        unread += stream.body.feed(data) if stream is not None else len(data)
        if unread:
            self._acknowledge(stream_id, unread)
        if stream_id in self._draining and self._draining[stream_id].body.over_limit:
            del self._draining[stream_id]
            self._stop_sending(stream_id)

    def _on_credit(self, stream_id: int) -> None:
        now = time.monotonic()
        if stream_id:
            if (stream := self._streams.get(stream_id)) is not None:
                stream.flow_at = now
        else:  # the connection's window, or every stream's initial one
            for stream in self._streams.values():
                stream.flow_at = now

    def _credit(self, stream_id: int, size: int) -> None:
        """The app read ``size`` bytes of the stream's body (called on its worker thread)."""
        with self._state:
            if not self._closed:
                self._acknowledge(stream_id, size)
                self._flush()

    def _widen(self, stream_id: int) -> None:
        """The app started reading the stream's body (called on its worker thread)."""
        with self._state:
            if not self._closed:
                # The stream may be closed already, or half-closed with its body all sent.
                with contextlib.suppress(h2.exceptions.H2Error, KeyError):
                    self._h2.increment_flow_control_window(
                        limits.READING_WINDOW - limits.STREAM_WINDOW, stream_id)
                    self._flush()

    def _acknowledge(self, stream_id: int, size: int) -> None:
        # On a stream already closed only the connection window is credited, which is right.
        with contextlib.suppress(h2.exceptions.StreamClosedError):
            self._h2.acknowledge_received_data(size, stream_id)

    # --- the writer thread ----------------------------------------------------------------

    def _flush(self) -> None:
        """Hand h2's pending output to the writer (called with the state lock held, so the
        order of bytes on the wire is the order h2 produced them)."""
        data = self._h2.data_to_send()
        if data:
            self._outbox.put(data)

    def _write_loop(self) -> None:
        while (data := self._outbox.get()) is not None:
            view = memoryview(data)
            try:
                while view:
                    size = self._sock.send(view)
                    self._outbox.sent(size)
                    view = view[size:]
            except OSError:
                self._outbox.broken()
                self.drop()

    def drop(self) -> None:
        """Close the socket under everyone: the peer sees the connection drop."""
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)

    # --- a stream's worker thread ---------------------------------------------------------

    def _respond(self, stream: _Stream) -> None:
        started: list[Any] = []

        def start_response(status: str, headers: list[tuple[str, str]],
                           exc_info: Any = None) -> Callable[[bytes], None]:
            started[:] = [status, headers]
            return _write_unsupported

        head_sent = False
        environ: dict[str, Any] = {}
        reserved: int | None = 0
        try:
            if stream.reset:  # reset while it waited for a worker: not worked out at all
                return
            environ = self._environ(stream)
            reserved = self._bodies.admit(_announced(stream, environ))
            app = self._app if reserved is not None else _busy
            chunks = app(environ, start_response)
            try:
                pieces: Iterator[bytes] = iter(chunks)
                first = next(pieces, b"")
                self._send_head(stream, *started)
                head_sent = True
                self._send_body(stream, first)
                for piece in pieces:
                    self._send_body(stream, piece)
                self._end(stream)
            finally:
                close = getattr(chunks, "close", None)
                if close is not None:
                    close()
        except DropConnection:
            # The app's "no answer at all": a fault rule's drops the connection, as over
            # HTTP/1.1; after a body the client reset or let stall, only the stream ends.
            if stream.reset or stream.body.stalled:
                self._reset(stream, ErrorCodes.CANCEL)
            else:
                self.drop()
        except (_StreamGone, ConnectionError):
            pass
        except Exception:
            if stream.body.stalled:  # an app that lets the stalled read's error through
                self._reset(stream, ErrorCodes.CANCEL)
            else:
                traceback.print_exc(file=sys.stderr)
                self._fail(stream, head_sent)
        finally:
            if reserved:
                self._bodies.release(reserved)
            # werkzeug's request keeps itself in the environ, which it refers to: a cycle
            # holding the whole body, which only the cyclic GC (maybe much later) would free.
            environ.clear()
            dropped = stream.body.discard()
            with self._state:
                self._streams.pop(stream.id, None)
                if dropped and not self._closed:
                    self._acknowledge(stream.id, dropped)
                    self._flush()

    def _environ(self, stream: _Stream) -> dict[str, Any]:
        pseudo = {k.decode("latin-1"): v.decode("latin-1")
                  for k, v in stream.headers if k.startswith(b":")}
        target = pseudo.get(":path", "/")
        path, _, query = target.partition("?")
        environ: dict[str, Any] = {
            **self._environ_base,
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": pseudo.get(":scheme", "http"),
            "wsgi.input": stream.body,
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
            "REQUEST_METHOD": pseudo.get(":method", "GET"),
            "SCRIPT_NAME": "",
            # The WSGI "bytes in latin-1 str" convention, as werkzeug's server does it.
            "PATH_INFO": unquote(path).encode("utf-8").decode("latin-1"),
            "QUERY_STRING": query,
            "REQUEST_URI": target,
            "RAW_URI": target,
            "SERVER_PROTOCOL": "HTTP/2",
        }
        if ":authority" in pseudo:
            environ["HTTP_HOST"] = pseudo[":authority"]
        for raw_name, raw_value in stream.headers:
            name, value = raw_name.decode("latin-1"), raw_value.decode("latin-1")
            if name.startswith(":") or "_" in name:  # "_" would alias "-" (as werkzeug does)
                continue
            if name == "host" and ":authority" in pseudo:
                continue  # the same value (h2 refuses a request where they differ): Host once
            key = name.upper().replace("-", "_")
            if key not in ("CONTENT_TYPE", "CONTENT_LENGTH"):
                key = "HTTP_" + key
            environ[key] = f"{environ[key]}, {value}" if key in environ else value
        if "CONTENT_LENGTH" not in environ:
            environ["wsgi.input_terminated"] = True  # read to the end of the stream
        return environ

    def _send_head(self, stream: _Stream, status: str, headers: list[tuple[str, str]]) -> None:
        fields = [(":status", status.split(None, 1)[0])]
        fields += [(k.lower(), v) for k, v in headers if k.lower() not in HOP_BY_HOP]
        if not any(name == "date" for name, _ in fields):
            fields.append(("date", date.http_date()))
        with self._state, self._alive(stream):
            self._h2.send_headers(stream.id, fields)
            self._flush()

    def _send_body(self, stream: _Stream, data: bytes) -> None:
        view = memoryview(data)
        while view:
            if not self._outbox.wait_for_room():
                self.drop()  # the client has read nothing for SEND_STALL_TIMEOUT
                raise _StreamGone
            with self._state, self._alive(stream):
                while (window := self._h2.local_flow_control_window(stream.id)) <= 0:
                    left = stream.flow_at + limits.SEND_STALL_TIMEOUT - time.monotonic()
                    if left <= 0:  # the client keeps the window shut: give the answer up
                        self._h2.reset_stream(stream.id, ErrorCodes.CANCEL)
                        self._flush()
                        raise _StreamGone
                    self._state.wait(left)  # for the peer's WINDOW_UPDATE
                    self._check_alive(stream)
                size = min(window, len(view), self._h2.max_outbound_frame_size,
                           limits.SEND_PIECE)
                self._h2.send_data(stream.id, view[:size].tobytes())
                stream.flow_at = time.monotonic()
                self._flush()
            view = view[size:]

    def _end(self, stream: _Stream) -> None:
        with self._state, self._alive(stream):
            self._h2.end_stream(stream.id)
            if not stream.client_ended:
                if stream.body.over_limit:
                    self._stop_sending(stream.id)
                else:  # the rest of the body is dropped as it comes, up to the limit
                    self._draining[stream.id] = stream
            self._flush()

    def _stop_sending(self, stream_id: int) -> None:
        """The answer is complete and the client still sends a body past the limit: tell it
        to stop (RFC 9113 8.1: RST_STREAM with NO_ERROR); nothing more of it would be read.
        Only past the limit: some clients (httpx) take this reset for an error and lose the
        answer, so a body the app merely left unread is dropped as it comes instead."""
        with contextlib.suppress(h2.exceptions.StreamClosedError):
            self._h2.reset_stream(stream_id, ErrorCodes.NO_ERROR)

    def _reset(self, stream: _Stream, code: ErrorCodes) -> None:
        with self._state:
            if self._closed or stream.reset:
                return
            with contextlib.suppress(h2.exceptions.H2Error):
                self._h2.reset_stream(stream.id, code)
                self._flush()

    def _fail(self, stream: _Stream, head_sent: bool) -> None:
        with self._state:
            if self._closed or stream.reset:
                return
            try:
                if head_sent:
                    self._h2.reset_stream(stream.id, ErrorCodes.INTERNAL_ERROR)
                else:
                    self._h2.send_headers(stream.id, [(":status", "500"),
                                                      ("date", date.http_date())],
                                          end_stream=True)
            except h2.exceptions.H2Error:
                return
            self._flush()

    def _check_alive(self, stream: _Stream) -> None:
        if self._closed or stream.reset:
            raise _StreamGone

    @contextlib.contextmanager
    def _alive(self, stream: _Stream) -> Iterator[None]:
        """Around h2 calls on the stream's answer (under the state lock): it goes no further
        once the stream or the connection is gone, however h2 found out."""
        self._check_alive(stream)
        try:
            yield
        except h2.exceptions.StreamClosedError:
            raise _StreamGone from None


def _write_unsupported(data: bytes) -> None:
    raise RuntimeError("mock-bedrock's server does not support WSGI write()")


def _announced(stream: _Stream, environ: dict[str, Any]) -> int | None:
    """The body's length if known: all of it has come, or its content-length (which h2
    holds the client to)."""
    if stream.client_ended:
        return stream.body.received
    try:
        return int(environ["CONTENT_LENGTH"])
    except (KeyError, ValueError):
        return None


def _busy(environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
    """The answer to a request with no room to read its body, as over HTTP/1.1; the rest of
    the body is dropped as it comes."""
    body = busy_body(BUSY_BODIES)
    start_response("503 Service Unavailable", [
        ("Content-Type", "application/json"), ("Retry-After", RETRY_AFTER),
        ("Content-Length", str(len(body)))])
    return [body]


def serve_connection(sock: socket.socket, rfile: BinaryIO, app: WSGIApplication,
                     already_read: bytes, *, environ_base: dict[str, Any],
                     bodies: BodyBudget) -> None:
    """Serve one HTTP/2 connection until it ends; ``already_read`` is what was read off the
    socket before the preface was recognised (the rest of the stream is in ``rfile``).
    Its request bodies draw on ``bodies``, the server's budget."""
    _Connection(sock, rfile, app, environ_base, bodies).serve(already_read)
