"""A server asked to stop while calls wait out a latency fault (issue 18): the calls the
rule holds, over HTTP/1.1 and HTTP/2, are still waiting when the attacker leaves, and the
harness's SIGTERM comes; judged on how long the server takes to exit."""

from __future__ import annotations

import json
import socket

import h2.exceptions

from bench.attacks.calls import call
from bench.attacks.h2client import Client
from bench.attacks.harness import Attack, Siege
from bench.attacks.http1 import request_head
from bench.bodies import SDXL, encode, text_to_image
from mock_bedrock.doors.http2_limits import WORKERS_PER_CONNECTION

PROMPT = "hold the stop"  # the probes' prompt is another: only the attack's calls wait
RULE = json.dumps({"prompt": PROMPT, "latency_ms": 600_000}).encode()
FAULTS = "/_mock/faults"
STOP_TARGET = 2.0  # the server's STOP_WAIT (1 s), and the interpreter's exit


def _fired(siege: Siege) -> int:
    answer = call(siege.address, "GET", FAULTS, timeout=2)
    if answer.status != 200:
        return -1
    return sum(rule["fired"] for rule in json.loads(answer.body)["rules"])


def calls_in_latency(siege: Siege, http1: int = 32, http2: int = 2) -> None:
    """A ten-minute latency rule; ``http1`` connections and ``http2`` connections of as
    many streams as the server runs at once on one, that it holds; all left waiting when
    the time is up."""
    siege.note("install", call(siege.address, "POST", FAULTS, RULE).describe())
    body = encode(text_to_image(SDXL, seed=9, prompt=PROMPT))
    held: list[socket.socket] = []
    clients: list[Client] = []
    try:
        for _ in range(http1):
            sock = socket.create_connection(siege.address, timeout=5)
            sock.sendall(request_head(len(body)) + body)
            held.append(sock)
        for _ in range(http2):
            client = Client(siege.address)
            clients.append(client)
            client.drain(0.5)
            for _ in range(WORKERS_PER_CONNECTION):
                stream = client.conn.get_next_available_stream_id()
                client.conn.send_headers(stream, client.headers(length=len(body)))
                client.conn.send_data(stream, body, end_stream=True)
            client.flush()
        wanted = http1 + http2 * WORKERS_PER_CONNECTION
        while (fired := _fired(siege)) < wanted and siege.hold(0.1):
            pass
        siege.note("calls waiting out the rule", fired)
        while siege.hold(0.5):
            for client in clients:
                client.drain()
    except (OSError, h2.exceptions.ProtocolError) as err:
        siege.note("client", type(err).__name__)
    finally:
        for sock in held:
            sock.close()
        for client in clients:
            client.close()


ATTACKS = (
    Attack("stop-in-latency", "stop", "32 HTTP/1.1 calls and 32 HTTP/2 streams (2 "
           "connections) waiting out a 10-minute latency rule, then SIGTERM", calls_in_latency,
           seconds=6, stop_within=STOP_TARGET),
)
