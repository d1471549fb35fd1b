"""Fixtures for the doors' tests."""

from collections.abc import Iterator

import pytest

from mock_bedrock.doors.server import MockServer


@pytest.fixture
def server() -> Iterator[MockServer]:
    """A server of its own on a free loopback port, default catalogue, stopped after the test
    (a module may override it with other options)."""
    with MockServer() as running:
        yield running
