"""HTTP/2 over cleartext with prior knowledge: each stream runs through the WSGI app.

The ``h2`` library does the protocol (framing, HPACK, flow-control accounting); it does no
I/O. The I/O around it is written here, since no maintained library bridges h2 to WSGI
without an async framework:

- the connection's thread reads the socket and feeds h2 (and so sees window updates while
  responses are being written);
- each request stream runs the app on a worker thread, its body piped in as it arrives
  (an app that refuses a body early never makes the server hold all of it);
- one writer thread owns the socket's send side, so nobody holding the h2 state lock ever
  blocks on a slow peer.
"""

from __future__ import annotations

import contextlib
import io
import queue
import socket
import sys
import threading
import traceback
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, BinaryIO
from urllib.parse import unquote

import h2.config
import h2.connection
import h2.errors
import h2.events
import h2.exceptions
import h2.settings

from mock_bedrock.service.app import DropConnection, WSGIApplication

__all__ = ["PREFACE_FIRST_LINE", "serve_connection"]

# An HTTP/1.1 server reads this as a request line; it is the start of the HTTP/2 preface.
PREFACE_FIRST_LINE = b"PRI * HTTP/2.0\r\n"
WORKERS_PER_CONNECTION = 16
MAX_STREAMS = 100
# Bodies are piped to the app and credited on arrival, so the windows don't bound memory;
# wide windows spare clients the round trips (and some clients' bugs) of waiting for credit.
DEFAULT_WINDOW = 65535
STREAM_WINDOW = 1024 * 1024
CONNECTION_WINDOW = 16 * 1024 * 1024
READ_SIZE = 65536
# Headers that describe an HTTP/1.1 connection and are forbidden in HTTP/2 (RFC 9113 8.2.2).
HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-connection", "transfer-encoding",
                        "upgrade"})



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
    """The peer reset the stream or the connection ended while a response was being sent."""


class _BodyPipe(io.RawIOBase):
    """A request body as wsgi.input: filled by the connection thread, read by the app."""

    def __init__(self) -> None:
        self._chunks: deque[bytes] = deque()
        self._ended = False
        self._aborted = False
        self._discarding = False
        self._ready = threading.Condition()

    def feed(self, data: bytes) -> None:
        with self._ready:
            if not self._discarding:
                self._chunks.append(data)
                self._ready.notify_all()

    def end(self, *, aborted: bool = False) -> None:
        with self._ready:
            self._ended = True
            self._aborted = self._aborted or aborted
            self._ready.notify_all()

    def discard(self) -> None:
        """The response is done: whatever else the client sends is dropped on arrival."""
        with self._ready:
            self._discarding = True
            self._chunks.clear()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        with self._ready:
            while not self._chunks and not self._ended:
                self._ready.wait()
            if not self._chunks:
                if self._aborted:
                    raise ConnectionResetError("the client reset the stream mid-body")
                return 0
            chunk = self._chunks.popleft()
            size = min(len(buffer), len(chunk))
            buffer[:size] = chunk[:size]
            if size < len(chunk):
                self._chunks.appendleft(chunk[size:])
            return size


class _Stream:
    def __init__(self, stream_id: int, headers: list[tuple[bytes, bytes]]) -> None:
        self.id = stream_id
        self.headers = headers
        self.body = _BodyPipe()
        self.reset = False


class _Connection:
    def __init__(self, sock: socket.socket, rfile: BinaryIO, app: WSGIApplication,
                 environ_base: dict[str, Any]) -> None:
        self._sock = sock
        self._rfile = rfile
        self._app = app
        self._environ_base = environ_base
        config = h2.config.H2Configuration(client_side=False, header_encoding=None)
        self._h2 = _H2Connection(config=config)
        self._state = threading.Condition()  # guards self._h2, self._streams, self._closed
        self._streams: dict[int, _Stream] = {}
        self._closed = False
        self._outbox: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()

    # --- the connection thread ----------------------------------------------------------

    def serve(self, already_read: bytes) -> None:
        writer = threading.Thread(target=self._write_loop, name="mock-bedrock h2 writer")
        writer.start()
        workers = ThreadPoolExecutor(WORKERS_PER_CONNECTION, "mock-bedrock h2 stream")
        try:
            with self._state:
                self._h2.local_settings = h2.settings.Settings(
                    client=False,
                    initial_values={
                        h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS: MAX_STREAMS,
                        h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: STREAM_WINDOW,
                    },
                )
                self._h2.initiate_connection()
                # The connection window can only grow by an update (RFC 9113 6.9.2).
                self._h2.increment_flow_control_window(CONNECTION_WINDOW - DEFAULT_WINDOW)
                self._flush()
            data = already_read
            while data and self._receive(data, workers):
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
            workers.shutdown(wait=True)
            self._outbox.put(None)
            writer.join()

    def _receive(self, data: bytes, workers: ThreadPoolExecutor) -> bool:
        """Feed bytes to h2 and act on its events; False when the connection is over."""
        with self._state:
            try:
                events = self._h2.receive_data(data)
            except h2.exceptions.ProtocolError:
                self._flush()  # h2 has queued a GOAWAY naming the error
                return False
            for event in events:
                if isinstance(event, h2.events.RequestReceived):
                    stream = _Stream(event.stream_id, list(event.headers))  # type: ignore[arg-type]
                    self._streams[event.stream_id] = stream
                    workers.submit(self._respond, stream)
                    if event.stream_ended is not None:
                        stream.body.end()
                elif isinstance(event, h2.events.DataReceived):
                    self._on_data(event)
                elif isinstance(event, h2.events.StreamEnded):
                    if (ended := self._streams.get(event.stream_id)) is not None:  # type: ignore[arg-type]
                        ended.body.end()
                elif isinstance(event, h2.events.StreamReset):
                    if (reset := self._streams.get(event.stream_id)) is not None:  # type: ignore[arg-type]
                        reset.reset = True
                        reset.body.end(aborted=True)
                elif isinstance(event, h2.events.ConnectionTerminated):
                    self._flush()
                    return False
            self._flush()
            self._state.notify_all()  # window updates, resets: wake blocked senders
        return True

    def _on_data(self, event: h2.events.DataReceived) -> None:
        stream = self._streams.get(event.stream_id)  # type: ignore[arg-type]
        if stream is not None and event.data:
            stream.body.feed(event.data)
        # Credit the window straight away: the body is piped, not held back by flow control.
        # On a stream already closed only the connection window is credited, which is right.
        with contextlib.suppress(h2.exceptions.StreamClosedError):
            self._h2.acknowledge_received_data(event.flow_controlled_length,  # type: ignore[arg-type]
                                               event.stream_id)  # type: ignore[arg-type]

    # --- the writer thread ----------------------------------------------------------------

    def _flush(self) -> None:
        """Hand h2's pending output to the writer (called with the state lock held, so the
        order of bytes on the wire is the order h2 produced them)."""
        data = self._h2.data_to_send()
        if data:
            self._outbox.put(data)

    def _write_loop(self) -> None:
        while (data := self._outbox.get()) is not None:
            try:
                self._sock.sendall(data)
            except OSError:
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
        try:
            chunks = self._app(self._environ(stream), start_response)
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
            self.drop()
        except (_StreamGone, ConnectionError):
            pass
        except Exception:
            traceback.print_exc(file=sys.stderr)
            self._fail(stream, head_sent)
        finally:
            stream.body.discard()
            with self._state:
                self._streams.pop(stream.id, None)

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
        with self._state:
            self._check_alive(stream)
            self._h2.send_headers(stream.id, fields)
            self._flush()

    def _send_body(self, stream: _Stream, data: bytes) -> None:
        view = memoryview(data)
        while view:
            with self._state:
                while True:
                    self._check_alive(stream)
                    window = self._h2.local_flow_control_window(stream.id)
                    if window > 0:
                        break
                    self._state.wait()  # for the peer's WINDOW_UPDATE
                size = min(window, len(view), self._h2.max_outbound_frame_size)
                self._h2.send_data(stream.id, view[:size].tobytes())
                self._flush()
            view = view[size:]

    def _end(self, stream: _Stream) -> None:
        with self._state:
            self._check_alive(stream)
            self._h2.end_stream(stream.id)
            self._flush()

    def _fail(self, stream: _Stream, head_sent: bool) -> None:
        with self._state:
            if self._closed or stream.reset:
                return
            try:
                if head_sent:
                    self._h2.reset_stream(stream.id, h2.errors.ErrorCodes.INTERNAL_ERROR)
                else:
                    self._h2.send_headers(stream.id, [(":status", "500")], end_stream=True)
            except h2.exceptions.H2Error:
                return
            self._flush()

    def _check_alive(self, stream: _Stream) -> None:
        if self._closed or stream.reset:
            raise _StreamGone


def _write_unsupported(data: bytes) -> None:
    raise RuntimeError("mock-bedrock's server does not support WSGI write()")


def serve_connection(sock: socket.socket, rfile: BinaryIO, app: WSGIApplication,
                     already_read: bytes, *, environ_base: dict[str, Any]) -> None:
    """Serve one HTTP/2 connection until it ends; ``already_read`` is what was read off the
    socket before the preface was recognised (the rest of the stream is in ``rfile``)."""
    _Connection(sock, rfile, app, environ_base).serve(already_read)
