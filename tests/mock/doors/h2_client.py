"""An HTTP/2 client that misbehaves on purpose: it sends the frames it is told, in the order
it is told, and reads only when asked (no maintained client lets a test hold back a window
update or push a body past the server's settings; written on h2's connection state)."""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Callable
from typing import Any

import h2.config
import h2.connection
import h2.errors
import h2.events
import h2.exceptions
import h2.settings

from mock_bedrock.doors.server import MockServer
from tests.mock.doors.calls import BODY, INVOKE_PATH

ErrorCodes = h2.errors.ErrorCodes


class Attacker:
    """An HTTP/2 client that sends what it is told and reads only when asked."""

    def __init__(self, server: MockServer, settings: dict[int, int] | None = None,
                 receive_buffer: int | None = None) -> None:
        host, port = server.endpoint_url.removeprefix("http://").rsplit(":", 1)
        self.authority = f"{host}:{port}"
        self.conn = h2.connection.H2Connection(
            h2.config.H2Configuration(client_side=True, header_encoding=None))
        self.conn.initiate_connection()
        if settings:
            self.conn.update_settings(settings)
        self.sock = socket.socket()
        if receive_buffer:  # before connecting, so the TCP window is small from the start
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        self.sock.settimeout(10)
        self.sock.connect((host, int(port)))
        self.events: list[Any] = []
        self.ended = False  # the server closed the connection
        self.flush()

    def flush(self) -> None:
        if data := self.conn.data_to_send():
            self.sock.sendall(data)

    def open(self, body: bytes | None = BODY, *, length: int | None = None,
             path: str = INVOKE_PATH) -> int:
        """A request stream; ended with ``body`` unless it is None (more is sent later)."""
        stream_id: int = self.conn.get_next_available_stream_id()
        fields = [(":method", "POST"), (":scheme", "http"), (":authority", self.authority),
                  (":path", path), ("content-type", "application/json")]
        if length is not None:
            fields.append(("content-length", str(length)))
        self.conn.send_headers(stream_id, fields, end_stream=False)
        if body is not None:  # within the first window
            frame = self.conn.max_outbound_frame_size
            for start in range(0, len(body), frame):
                self.conn.send_data(stream_id, body[start:start + frame])
            self.conn.end_stream(stream_id)
        return stream_id

    def read(self, seconds: float) -> None:
        """Read and act on what arrives within ``seconds`` (returns early at EOF)."""
        deadline = time.monotonic() + seconds
        while not self.ended and (left := deadline - time.monotonic()) > 0:
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(1 << 20)
            except TimeoutError:
                return
            except OSError:
                data = b""
            if not data:
                self.ended = True
                return
            for event in self.conn.receive_data(data):
                self.events.append(event)
                if isinstance(event, h2.events.DataReceived):
                    with contextlib.suppress(h2.exceptions.StreamClosedError):
                        self.conn.acknowledge_received_data(event.flow_controlled_length,
                                                            event.stream_id)
            with contextlib.suppress(OSError):
                self.flush()

    def wait_for(self, found: Callable[[], bool], seconds: float = 10) -> bool:
        deadline = time.monotonic() + seconds
        while not found() and not self.ended and time.monotonic() < deadline:
            self.read(0.1)
        return found()

    def resets(self, code: ErrorCodes | None = None) -> dict[int, int]:
        return {e.stream_id: e.error_code for e in self.events
                if isinstance(e, h2.events.StreamReset) and code in (None, e.error_code)}

    def goaway(self) -> list[int]:
        return [int(e.error_code or 0) for e in self.events
                if isinstance(e, h2.events.ConnectionTerminated)]

    def answer(self, stream_id: int) -> tuple[int, dict[bytes, bytes], bytes] | None:
        """Status, headers and body of a complete answer on the stream, if there is one."""
        head: dict[bytes, bytes] = {}
        body = b""
        for event in self.events:
            if getattr(event, "stream_id", None) != stream_id:
                continue
            if isinstance(event, h2.events.ResponseReceived):
                head = dict(event.headers)  # type: ignore[arg-type]
            elif isinstance(event, h2.events.DataReceived):
                body += event.data  # type: ignore[operator]
            elif isinstance(event, h2.events.StreamEnded) and head:
                return int(head[b":status"]), head, body
        return None

    def push(self, stream_id: int, total: int, *, seconds: float, end: bool = True) -> int:
        """Send up to ``total`` body bytes as fast as the server's windows allow, for at most
        ``seconds``; returns how many were sent."""
        sent = 0
        deadline = time.monotonic() + seconds
        piece = b" " * 16384
        while sent < total and time.monotonic() < deadline and not self.ended:
            if stream_id in self.resets():
                break
            batch = 0
            while batch < 1024 * 1024 and (window := min(
                    self.conn.local_flow_control_window(stream_id),
                    self.conn.max_outbound_frame_size, total - sent)) > 0:
                self.conn.send_data(stream_id, piece[:window],
                                    end_stream=end and sent + window == total)
                sent += window
                batch += window
            try:
                self.flush()
            except OSError:
                break
            self.read(0 if batch else 0.02)
        return sent

    def close(self) -> None:
        self.sock.close()
