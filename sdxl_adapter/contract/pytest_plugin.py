"""pytest plugin: the ``bedrock_live`` marker, and the contract suite as test items.

    @pytest.mark.bedrock_live
    def test_against_the_real_service(): ...

A ``bedrock_live`` test runs only with ``--bedrock-live`` and when botocore finds AWS
credentials (looked up without the network); otherwise it is skipped with the reason.

``--bedrock-contract=mock|server|aws|URL`` (first named ``--sdxl-contract``, still taken) adds
one test item per contract check, run against the in-process mock, a mock server on a free
port, live Bedrock (the small live subset; it also needs ``--bedrock-live``), or a URL;
``--bedrock-contract-model MODEL`` keeps the checks of that model's family only.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from mock_bedrock.service.app import MockBedrock
    from sdxl_adapter.contract.checks import Check
    from sdxl_adapter.contract.runner import CheckResult

# Everything heavy (boto3, the suite, the mock) is imported where it is used: pytest loads
# this plugin in every run of every project that has the package installed.

MARKER = "bedrock_live"
LIVE_OPTION = "--bedrock-live"
CONTRACT_OPTION = "--bedrock-contract"
# The option's name from when SDXL was the only model: still taken.
OLD_CONTRACT_OPTION = "--sdxl-contract"
CONTRACT_DEST = "bedrock_contract"
CONTRACT_MODEL_OPTION = "--bedrock-contract-model"
SERVER = "server"

_TARGET_KEY = pytest.StashKey["_ContractTarget"]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("bedrock", "Amazon Bedrock (image models)")
    group.addoption(
        LIVE_OPTION, action="store_true", default=False,
        help=f"run tests marked {MARKER} against live Amazon Bedrock (billed calls; needs "
        "AWS credentials)",
    )
    group.addoption(
        CONTRACT_OPTION, OLD_CONTRACT_OPTION, dest=CONTRACT_DEST, metavar="mock|server|aws|URL",
        default=None,
        help="also run the contract suite (every model), one test per check, against the "
        f"in-process mock, a mock server, live Bedrock (its small subset; needs {LIVE_OPTION}) "
        "or a URL",
    )
    group.addoption(
        CONTRACT_MODEL_OPTION, metavar="MODEL", action="append", default=None,
        help=f"with {CONTRACT_OPTION}: only the checks of this model's family (an id, profile "
        "id or ARN; repeat for more), as `sdxl contract --model-id` selects them",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}: calls live Amazon Bedrock; runs only with {LIVE_OPTION} and AWS "
        "credentials present, skipped otherwise",
    )


def live_skip_reason(config: pytest.Config) -> str | None:
    """Why live tests cannot run in this session, or None when they can."""
    if not config.getoption(LIVE_OPTION):
        return (
            f"live Bedrock tests are off: pass {LIVE_OPTION} to run them (they call AWS and "
            "are billed)"
        )
    from bedrock_contract.service import has_local_credentials

    if not has_local_credentials():
        return (
            f"{LIVE_OPTION} given, but botocore found no AWS credentials (environment, "
            "shared files, SSO, roles; instance metadata not consulted)"
        )
    return None


def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    reason = None
    if any(item.get_closest_marker(MARKER) for item in items):
        reason = live_skip_reason(config)
    if reason is not None:
        for item in items:
            if item.get_closest_marker(MARKER):
                item.add_marker(pytest.mark.skip(reason=reason))
    endpoint = config.getoption(CONTRACT_DEST)
    if endpoint:
        items.extend(contract_items(session, config, endpoint))


# --- the contract suite as test items -----------------------------------------------------


class ContractMismatch(Exception):
    """A check whose answer differs from the contract; the message is the check's report."""


class ContractItem(pytest.Item):
    """One contract check, run against the session's contract target."""

    def __init__(self, *, check: Check, endpoint: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.check = check
        self.endpoint = endpoint

    def runtest(self) -> None:
        result = self.config.stash[_TARGET_KEY].run(self.check)
        if not result.passed:
            raise ContractMismatch(result.render())

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None
                     ) -> str:
        if isinstance(excinfo.value, ContractMismatch):
            return f"{self.endpoint} differs from the contract:\n{excinfo.value}"
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Any, int, str]:
        # A line number is required (skip reports point at it); the suite is not in a file.
        return self.path, 0, f"sdxl-contract[{self.endpoint}]: {self.check.name}"


def contract_items(
    session: pytest.Session, config: pytest.Config, endpoint: str
) -> list[ContractItem]:
    from sdxl_adapter.client import AWS
    from sdxl_adapter.contract import runner as suite

    live = endpoint == AWS
    models = config.getoption(CONTRACT_MODEL_OPTION)
    families = None if not models else [_family(model) for model in models]
    selected = suite.live_checks(families) if live else suite.checks(families)
    skip = live_skip_reason(config) if live else None
    config.stash[_TARGET_KEY] = _ContractTarget(endpoint)
    config.add_cleanup(config.stash[_TARGET_KEY].close)
    items = []
    for check in selected:
        item = ContractItem.from_parent(
            session, name=f"sdxl-contract[{endpoint}] {check.name}", check=check,
            endpoint=endpoint,
        )
        if skip is not None:
            item.add_marker(pytest.mark.skip(reason=skip))
        items.append(item)
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if live and skip is None and reporter is not None:
        reporter.write_line(f"{CONTRACT_OPTION}: {suite.cost_warning(selected)}", yellow=True)
    return items


def _family(model_id: str) -> str:
    from bedrock_contract import default_catalogue

    found = default_catalogue().find(model_id)
    if found is None:
        raise pytest.UsageError(f"{CONTRACT_MODEL_OPTION} {model_id}: no model the contract "
                                "knows (see `sdxl models`)")
    return found.contract.family


class _ContractTarget:
    """What the contract items share: a client, made by the first item that runs (so a
    session that deselects them all starts nothing) and closed with the session. The
    in-process mock is switched on only while an item runs, so it never answers the calls
    of the session's other tests."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint
        self._stack = contextlib.ExitStack()
        self._client: Any = None
        self._app: MockBedrock | None = None

    def run(self, check: Check) -> CheckResult:
        from mock_bedrock.doors.inprocess import mock_sdxl
        from sdxl_adapter.contract import runner as suite

        if self._client is None:
            self._client = self._stack.enter_context(self._open())
        if self._app is None:
            return suite.run_check(self._client, check)
        with mock_sdxl(self._app):
            return suite.run_check(self._client, check)

    @contextlib.contextmanager
    def _open(self) -> Iterator[Any]:
        import boto3

        from bedrock_contract.service import SERVICE_NAME, isolated_session
        from mock_bedrock.doors.server import MockServer
        from mock_bedrock.service.app import MockBedrock
        from sdxl_adapter.client import FALLBACK_REGION, MOCK, PLACEHOLDER_CREDENTIALS
        from sdxl_adapter.contract import runner as suite

        if self.endpoint == MOCK:
            self._app = MockBedrock()
            session = boto3.Session(botocore_session=isolated_session(),
                                    region_name=FALLBACK_REGION, **PLACEHOLDER_CREDENTIALS)
            client = session.client(SERVICE_NAME)
            with contextlib.closing(client):
                yield client
        elif self.endpoint == SERVER:
            with MockServer() as server, suite.open_target(server.endpoint_url) as client:
                yield client
        else:
            with suite.open_target(self.endpoint) as client:
                yield client

    def close(self) -> None:
        self._stack.close()
        self._client = None
