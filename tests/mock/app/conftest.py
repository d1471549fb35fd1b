"""Fixtures for the application's own tests, driven through werkzeug's test client: no
socket, no door, only the WSGI app (tests that call it through the doors with boto3 use the
``door`` and ``client`` fixtures of tests/conftest.py)."""

import pytest
from werkzeug.test import Client

from mock_bedrock.service.app import MockBedrock


@pytest.fixture
def app() -> MockBedrock:
    """A fresh application with the default catalogue and no faults."""
    return MockBedrock()


@pytest.fixture
def wsgi(app: MockBedrock) -> Client:
    """werkzeug's test client on :func:`app` (a module may override ``app``)."""
    return Client(app)
