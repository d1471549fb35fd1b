"""Single HTTP/1.1 calls the attacks make (admin endpoints, invokes with odd bodies), with a
timeout, answered or not: a call the server does not answer is a figure, not an error."""

from __future__ import annotations

import http.client
import time
from collections.abc import Mapping
from dataclasses import dataclass

from bench.bodies import SDXL_ID

INVOKE_PATH = f"/model/{SDXL_ID}/invoke"
JSON = {"Content-Type": "application/json", "Accept": "application/json"}


@dataclass(frozen=True)
class Answer:
    status: int | None  # None: no answer (timeout, refused, reset)
    body: bytes
    seconds: float
    error: str = ""

    def describe(self) -> str:
        if self.status is None:
            return f"no answer in {self.seconds:.1f} s ({self.error})"
        return f"{self.status} in {self.seconds:.2f} s"


def call(address: tuple[str, int], method: str, path: str, body: bytes | None = None, *,
         timeout: float = 10.0, headers: Mapping[str, str] = JSON) -> Answer:
    """One request on a fresh connection; the answer read to the end."""
    connection = http.client.HTTPConnection(*address, timeout=max(timeout, 0.1))
    started = time.monotonic()
    try:
        connection.request(method, path, body=body, headers=dict(headers))
        response = connection.getresponse()
        data = response.read()
    except (OSError, http.client.HTTPException) as err:
        return Answer(None, b"", time.monotonic() - started, type(err).__name__)
    finally:
        connection.close()
    return Answer(response.status, data, time.monotonic() - started)


def invoke(address: tuple[str, int], body: bytes, timeout: float = 10.0) -> Answer:
    return call(address, "POST", INVOKE_PATH, body, timeout=timeout)
