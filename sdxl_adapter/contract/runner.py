"""The contract suite: the same checks of the service's behaviour against the in-process
mock, a URL (the mock's server, a proxy) or live Bedrock, and a report of every difference.
The checks themselves are data, in :mod:`sdxl_adapter.contract.checks`.

    with open_target("mock") as client:
        report = run_suite(client, checks())
    print(report.render())
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from botocore.client import BaseClient
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    PartialCredentialsError,
)

from bedrock_contract.printable import printable
from bedrock_contract.service import INVOKE_STREAM, JSON
from sdxl_adapter.client import SDXLClient
from sdxl_adapter.contract.checks import (
    Answer,
    Check,
    Difference,
    Generates,
    Refused,
    billed_calls,
    checks,
    cost_warning,
    live_checks,
    minimal_body,
    refused,
)

__all__ = [
    "Answer",
    "Check",
    "CheckResult",
    "Difference",
    "Generates",
    "Refused",
    "Report",
    "billed_calls",
    "call",
    "checks",
    "cost_warning",
    "live_checks",
    "minimal_body",
    "open_target",
    "refused",
    "run_check",
    "run_suite",
]

# Failures that end a run instead of counting against the target.
LOCAL_FAILURES = (NoCredentialsError, PartialCredentialsError, EndpointConnectionError)


# --- running and reporting ----------------------------------------------------------------


@dataclass(frozen=True)
class CheckResult:
    check: Check
    differences: tuple[Difference, ...]

    @property
    def passed(self) -> bool:
        return not self.differences

    def render(self) -> str:
        lines = [f"{'PASS' if self.passed else 'FAIL'}  {printable(self.check.name)}"]
        for diff in self.differences:  # what the target answered: shown escaped
            lines.append(f"      {diff.aspect}: expected {printable(str(diff.expected))}")
            lines.append(f"      {' ' * len(diff.aspect)}  got      {printable(str(diff.got))}")
        return "\n".join(lines)


@dataclass(frozen=True)
class Report:
    target: str
    results: tuple[CheckResult, ...] = field(default_factory=tuple)

    @property
    def passed(self) -> bool:
        return all(result.passed for result in self.results)

    @property
    def failures(self) -> list[CheckResult]:
        return [result for result in self.results if not result.passed]

    def render(self) -> str:
        families = sorted({result.check.family for result in self.results})
        lines = [printable(f"Contract suite ({', '.join(families)}) against {self.target}: "
                           f"{len(self.results)} checks")]
        lines += [result.render() for result in self.results]
        failed = len(self.failures)
        if failed:
            lines.append(f"{len(self.results) - failed} passed, {failed} failed: the target "
                         "differs from the contract where FAIL says so above")
        else:
            lines.append(f"all {len(self.results)} checks passed")
        return "\n".join(lines)


def call(client: BaseClient, body: dict[str, Any], model_id: str, *, stream: bool = False
         ) -> Answer:
    """One InvokeModel (or, with ``stream``, InvokeModelWithResponseStream) call through
    ``client``, as an :class:`Answer`."""
    try:
        if stream:
            response = client.invoke_model_with_response_stream(
                modelId=model_id, body=json.dumps(body), contentType=JSON, accept=JSON
            )
            raw = b"".join(event["chunk"]["bytes"] for event in response["body"])
        else:
            response = client.invoke_model(
                modelId=model_id, body=json.dumps(body), contentType=JSON, accept=JSON
            )
            with contextlib.closing(response["body"]) as body_stream:
                raw = body_stream.read()
    except ClientError as err:
        error = err.response.get("Error", {})
        status = err.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        return Answer(status, code=str(error.get("Code")), message=str(error.get("Message")))
    except LOCAL_FAILURES:
        raise  # about this machine or the way to the target, not the target's behaviour
    except BotoCoreError as err:
        return Answer(None, code=type(err).__name__, message=str(err))
    return Answer(response["ResponseMetadata"]["HTTPStatusCode"], raw)


def run_check(client: BaseClient, check: Check) -> CheckResult:
    answer = call(client, check.body, check.model_id, stream=check.operation == INVOKE_STREAM)
    return CheckResult(check, tuple(check.expect.compare(answer)))


def run_suite(
    client: BaseClient,
    selected: Sequence[Check] | None = None,
    *,
    target: str | None = None,
) -> Report:
    """Run ``selected`` (default: every check of every family) through ``client``; never
    raises for a difference, the report holds them."""
    chosen = checks() if selected is None else tuple(selected)
    results = tuple(run_check(client, check) for check in chosen)
    return Report(target or str(client.meta.endpoint_url), results)


@contextlib.contextmanager
def open_target(endpoint: str, *, region: str | None = None) -> Iterator[BaseClient]:
    """A bedrock-runtime client for ``endpoint``: ``mock`` (in process), ``aws``, or a URL.

    Calls are made once (no retries), so a live run makes exactly the calls it announces.
    A URL is signed with the machine's credentials, or placeholders when it has none.
    """
    with SDXLClient(endpoint, region=region, max_attempts=1) as sdxl:
        yield sdxl.boto_client
