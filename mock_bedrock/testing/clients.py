"""The ``bedrock_runtime`` fixture's clients: one session for the run, a new client per test.

Most of a new client's cost is its session's: botocore's loader parses the service model,
the endpoint rules and the partitions, and the session registers its built-in handlers
(~100 ms in all, against ~5 ms for a client of a session that has done it). So the session
is made once, and each test still gets a client of its own, which dies with the test: the
handlers a test registers on ``client.meta.events`` (the client's copy of the session's),
the client's retry quota and connection pool. A session keeps two things a test could
notice, and neither is kept here: the credentials it first found (each client's are
resolved from the environment of its own test), and the built-in handlers botocore had
when it was made (it is made again when they have changed: moto imported mid-run adds its
own, as every later session would have).
"""

from __future__ import annotations

import os
from typing import Any

import boto3
import botocore.session
from botocore.credentials import Credentials
from botocore.handlers import BUILTIN_HANDLERS

from bedrock_contract.service import SERVICE_NAME, isolated_session

# Read by botocore when a session makes its loader; a test that sets it wants its own data.
DATA_PATH_VARIABLE = "AWS_DATA_PATH"


class _CredentialsPerClient(botocore.session.Session):
    """A session that resolves credentials for every client it makes: a plain one keeps
    the first credentials it finds for every later client."""

    def get_credentials(self) -> Credentials | None:
        found: Credentials | None = self.get_component("credential_provider").load_credentials()
        return found


class ClientFactory:
    """Makes the fixture's clients; the session behind them is made on first use."""

    def __init__(self) -> None:
        self._session: Any = None
        self._made_with: tuple[list[Any], str | None] | None = None

    def _conditions(self) -> tuple[list[Any], str | None]:
        return list(BUILTIN_HANDLERS), os.environ.get(DATA_PATH_VARIABLE)

    def client(self) -> Any:
        """A new bedrock-runtime client; it reads no AWS configuration file (an unknown
        ``AWS_PROFILE`` or a broken config must not fail a test of the mock)."""
        now = self._conditions()
        if self._session is None or now != self._made_with:
            self._session = boto3.session.Session(
                botocore_session=isolated_session(_CredentialsPerClient)
            )
            self._made_with = now
        return self._session.client(SERVICE_NAME)
