"""The two doors to the mock, as one fixture: every test taking ``door`` (or ``client``)
runs once against the in-process botocore hook and once against the HTTP server."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from botocore.config import Config

from mock_bedrock.doors.inprocess import MockHandle
from mock_bedrock.doors.server import MockServer
from mock_bedrock.service.app import MockBedrock

# One attempt (no retries), short timeouts: a fault shows up at once instead of after botocore's retries.
ONE_ATTEMPT = Config(retries={"total_max_attempts": 1, "mode": "standard"}, connect_timeout=5,
                     read_timeout=30)


@dataclass
class Door:
    name: str
    app: MockBedrock
    endpoint_url: str | None  # None: the in-process hook answers whatever the endpoint

    def client(self, config: Config = ONE_ATTEMPT) -> Any:
        extra = {} if self.endpoint_url is None else {"endpoint_url": self.endpoint_url}
        return SESSION.client("bedrock-runtime", config=config, **extra)


# One boto3 session for the module: loading botocore's models per client would dominate.
SESSION = boto3.session.Session()


@pytest.fixture(params=["inprocess", "server"])
def door(request: pytest.FixtureRequest) -> Door:
    if request.param == "inprocess":
        handle: MockHandle = request.getfixturevalue("mock_bedrock")
        return Door("inprocess", handle.app, None)
    url: str = request.getfixturevalue("mock_bedrock_endpoint")  # also clears faults
    server: MockServer = request.getfixturevalue("mock_bedrock_server")
    return Door("server", server.app, url)


@pytest.fixture
def client(door: Door) -> Iterator[Any]:
    bedrock = door.client()
    yield bedrock
    bedrock.close()


