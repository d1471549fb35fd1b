"""``sdxl contract``: exit status, report, and the live-mode cost warning and confirmation."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from click.testing import CliRunner

from bedrock_contract import default_catalogue
from mock_bedrock.doors.server import MockServer
from sdxl_adapter.cli.contract import contract
from sdxl_adapter.contract import checks as suite_checks, runner as suite
from tests.support import contract_standin as standin

LIVE = suite.live_checks()
WARNING = (
    f"Live mode: {len(LIVE)} calls to Amazon Bedrock, {suite.billed_calls(LIVE)} of them "
    "generate an image and are billed"
)


@pytest.fixture
def stand_in() -> Iterator[MockServer]:
    """Real Bedrock, as far as the suite can tell, but echoing seed 0."""
    with MockServer(app=standin.Drifted(standin.seed_zero_echoed)) as server:
        yield server


def test_all_checks_pass_against_the_mock_server(mock_bedrock_server: MockServer) -> None:
    result = CliRunner().invoke(contract, ["--endpoint", mock_bedrock_server.endpoint_url])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == f"all {len(suite.checks())} checks passed"
    assert "FAIL" not in result.stdout


def test_all_checks_pass_against_the_in_process_mock() -> None:
    result = CliRunner().invoke(contract, ["--endpoint", "mock"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == f"all {len(suite.checks())} checks passed"


def test_live_mode_warns_and_sends_nothing_without_yes(stand_in: MockServer) -> None:
    result = CliRunner().invoke(contract, ["--endpoint", stand_in.endpoint_url, "--live"])
    assert result.exit_code == 2
    assert WARNING in result.stderr
    assert "pass --yes" in result.stderr
    assert len(stand_in.app.app.journal) == 0  # type: ignore[attr-defined]


def test_aws_is_live_mode_and_needs_yes(monkeypatch: pytest.MonkeyPatch) -> None:
    # No call is made, so nothing here may reach AWS; make sure of it.
    monkeypatch.setattr(suite, "open_target", None)
    result = CliRunner().invoke(contract, ["--endpoint", "aws"])
    assert result.exit_code == 2
    assert WARNING in result.stderr


def test_confirmed_live_run_reports_the_drift_and_exits_1(stand_in: MockServer) -> None:
    result = CliRunner().invoke(
        contract, ["--endpoint", stand_in.endpoint_url, "--live", "--yes"]
    )
    assert result.exit_code == 1
    assert WARNING in result.stderr
    assert len(stand_in.app.app.journal) == len(LIVE)  # type: ignore[attr-defined]
    lines = result.stdout.splitlines()
    # Each live family's seed-0 check fails; the stand-in also serves the retired models
    # (SDXL, Titan, Nova Canvas), which the live service refuses as past their end of life.
    names = [line for line in lines if line.startswith("FAIL")]
    seed_zero = [n for n in names if n.endswith("seed 0 picks a non-zero seed")]
    seeded_live = [c for c in default_catalogue()
                   if c.seed_field and not suite_checks.retired_today(c)]
    assert len(seed_zero) == len(seeded_live)
    # Models without a seed field: their one generation expects a seed the service picked.
    unseeded = {f"FAIL  {c.family}: the required fields only"
                for c in default_catalogue() if not c.seed_field}
    retired = {f"FAIL  {c.family}: {c.primary.id} is past its end of life"
               for c in default_catalogue() if suite_checks.retired_today(c)}
    failed = lines.index(seed_zero[0])
    assert lines[failed + 1].strip() == "seed: expected non-zero (the service picks one for 0)"
    assert lines[failed + 2].strip() == "got      0"
    assert "FAIL  stable-diffusion-xl-v1: stability.stable-diffusion-xl-v1 is past its end of " \
        "life" in retired
    assert set(names) - set(seed_zero) == unseeded | retired
    failures = len(seed_zero) + len(unseeded) + len(retired)
    assert lines[-1].startswith(f"{len(LIVE) - failures} passed, {failures} failed")


def test_list_names_the_checks_and_calls_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(suite, "open_target", None)
    result = CliRunner().invoke(contract, ["--endpoint", "aws", "--list"])
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [f"{c.name}: {c.expect.describe()}" for c in LIVE]


def test_an_unreachable_endpoint_is_a_one_line_error() -> None:
    with MockServer() as gone:
        url = gone.endpoint_url
    result = CliRunner().invoke(contract, ["--endpoint", url])
    assert result.exit_code not in (0, 1)
    assert "cannot reach Bedrock Runtime" in result.stderr
    assert "Traceback" not in result.output


def test_the_sdxl_groups_endpoint_is_the_default(stand_in: MockServer) -> None:
    from sdxl_adapter.cli import main

    result = CliRunner().invoke(main, ["--endpoint", stand_in.endpoint_url, "contract", "--live"])
    assert result.exit_code == 2  # live mode against the group's URL: warned, nothing sent
    assert WARNING in result.stderr
    assert len(stand_in.app.app.journal) == 0  # type: ignore[attr-defined]
    confirmed = CliRunner().invoke(
        main, ["--endpoint", stand_in.endpoint_url, "contract", "--live", "--yes"]
    )
    assert confirmed.exit_code == 1, confirmed.output  # the stand-in's planted drift
    assert len(stand_in.app.app.journal) == len(LIVE)  # type: ignore[attr-defined]


TITAN_V1 = "amazon.titan-image-generator-v1"


def test_a_retired_models_run_ends_with_its_end_of_life_line() -> None:
    from sdxl_adapter.cli import main

    result = CliRunner().invoke(main, ["--model-id", TITAN_V1, "contract"])
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == [
        "warning: amazon.titan-image-generator-v1 reached its end of life on 2025-09-23: "
        "Bedrock refuses it, and these calls were answered only because the mock's date "
        "allows it; move to stability.stable-image-core-v1:1 (`sdxl migrate BODY --to "
        "stability.stable-image-core-v1:1`)"]
    live = CliRunner().invoke(main, ["--model-id", "us.stability.stable-image-remove-background"
                                                   "-v1:0", "contract"])
    assert live.exit_code == 0 and live.stderr == ""


def test_a_retired_models_live_run_says_bedrock_refuses_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from sdxl_adapter.cli import main

    monkeypatch.setattr(suite, "open_target", None)  # nothing may reach AWS
    result = CliRunner().invoke(main, ["--endpoint", "aws", "contract", "--model-id",
                                       TITAN_V1])
    assert result.exit_code == 2  # not confirmed: nothing sent
    assert result.stderr.splitlines()[0] == (
        "warning: amazon.titan-image-generator-v1 reached its end of life on 2025-09-23 and "
        "Bedrock refuses it; move to stability.stable-image-core-v1:1 (`sdxl migrate BODY "
        "--to stability.stable-image-core-v1:1`)")
