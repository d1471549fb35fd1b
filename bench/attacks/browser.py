"""What a web page could make a browser send to the mock (issue 12, findings 5 and 6): not a
resource attack, so only whether each request was refused (a 4xx) is reported. DNS
rebinding: the page's own name (resolving to 127.0.0.1) in Host or :authority.
Cross-site: a foreign Origin, and the content types a page may POST without a preflight."""

from __future__ import annotations

import json
from dataclasses import dataclass

import h2.exceptions

from bench.attacks.calls import INVOKE_PATH, JSON, Answer, call
from bench.attacks.h2client import Client
from bench.attacks.target import Server, Source, served
from bench.bodies import SDXL, encode, text_to_image

FAULTS = "/_mock/faults"
EVIL = "evil.example"
ORIGIN = f"http://{EVIL}"
# A rule no call here meets, so the invoke check is answered as it would be without it.
RULE = json.dumps({"prompt": "no call has this prompt", "error": "ThrottlingException",
                   "name": "set by a web page"}).encode()


@dataclass(frozen=True)
class Check:
    request: str
    status: int | None
    detail: str

    @property
    def refused(self) -> bool:
        return self.status is not None and 400 <= self.status < 500


def _check(request: str, answer: Answer) -> Check:
    return Check(request, answer.status, answer.describe())


def _h2_post(server: Server, authority: str, path: str, body: bytes) -> Check:
    request = f"HTTP/2 POST {path}, :authority {authority}"
    try:
        client = Client(server.address)
    except OSError as err:
        return Check(request, None, f"no answer ({type(err).__name__})")
    stream = -1
    try:
        client.drain(0.5)
        stream = client.conn.get_next_available_stream_id()
        client.conn.send_headers(stream, client.headers(path, len(body), authority=authority))
        client.conn.send_data(stream, body, end_stream=True)
        client.flush()
        while stream not in client.seen.statuses and client.drain(1.0):
            pass
    except h2.exceptions.ProtocolError:  # the server refused the connection's use
        pass
    finally:
        client.close()
    status = client.seen.statuses.get(stream)
    return Check(request, int(status) if status and status.isdigit() else None,
                 status or "no answer")


def browser_checks(source: Source) -> tuple[list[Check], int | None]:
    """Every check against one fresh server; and how many rules those requests left in
    force (asked with the server's own Host)."""
    with served(source) as server:
        port = server.address[1]
        rebound = f"{EVIL}:{port}"
        invoke_body = encode(text_to_image(SDXL, prompt="billed to you"))
        checks = [
            _check(f"GET /_mock/journal, Host {rebound}",
                   call(server.address, "GET", "/_mock/journal", headers={"Host": rebound})),
            _check(f"POST {FAULTS} (JSON), Host {rebound}",
                   call(server.address, "POST", FAULTS, RULE, headers={**JSON, "Host": rebound})),
            _check(f"POST {INVOKE_PATH}, Host {rebound}",
                   call(server.address, "POST", INVOKE_PATH, invoke_body,
                        headers={**JSON, "Host": rebound})),
            _h2_post(server, rebound, FAULTS, RULE),
            _check(f"POST {FAULTS} as text/plain, Origin {ORIGIN}",
                   call(server.address, "POST", FAULTS, RULE,
                        headers={"Content-Type": "text/plain", "Origin": ORIGIN})),
            _check(f"POST {FAULTS} as a form, Origin {ORIGIN}",
                   call(server.address, "POST", FAULTS, RULE,
                        headers={"Content-Type": "application/x-www-form-urlencoded",
                                 "Origin": ORIGIN})),
            _check(f"POST {FAULTS} (JSON), Origin {ORIGIN}",
                   call(server.address, "POST", FAULTS, RULE, headers={**JSON, "Origin": ORIGIN})),
            _check(f"DELETE /_mock/journal, Origin {ORIGIN}",
                   call(server.address, "DELETE", "/_mock/journal", headers={"Origin": ORIGIN})),
        ]
        listing = call(server.address, "GET", FAULTS)
        rules = len(json.loads(listing.body)["rules"]) if listing.status == 200 else None
    return checks, rules
