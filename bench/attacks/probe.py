"""The normal caller: a boto3 ``invoke_model`` as a user's code makes it (a fresh client that
finds the mock through ``AWS_ENDPOINT_URL_BEDROCK_RUNTIME``), timed, about once a second
from its own thread while an attack runs."""

from __future__ import annotations

import itertools
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from botocore.config import Config
from botocore.exceptions import ClientError

from bench.bodies import SDXL_ID, request
from bench.clients import bedrock_runtime
from bench.invoke import invoke
from mock_bedrock.client_setup import ENDPOINT_VARIABLE

TARGET_SECONDS = 1.0
# Longer than the target, so a slow answer and no answer are told apart; short enough that
# a wedged server costs a probe little.
TIMEOUT_SECONDS = 5.0
EVERY_SECONDS = 1.0
_TIMEOUTS = Config(connect_timeout=TIMEOUT_SECONDS, read_timeout=TIMEOUT_SECONDS)
_seeds = itertools.count(1)


@dataclass(frozen=True)
class Probe:
    """One normal call: how long it took, and the HTTP status the mock answered (None when
    it did not answer: a timeout, a refused or dropped connection)."""

    seconds: float
    status: int | None
    detail: str  # "ok", the error code, or the exception

    def answered(self, any_status: bool = False) -> bool:
        """Within the target, and with an image (or, ``any_status``, with any answer:
        under --record to an unreachable upstream a normal call is an error)."""
        good = self.status is not None if any_status else self.status == 200
        return good and self.seconds <= TARGET_SECONDS

    def describe(self) -> str:
        if self.status is None:
            return f"no answer in {self.seconds:.1f} s ({self.detail})"
        return f"{self.status} in {self.seconds:.2f} s" + \
            ("" if self.detail == "ok" else f" ({self.detail})")


@contextmanager
def clients_pointed_at(url: str) -> Iterator[None]:
    """Where probes' clients find the mock while the block runs (one server at a time);
    the variable is put back as it was after."""
    before = os.environ.get(ENDPOINT_VARIABLE)
    os.environ[ENDPOINT_VARIABLE] = url
    try:
        yield
    finally:
        if before is None:
            del os.environ[ENDPOINT_VARIABLE]
        else:
            os.environ[ENDPOINT_VARIABLE] = before


def normal_call() -> Probe:
    """A text-to-image call to SDXL with a seed not used before (a render, not a cache hit)."""
    client = bedrock_runtime(config=_TIMEOUTS)
    call = request(SDXL_ID, seed=next(_seeds), prompt="a lighthouse at dusk, probe")
    started = time.monotonic()
    try:
        invoke(client, call)
    except ClientError as err:
        status = err.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        code = err.response.get("Error", {}).get("Code", "?")
        return Probe(time.monotonic() - started, status, code)
    except Exception as err:  # timeouts, resets: what the attack did to a normal caller
        return Probe(time.monotonic() - started, None, type(err).__name__)
    finally:
        client.close()
    return Probe(time.monotonic() - started, 200, "ok")


class Prober:
    """Calls :func:`normal_call` every EVERY_SECONDS (or as soon as the last one ended)
    until stopped; only probes started before :meth:`stop` count as during the attack."""

    def __init__(self) -> None:
        self.probes: list[Probe] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="attack-prober", daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            probe = normal_call()
            self.probes.append(probe)
            self._stop.wait(max(0.0, started + EVERY_SECONDS - time.monotonic()))

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """No new probe starts; the one in flight, if any, still counts."""
        self._stop.set()

    def join(self) -> list[Probe]:
        self._thread.join()
        return self.probes
