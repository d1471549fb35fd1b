"""pytest fixtures for the mock Bedrock Runtime.

- ``mock_bedrock``: the in-process mock is on for the test; yields its handle (faults and
  journal start empty).
- ``bedrock_runtime``: a boto3 bedrock-runtime client answered by that in-process mock, new
  for each test (made from one botocore session for the run: see
  :mod:`mock_bedrock.testing.clients`).
- ``mock_bedrock_server``: a running :class:`~mock_bedrock.doors.server.MockServer`, one per
  test session (under pytest-xdist one per worker, each on its own free port); every test
  finds its faults and journal empty and its date the run's (set them in a function-scoped
  fixture, not a wider one).
- ``mock_bedrock_endpoint``: points ``AWS_ENDPOINT_URL_BEDROCK_RUNTIME`` (and
  ``AWS_ENDPOINT_URL_BEDROCK``, the control plane's) at that server for one test (so code that
  builds its own client reaches the mock) and returns the URL.

``--mock-bedrock-as-of DATE`` (or the ``mock_bedrock_as_of`` ini value) answers every model
as the service did on DATE (``today``: as it does now); ``@pytest.mark.mock_bedrock_as_of``
sets it for one test, in every fixture: the in-process mock, and the session's server for
the length of the test.

A test whose calls were answered for a model past its end of life (the mock's date, or no
date, allows it) gets an :class:`~bedrock_contract.retired.EndOfLifeWarning` per such model,
naming it, its end-of-life date and its replacement: what passes here fails on Bedrock.
It is found in the test's journal when the test ends (the entries of that one test).

Everything heavy is imported inside the fixtures: pytest loads this plugin in every run of
every project that has the package installed, and most never use it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from mock_bedrock.doors.inprocess import MockHandle
    from mock_bedrock.doors.server import MockServer
    from mock_bedrock.service.app import MockBedrock
    from mock_bedrock.testing.clients import ClientFactory

from mock_bedrock.doors import hook

# Clients a user's test modules make at import, before any fixture runs, carry the in-process
# door's dormant handler all the same; botocore is not imported for it.
hook.install_when_botocore_loads()

ENDPOINT_VARIABLE = "AWS_ENDPOINT_URL_BEDROCK_RUNTIME"
CONTROL_ENDPOINT_VARIABLE = "AWS_ENDPOINT_URL_BEDROCK"
# The session's server, once a test has asked for it: reset before each test that uses it.
_STARTED = pytest.StashKey["MockServer"]()
# The test being set up: the session's server, started for it, starts at its date.
_SETTING_UP = pytest.StashKey["pytest.Item"]()
AS_OF = "mock_bedrock_as_of"


def pytest_addoption(parser: pytest.Parser) -> None:
    help_text = "answer each model as Bedrock did on DATE (YYYY-MM-DD or today)"
    parser.addoption("--mock-bedrock-as-of", dest=AS_OF, metavar="DATE", help=help_text)
    parser.addini(AS_OF, help_text)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", f"{AS_OF}(date): the mock (in process or the server) answers as Bedrock "
                   "did on date"
    )
    _configured_as_of(config)  # a bad date stops the run at once, as a usage error


def _date(text: str | None) -> dt.date | None:
    if not text:
        return None
    from bedrock_contract import parse_as_of

    try:
        return parse_as_of(text)
    except ValueError as err:
        raise pytest.UsageError(f"{AS_OF}: {err}") from None


def _configured_as_of(config: pytest.Config) -> dt.date | None:
    text = config.getoption(AS_OF) or config.getini(AS_OF)
    return _date(str(text) if text else None)


def _clear(mock: MockBedrock | MockServer) -> None:
    mock.faults.clear()
    mock.journal.clear()  # a call still in flight from the test before is not recorded


def _test_as_of(item: pytest.Item) -> dt.date | None:
    """The date the test answers as of: its marker's, else the run's."""
    marker = item.get_closest_marker(AS_OF)
    if marker is None:
        return _configured_as_of(item.config)
    return _date(str(marker.args[0]) if marker.args else None)


def _warn_end_of_life(mock: MockBedrock | MockServer) -> None:
    """One warning per retired model the test's calls were answered for."""
    seen: dict[str, dict[str, Any]] = {}
    for entry in mock.journal.entries():
        if entry.end_of_life is not None:
            seen.setdefault(entry.end_of_life["model_id"], entry.end_of_life)
    if not seen:
        return
    import warnings

    from bedrock_contract.retired import EndOfLifeWarning, RetiredCall

    for found in seen.values():
        warnings.warn(EndOfLifeWarning(RetiredCall.from_json(found).warning()), stacklevel=2)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    # The server lives for the session, so its fixture cannot reset it for each test: this
    # runs before the test's fixtures (a user's own may add fault rules to it). Every test,
    # not only those that name the fixture: one may reach it through getfixturevalue. The
    # first test to use it is not seen here (the fixture starts it after this, at its date).
    item.config.stash[_SETTING_UP] = item
    server = item.config.stash.get(_STARTED, None)
    if server is None:
        return
    from mock_bedrock.service.app import MockBedrock

    _clear(server)
    if isinstance(server.app, MockBedrock):  # it is: the session fixture made it
        server.app.as_of = _test_as_of(item)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item) -> Iterator[None]:
    # Looked at once the test's own fixtures are torn down (the calls they made count too),
    # and the server taken before: after the last test its fixture is gone with it. The
    # server's date goes back to the run's, for whatever uses it between tests. A test that
    # did not call it finds its journal empty (cleared at its setup): nothing to warn of.
    server = item.config.stash.get(_STARTED, None)
    try:
        return (yield)
    finally:
        if server is not None:
            from mock_bedrock.service.app import MockBedrock

            _warn_end_of_life(server)
            if isinstance(server.app, MockBedrock):
                server.app.as_of = _configured_as_of(item.config)


@pytest.fixture(scope="session")
def _mock_bedrock_app(pytestconfig: pytest.Config) -> MockBedrock:
    # One app for the session: its engine's caches outlive a test; its state is cleared.
    from mock_bedrock.service.app import MockBedrock

    return MockBedrock(as_of=_configured_as_of(pytestconfig))


@pytest.fixture
def mock_bedrock(
    _mock_bedrock_app: MockBedrock, request: pytest.FixtureRequest
) -> Iterator[MockHandle]:
    """The in-process mock Bedrock Runtime, on for this test: every boto3 bedrock-runtime
    client (made before or during the test) is answered by it, without network or
    credentials. Yields its handle: ``.faults`` (add FaultRule), ``.journal`` (the calls;
    ``find``, ``assert_called``), ``.app`` (``as_of``). Faults and journal start empty; the
    date is the run's (``--mock-bedrock-as-of``) or the test's
    ``@pytest.mark.mock_bedrock_as_of``. A call answered for a model past its end of life
    is an EndOfLifeWarning when the test ends."""
    from mock_bedrock.doors.inprocess import mock_image_models

    session_as_of = _mock_bedrock_app.as_of
    _mock_bedrock_app.as_of = _test_as_of(request.node)
    _clear(_mock_bedrock_app)
    try:
        with mock_image_models(_mock_bedrock_app) as handle:
            yield handle
        _warn_end_of_life(_mock_bedrock_app)
    finally:
        _clear(_mock_bedrock_app)
        _mock_bedrock_app.as_of = session_as_of


@pytest.fixture(scope="session")
def _bedrock_runtime_clients() -> ClientFactory:
    # The botocore session for the run: it makes each test's client in a few milliseconds.
    from mock_bedrock.testing.clients import ClientFactory

    return ClientFactory()


@pytest.fixture
def bedrock_runtime(
    mock_bedrock: MockHandle, _bedrock_runtime_clients: ClientFactory
) -> Iterator[Any]:
    """A boto3 bedrock-runtime client of its own for this test, answered by the in-process
    mock (``mock_bedrock``); made from one botocore session for the run, so it costs a few
    milliseconds."""
    client = _bedrock_runtime_clients.client()
    yield client
    client.close()


@pytest.fixture(scope="session")
def mock_bedrock_server(pytestconfig: pytest.Config) -> Iterator[MockServer]:
    """A mock Bedrock Runtime server on 127.0.0.1, on a free port, for the run (one per
    pytest-xdist worker): ``.endpoint_url``, ``.faults``, ``.journal``, ``.app``. Every test
    finds its faults and journal empty and its date the run's, or its own
    ``@pytest.mark.mock_bedrock_as_of``'s while it runs."""
    from mock_bedrock.doors.server import MockServer

    # Started for the first test that uses it: as of that test's date (a session fixture's
    # own request names the session, not the test).
    first = pytestconfig.stash.get(_SETTING_UP, None)
    as_of = _test_as_of(first) if first is not None else _configured_as_of(pytestconfig)
    with MockServer(as_of=as_of) as server:
        pytestconfig.stash[_STARTED] = server
        try:
            yield server
        finally:
            del pytestconfig.stash[_STARTED]


@pytest.fixture
def mock_bedrock_endpoint(
    mock_bedrock_server: MockServer, monkeypatch: pytest.MonkeyPatch
) -> str:
    """The server's URL, with ``AWS_ENDPOINT_URL_BEDROCK_RUNTIME`` and
    ``AWS_ENDPOINT_URL_BEDROCK`` pointing at it (and placeholder credentials and region where
    none are set) for this test: code that makes its own clients reaches the mock."""
    from mock_bedrock.doors.inprocess import missing_identity

    url = mock_bedrock_server.endpoint_url
    monkeypatch.setenv(ENDPOINT_VARIABLE, url)
    monkeypatch.setenv(CONTROL_ENDPOINT_VARIABLE, url)
    for name, value in missing_identity().items():
        monkeypatch.setenv(name, value)
    return url
