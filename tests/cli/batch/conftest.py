"""Fixtures for ``sdxl batch``'s tests: the plugin's server in this process, or a served
process of its own where a batch's placeholders should render on another core."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mock_bedrock.doors.server import MockServer
from tests.support.served import ServedMock, serving


@pytest.fixture
def server(mock_bedrock_endpoint: str, mock_bedrock_server: MockServer) -> MockServer:
    """The plugin's server, its faults and journal cleared, a fake identity in the
    environment and ``SDXL_ENDPOINT`` naming it."""
    return mock_bedrock_server


@pytest.fixture(scope="module")
def _served_mock() -> Iterator[ServedMock]:
    with serving(script=True) as served:
        yield ServedMock(served.url)


@pytest.fixture
def served(_served_mock: ServedMock) -> ServedMock:
    """A ``mock-bedrock serve`` process shared by the module, its rules and journal cleared."""
    _served_mock.clear()
    return _served_mock
