"""pytest fixtures for the mock Bedrock Runtime.

- ``mock_bedrock``: the in-process mock is on for the test; yields its handle (faults and
  journal start empty).
- ``bedrock_runtime``: a boto3 bedrock-runtime client answered by that in-process mock.
- ``mock_bedrock_server``: a running :class:`~mock_bedrock.doors.server.MockServer`, one per test
  session (under pytest-xdist one per worker, each on its own free port).
- ``mock_bedrock_endpoint``: points ``AWS_ENDPOINT_URL_BEDROCK_RUNTIME`` at that server for
  one test (so code that builds its own client reaches the mock) and returns the URL.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from mock_bedrock.doors.inprocess import MockHandle, missing_identity, mock_sdxl
from mock_bedrock.doors.server import MockServer
from mock_bedrock.service.app import MockBedrock

ENDPOINT_VARIABLE = "AWS_ENDPOINT_URL_BEDROCK_RUNTIME"


def _clear(mock: MockBedrock | MockServer) -> None:
    mock.faults.clear()
    mock.journal.clear()


@pytest.fixture(scope="session")
def _mock_bedrock_app() -> MockBedrock:
    # One app for the session: its engine's caches outlive a test; its state is cleared.
    return MockBedrock()


@pytest.fixture
def mock_bedrock(_mock_bedrock_app: MockBedrock) -> Iterator[MockHandle]:
    _clear(_mock_bedrock_app)
    with mock_sdxl(_mock_bedrock_app) as handle:
        yield handle
    _clear(_mock_bedrock_app)


@pytest.fixture
def bedrock_runtime(mock_bedrock: MockHandle) -> Iterator[Any]:
    client = boto3.session.Session().client("bedrock-runtime")
    yield client
    client.close()


@pytest.fixture(scope="session")
def mock_bedrock_server() -> Iterator[MockServer]:
    with MockServer() as server:
        yield server


@pytest.fixture
def mock_bedrock_endpoint(
    mock_bedrock_server: MockServer, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    _clear(mock_bedrock_server)
    url = mock_bedrock_server.endpoint_url
    monkeypatch.setenv(ENDPOINT_VARIABLE, url)
    for name, value in missing_identity().items():
        monkeypatch.setenv(name, value)
    yield url
    _clear(mock_bedrock_server)
