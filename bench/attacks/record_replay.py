"""Attacks on record and replay (issue 12, finding 10): a huge body under ``--record``, a
300 MB cassette replayed by several clients at once, and a FIFO where a cassette should be.

``--record`` forwards to an upstream on a closed 127.0.0.1 port, with the placeholder
credentials target.SERVER_AWS_ENVIRONMENT gives the server: nothing leaves the machine."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import socket
import threading
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from bench.attacks.calls import INVOKE_PATH, JSON, call, invoke
from bench.attacks.harness import Attack, Siege, run_together
from bench.bodies import SDXL, SDXL_ID, encode, text_to_image
from mock_bedrock.testing.cassettes import Cassette, CassetteDir, cassette_key

PIECE = b"A" * (1 << 20)
HUGE_BODY = 1_500_000_000
CASSETTE_BYTES = 300_000_000
_MARKER = "MARKER-for-the-300-MB-string"
BIG_BODY = encode(text_to_image(SDXL, prompt="a cassette of 300 MB"))
FIFO_BODY = encode(text_to_image(SDXL, prompt="a cassette that is a FIFO"))


def closed_port() -> int:
    """A 127.0.0.1 port nothing listens on (bound, then let go)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def record_options(work: Path) -> Sequence[str]:
    return ["--record", str(work / "recorded"), "--upstream",
            f"http://127.0.0.1:{closed_port()}", "--region", "us-east-1"]


def record_huge_body(siege: Siege, total: int = HUGE_BODY) -> None:
    """One invoke announcing ``total`` bytes, sent in 1 MiB pieces (never held whole)
    until all is sent, the server stops reading, or the time is up; then its answer."""
    connection = http.client.HTTPConnection(*siege.address, timeout=3)
    sent, ended = 0, "sent whole"
    try:
        connection.putrequest("POST", INVOKE_PATH)
        for name, value in {**JSON, "Content-Length": str(total)}.items():
            connection.putheader(name, value)
        connection.endheaders()
        while sent < total:
            if not siege.running():
                ended = "time limit" if not siege.stop.is_set() else "RSS cap"
                break
            try:
                connection.send(PIECE[:total - sent])
            except OSError as err:
                ended = f"server stopped reading or closed ({type(err).__name__})"
                break
            sent += min(len(PIECE), total - sent)
        # An answer the server sent before it stopped reading may still be there to read.
        if connection.sock is not None:
            connection.sock.settimeout(max(1.0, siege.remaining()))
        try:
            siege.note("answer", connection.getresponse().status)
        except (OSError, http.client.HTTPException) as err:
            siege.note("answer", f"none ({type(err).__name__})")
    finally:
        connection.close()
    siege.note("MiB sent", round(sent / 2**20))
    siege.note("ended", ended)


def _cassettes(work: Path) -> CassetteDir:
    return CassetteDir(work / "cassettes")


def big_cassette_options(work: Path) -> Sequence[str]:
    """A cassette of BIG_BODY whose answer is a 300 MB JSON string. Saved small through
    the cassette API (so the format is the mock's), then the marker string is widened in a
    streamed copy: the harness never holds 300 MB."""
    cassettes = _cassettes(work)
    key = cassette_key("InvokeModel", SDXL_ID, BIG_BODY)
    small = cassettes.save(Cassette(key, "InvokeModel", SDXL_ID, {}, BIG_BODY, 200,
                                    [("Content-Type", "application/json")],
                                    encode({"x": _MARKER})))
    before, after = small.read_text().split(_MARKER)
    widened = small.with_suffix(".tmp")
    with widened.open("w") as out:
        out.write(before)
        for start in range(0, CASSETTE_BYTES, len(PIECE)):
            out.write("A" * min(len(PIECE), CASSETTE_BYTES - start))
        out.write(after)
    os.replace(widened, small)
    return ["--replay", str(cassettes.path), "--replay-fallthrough"]


def replay_big_cassette(siege: Siege, at_once: int = 4) -> None:
    """``at_once`` clients, each asking for the 300 MB cassette again as soon as it is
    answered; the answer is read in 1 MiB pieces and dropped."""
    answers: Counter[str] = Counter()
    slowest = [0.0]
    lock = threading.Lock()

    def client() -> None:
        while siege.running():
            outcome, seconds = _read_away(siege, BIG_BODY)
            with lock:
                answers[outcome] += 1
                slowest[0] = max(slowest[0], seconds)

    run_together(client, at_once, "attack-replay")
    siege.note("answers", dict(answers))
    siege.note("slowest s", round(slowest[0], 1))


def _read_away(siege: Siege, body: bytes) -> tuple[str, float]:
    """One call, its answer read away: its status and size (or why none), and seconds."""
    connection = http.client.HTTPConnection(*siege.address, timeout=max(1.0, siege.remaining()))
    started, received = time.monotonic(), 0
    try:
        connection.request("POST", INVOKE_PATH, body=body, headers=JSON)
        response = connection.getresponse()
        while siege.running() and (piece := response.read(len(PIECE))):
            received += len(piece)
        status = str(response.status)
    except (OSError, http.client.HTTPException) as err:
        status = f"no answer ({type(err).__name__})"
    finally:
        connection.close()
    cut = "" if received == 0 or not siege.stop.is_set() else ", cut at the RSS cap"
    return f"{status}, {round(received / 1e6, -1):.0f} MB{cut}", time.monotonic() - started


def fifo_options(work: Path) -> Sequence[str]:
    cassettes = _cassettes(work)
    cassettes.path.mkdir(parents=True)
    os.mkfifo(cassettes.file_for(cassette_key("InvokeModel", SDXL_ID, FIFO_BODY)))
    return ["--replay", str(cassettes.path), "--replay-fallthrough"]


def fifo_cassette(siege: Siege) -> None:
    """The call whose cassette is a FIFO (nobody writes to it), once a second, each given
    2 s: is it answered, or does each one hold a server thread?"""
    answers: Counter[str] = Counter()
    while siege.running():
        answer = invoke(siege.address, FIFO_BODY, timeout=2.0)
        answers[str(answer.status) if answer.status else "no answer in 2 s"] += 1
        siege.hold(1.0)
    siege.note("calls", dict(answers))


FOREIGN_MODEL = "anthropic.claude-3-haiku-20240307-v1:0"
FOREIGN_BODY = b'{"anthropic_version": "bedrock-2023-05-31", "max_tokens": 10, ' \
    b'"messages": [{"role": "user", "content": "hello"}]}'


def record_foreign_model(siege: Siege, calls: int = 20) -> None:
    """Invokes of a model the mock does not serve (Claude) under ``--record``: does the
    recorder try to forward them, signed with the user's credentials? The upstream is a
    closed port, so a forwarded call is answered RecordingUpstreamUnreachable."""
    answers: Counter[str] = Counter()
    for _ in range(calls):
        if not siege.running():
            break
        answer = call(siege.address, "POST", f"/model/{FOREIGN_MODEL}/invoke", FOREIGN_BODY,
                      timeout=5.0)
        message = ""
        with contextlib.suppress(ValueError, AttributeError):
            message = str(json.loads(answer.body).get("message", ""))
        answers[f"{answer.status}: {message[:60]}"] += 1
    siege.note("answers", dict(answers))
    siege.note("forwarded (tried the upstream)",
               sum(n for k, n in answers.items() if "could not reach" in k))


ATTACKS = (
    Attack("record-huge-body", "record/replay", "--record to an unreachable upstream, a "
           "1.5 GB request body", record_huge_body, seconds=12, options=record_options,
           probe_any_status=True),
    Attack("replay-300MB-cassette", "record/replay", "--replay, a 300 MB cassette asked for "
           "by 4 clients at once", replay_big_cassette, seconds=15,
           options=big_cassette_options),
    Attack("replay-fifo", "record/replay", "--replay, a FIFO in place of a cassette",
           fifo_cassette, seconds=6, options=fifo_options),
    Attack("record-foreign-model", "record/replay", "--record, 20 invokes of a Claude model "
           "(not the mock's)", record_foreign_model, seconds=5, options=record_options,
           probe_any_status=True),
)
