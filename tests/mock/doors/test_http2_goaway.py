"""A client that sends GOAWAY while it still reads a response still gets all of it.

The AWS SDK for JavaScript (HTTP/2 by default for bedrock-runtime) closes its session as soon
as a response starts: GOAWAY, then a WINDOW_UPDATE, while it reads the event stream. RFC 9113
lets open streams finish; the server must neither cut the response nor answer the frames
behind the GOAWAY with a PROTOCOL_ERROR of its own."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator

import h2.config
import h2.connection
import h2.events
import pytest
from botocore.eventstream import EventStreamBuffer

from mock_bedrock.doors.server import MockServer
from tests.support.sdxl_contract import MODEL_ID

# Frame header: length (24 bits), type, flags, stream id (31 bits); RFC 9113 section 4.1.
GOAWAY = bytes.fromhex("000008" "07" "00" "00000000") + (0).to_bytes(4, "big") * 2
WINDOW_UPDATE = bytes.fromhex("000004" "08" "00" "00000000") + (1 << 20).to_bytes(4, "big")
BODY = json.dumps({"text_prompts": [{"text": "a lighthouse"}], "seed": 3}).encode()


@pytest.fixture(scope="module")
def server() -> Iterator[MockServer]:
    with MockServer() as running:
        yield running


def exchange(server: MockServer, operation: str) -> tuple[int, bytes, list[int]]:
    """One request; GOAWAY and a WINDOW_UPDATE right after the response headers; the rest
    of the response read to the end. Returns the status, body and any GOAWAY error codes."""
    host, port = server.endpoint_url.removeprefix("http://").split(":")
    conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
    conn.initiate_connection()
    sock = socket.create_connection((host, int(port)), timeout=10)
    with sock:
        sock.sendall(conn.data_to_send())
        stream_id = conn.get_next_available_stream_id()
        conn.send_headers(stream_id, [
            (":method", "POST"), (":scheme", "http"), (":authority", f"{host}:{port}"),
            (":path", f"/model/{MODEL_ID}/{operation}"), ("content-type", "application/json"),
            ("content-length", str(len(BODY))),
        ])
        conn.send_data(stream_id, BODY, end_stream=True)
        sock.sendall(conn.data_to_send())
        status, body, goaways, done, went_away = 0, b"", [], False, False
        while not done:
            data = sock.recv(65536)
            if not data:
                break
            for event in conn.receive_data(data):
                if isinstance(event, h2.events.ResponseReceived):
                    status = int(dict(event.headers)[b":status"])
                elif isinstance(event, h2.events.DataReceived):
                    body += event.data
                    conn.acknowledge_received_data(event.flow_controlled_length, stream_id)
                elif isinstance(event, h2.events.StreamEnded):
                    done = True
                elif isinstance(event, h2.events.ConnectionTerminated):
                    goaways.append(int(event.error_code))
                    done = True
            out = conn.data_to_send()
            if status and not went_away:
                # What Node.js does: GOAWAY (NO_ERROR), then a connection-level WINDOW_UPDATE
                # behind it. Written as raw frames: h2's own client state would refuse the
                # rest of the response after its GOAWAY, as h2 on the server side once did.
                out += GOAWAY + WINDOW_UPDATE
                went_away = True
            if out:
                sock.sendall(out)
    return status, body, goaways


def test_invoke_completes_after_the_clients_goaway(server: MockServer) -> None:
    status, body, goaways = exchange(server, "invoke")
    assert (status, goaways) == (200, [])
    assert json.loads(body)["artifacts"][0]["seed"] == 3


def test_event_stream_completes_after_the_clients_goaway(server: MockServer) -> None:
    status, body, goaways = exchange(server, "invoke-with-response-stream")
    assert (status, goaways) == (200, [])
    buffer = EventStreamBuffer()
    buffer.add_data(body)
    chunks = [json.loads(message.payload)["bytes"] for message in buffer]
    assert chunks  # every frame arrived whole (the decoder checks each CRC)
