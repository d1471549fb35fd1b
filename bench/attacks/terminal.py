"""Log injection (issue 18): requests whose path, model id or fired rule's name hold a newline
or a terminal escape, against ``mock-bedrock serve --log-requests``. The harness sends a
server's stderr nowhere, so this attack starts a second server of the same tree with its log
in a file, and counts that log's lines against the calls made, and the raw ESC bytes in it.
The first server (measured as usual) gets the same calls."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.attacks.calls import call
from bench.attacks.harness import Attack, Siege
from bench.attacks.target import Source
from bench.bodies import SDXL_ID
from bench.soak import mock_server_process

ESC = "\x1b[2J\x1b[H\x1b[32mvalid\x1b[0m"
FORGED = "2026-01-01T00:00:00.000 InvokeModel forged 200 - - 0000 1.0ms"
RULES = [{"prompt": "storm", "error": "ThrottlingException", "name": f"rule {ESC}"}]


def _quoted(text: str) -> str:
    return "".join(c if c.isalnum() or c in "/-._" else f"%{ord(c):02X}" for c in text)


STORM = json.dumps({"text_prompts": [{"text": "storm"}]}).encode()  # fires the rule
CALLS = [
    ("POST", "/nowhere%0A" + _quoted(FORGED), b"{}"),
    ("POST", f"/model/{_quoted(ESC)}/invoke", b"{}"),
    ("GET", "/_mock/" + _quoted(f"x\n{FORGED}"), None),
    ("POST", f"/model/{SDXL_ID}/invoke", STORM),
]


@contextmanager
def _logging_server(source: Source, log: Path, faults: Path) -> Iterator[tuple[str, int]]:
    with mock_server_process("--log-requests", "--faults", str(faults), log=log,
                             python=source.python, env=source.environment(),
                             cwd=source.tree) as (_, url):
        host, port = url.removeprefix("http://").rsplit(":", 1)
        yield host, int(port)


def log_injection(siege: Siege, rounds: int = 5) -> None:
    """:data:`CALLS`, ``rounds`` times, to both servers; the logging one's lines counted."""
    faults = siege.work / "faults.json"
    faults.write_text(json.dumps(RULES))
    log = siege.work / "log.txt"
    source = siege.source or Source(sys.executable)
    made = 0
    with _logging_server(source, log, faults) as logged:
        for _ in range(rounds):
            for method, path, body in CALLS:
                if not siege.running():
                    break
                for address in (logged, siege.address):
                    call(address, method, path, body, timeout=5.0)
                made += 1
    text = log.read_text(errors="replace")
    siege.note("calls logged", made)
    siege.note("log lines", len(text.splitlines()))
    siege.note("lines not written by the log (forged)", len(text.splitlines()) - made)
    siege.note("raw ESC bytes in the log", text.count("\x1b"))


ATTACKS = (
    Attack("log-injection", "terminal", "requests whose path, model id or rule name hold a "
           "newline or an ESC sequence, against --log-requests", log_injection, seconds=10),
)
