"""The admin API from a client without its token (issue 18): against a server that checks
signatures (on loopback the one case that needs a token; any other address is the same
check), read the journal, install a ten-minute latency rule for every call and clear the
journal, unsigned. Accepted, the rule holds every normal call: the probes say so."""

from __future__ import annotations

import json
from pathlib import Path

from bench.attacks.calls import call
from bench.attacks.harness import Attack, Siege

# The probes sign with these (bench.clients): their calls pass the server's check.
PROBE_KEYS = "bench:bench"
FOREVER = json.dumps({"latency_ms": 600_000, "name": "installed without the token"}).encode()


def without_token(siege: Siege) -> None:
    journal = call(siege.address, "GET", "/_mock/journal")
    siege.note("GET /_mock/journal", journal.describe())
    siege.note("POST /_mock/faults (10-minute latency for every call)",
               call(siege.address, "POST", "/_mock/faults", FOREVER).describe())
    siege.note("DELETE /_mock/journal", call(siege.address, "DELETE", "/_mock/journal").describe())
    siege.note("GET /_mock/health", call(siege.address, "GET", "/_mock/health").describe())
    siege.hold()


def _strict(work: Path) -> tuple[str, ...]:
    return ("--strict-credentials", PROBE_KEYS)


ATTACKS = (
    Attack("admin-without-token", "admin API", "unsigned, no token, on --strict-credentials: "
           "read the journal, install a 10-minute latency rule", without_token, seconds=5,
           options=_strict),
)
