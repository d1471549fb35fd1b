"""A cleartext HTTP/2 client (prior knowledge) made of the ``h2`` library's state machine
and a plain socket, as an attacker holds it: it sends what it likes and reads only when it
wants to. What the server did back (answers, resets, GOAWAY) is collected in
:class:`Seen`; a server that closes the connection ends the client's reading, not the
harness."""

from __future__ import annotations

import select
import socket
from dataclasses import dataclass, field
from typing import Any

import h2.config
import h2.connection
import h2.events
import h2.exceptions

from bench.bodies import SDXL_ID

INVOKE_PATH = f"/model/{SDXL_ID}/invoke"
READ_SIZE = 1 << 20


@dataclass
class Seen:
    """What the server sent back, by stream."""

    statuses: dict[int, str] = field(default_factory=dict)
    resets: dict[int, str] = field(default_factory=dict)
    goaway: str | None = None
    closed: bool = False

    def on(self, event: Any) -> None:
        if isinstance(event, h2.events.ResponseReceived):
            self.statuses[event.stream_id] = dict(event.headers).get(b":status", b"?").decode()
        elif isinstance(event, h2.events.StreamReset):
            self.resets[event.stream_id] = _code(event.error_code)
        elif isinstance(event, h2.events.ConnectionTerminated):
            self.goaway = _code(event.error_code)

    def summary(self) -> dict[str, Any]:
        counted: dict[str, int] = {}
        for status in self.statuses.values():
            counted[status] = counted.get(status, 0) + 1
        resets: dict[str, int] = {}
        for code in self.resets.values():
            resets[code] = resets.get(code, 0) + 1
        return {"answers": counted, "resets by server": resets, "GOAWAY": self.goaway,
                "connection closed by server": self.closed}


def readable(sock: socket.socket, wait: float = 0.0) -> bool:
    """Whether ``sock`` has something to read (or was closed) within ``wait`` seconds (poll,
    not select: the attacks hold sockets numbered past select's 1,024)."""
    poller = select.poll()
    poller.register(sock, select.POLLIN)
    return bool(poller.poll(wait * 1000))


def _code(error_code: Any) -> str:
    return getattr(error_code, "name", str(error_code))


class _NoStreamLimit(h2.connection.H2Connection):
    """h2's client that ignores the server's concurrent-stream limit, as an attacker would
    (h2 counts open streams by walking them all, so this is also what lets a client keep
    thousands open)."""

    @property
    def open_outbound_streams(self) -> int:
        return 0


class Client:
    """One HTTP/2 connection. ``settings`` (h2 SettingCodes to values) and ``window`` (a
    connection window increment) are sent with the preface; ``no_stream_limit`` opens
    streams past the server's limit."""

    def __init__(self, address: tuple[str, int], settings: dict[Any, int] | None = None,
                 window: int = 0, timeout: float = 3.0, no_stream_limit: bool = False) -> None:
        self.address = address
        kind = _NoStreamLimit if no_stream_limit else h2.connection.H2Connection
        self.conn = kind(h2.config.H2Configuration(client_side=True, header_encoding=None))
        self.conn.initiate_connection()
        if settings:
            self.conn.update_settings(settings)
        if window:
            self.conn.increment_flow_control_window(window)
        self.sock = socket.create_connection(address, timeout=timeout)
        self.seen = Seen()
        self.flush()

    def headers(self, path: str = INVOKE_PATH, length: int | None = None,
                authority: str | None = None) -> list[tuple[str, str]]:
        fields = [(":method", "POST"), (":scheme", "http"),
                  (":authority", authority or "{}:{}".format(*self.address)), (":path", path),
                  ("content-type", "application/json"), ("accept", "application/json")]
        if length is not None:
            fields.append(("content-length", str(length)))
        return fields

    def flush(self) -> bool:
        """Send what h2 has queued; False when the server no longer takes it (closed, or
        not reading within the socket's timeout)."""
        data = self.conn.data_to_send()
        if not data or self.seen.closed:
            return not self.seen.closed
        try:
            self.sock.sendall(data)
        except OSError:  # includes socket.timeout: a server that stopped reading
            self.seen.closed = True
            return False
        return True

    def pump(self, wait: float = 0.0) -> bool:
        """Read and handle whatever the server sent within ``wait`` seconds (acknowledging
        received data, so answers keep coming); False once the connection is over."""
        if self.seen.closed:
            return False
        try:
            if not readable(self.sock, wait):
                return True
            data = self.sock.recv(READ_SIZE)
        except OSError:
            data = b""
        if not data:
            self.seen.closed = True
            return False
        try:
            events = self.conn.receive_data(data)
        except h2.exceptions.ProtocolError:
            self.seen.closed = True
            return False
        for event in events:
            if isinstance(event, h2.events.DataReceived):
                self.conn.acknowledge_received_data(event.flow_controlled_length,
                                                    event.stream_id)
            self.seen.on(event)
        return self.flush()

    def drain(self, wait: float = 0.0) -> bool:
        """Everything readable now (and within ``wait``)."""
        alive = self.pump(wait)
        while alive and readable(self.sock):
            alive = self.pump()
        return alive

    def close(self) -> None:
        self.sock.close()
