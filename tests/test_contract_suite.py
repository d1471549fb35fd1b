"""The contract suite: passes against both doors of the mock, covers the contract, keeps the
live subset small, and names a planted drift in a stand-in for real Bedrock."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

import bedrock_contract
from bedrock_contract.loader import field
from mock_bedrock.doors.server import MockServer
from sdxl_adapter.contract import runner as contract
from sdxl_adapter.contract.runner import Generates, Refused
from tests import contract_standin as standin

FRAME = "Malformed input request: {}, please reformat your input and try again."


def by_name(name: str) -> contract.Check:
    return next(check for check in contract.checks() if check.name == name)


# --- the suite against the mock ------------------------------------------------------------


def test_every_check_passes_through_the_in_process_door(
    bedrock_runtime: Any, mock_bedrock: Any
) -> None:
    report = contract.run_suite(bedrock_runtime, target="in-process mock")
    assert report.passed, report.render()
    assert len(report.results) == len(contract.checks())
    assert len(mock_bedrock.journal) == len(contract.checks())  # one call per check


def test_every_check_passes_through_the_server_door(mock_bedrock_server: MockServer) -> None:
    with contract.open_target(mock_bedrock_server.endpoint_url) as client:
        report = contract.run_suite(client)
    assert report.passed, report.render()
    assert report.target == mock_bedrock_server.endpoint_url


# --- what the suite covers -----------------------------------------------------------------


def test_every_allowed_size_is_generated() -> None:
    sizes = {c.expect.size for c in contract.checks() if isinstance(c.expect, Generates)}
    assert sizes == set(bedrock_contract.allowed_sizes())


def test_every_shape_is_generated() -> None:
    bodies = [c.body for c in contract.checks() if isinstance(c.expect, Generates)]
    modes = {b.get("init_image_mode") for b in bodies if "init_image" in b}
    sources = {b["mask_source"] for b in bodies if "mask_source" in b}
    assert set(field("init_image_mode")["enum"]) <= modes
    assert sources == set(field("mask_source")["enum"])


def test_image_to_image_expects_the_init_images_size() -> None:
    [check, *_] = [c for c in contract.checks() if "init_image_mode" in c.body]
    assert isinstance(check.expect, Generates)
    assert check.expect.size != bedrock_contract.DEFAULT_SIZE  # so a default-size answer fails


def test_the_seed_rule_is_checked_both_ways() -> None:
    seeds = [c.expect.seed for c in contract.checks() if isinstance(c.expect, Generates)]
    assert None in seeds  # a non-zero seed is expected for seed 0 / no seed
    assert field("seed")["maximum"] in seeds  # an explicit seed is echoed, up to the largest


def test_each_range_and_enum_is_refused_with_bedrocks_wording() -> None:
    steps = field("steps")
    check = by_name("steps above its maximum")
    assert check.expect == Refused(
        "ValidationException", 400,
        FRAME.format(f"#/steps: {steps['maximum'] + 1} is not less or equal to {steps['maximum']}"),
    )
    names = {c.name for c in contract.checks() if isinstance(c.expect, Refused)}
    for name, spec in bedrock_contract.request_schema()["properties"].items():
        if "enum" in spec:
            assert f"{name} outside its enum" in names
        if "minimum" in spec:
            assert f"{name} below its minimum" in names


def test_a_refusal_check_must_break_exactly_one_rule() -> None:
    with pytest.raises(ValueError, match="more than one rule"):
        contract.refused("two rules", contract.base_body(steps=0, cfg_scale=-1))
    with pytest.raises(ValueError, match="accepts this body"):
        contract.refused("no rule", contract.base_body())


def test_the_live_subset_is_small_cheap_and_still_checks_sizes_seeds_and_refusals() -> None:
    live = contract.live_checks()
    assert 3 <= len(live) <= 5
    generations = [c for c in live if isinstance(c.expect, Generates)]
    assert contract.billed_calls(live) == len(generations) <= 2
    assert all(c.body["steps"] == field("steps")["minimum"] for c in generations)
    assert {c.expect.seed is None for c in generations} == {True, False}
    assert len({c.expect.size for c in generations}) == 2
    assert any(isinstance(c.expect, Refused) for c in live)


# --- a stand-in for real Bedrock with one planted drift -----------------------------------


@pytest.fixture
def drifted_bedrock(request: pytest.FixtureRequest) -> Iterator[str]:
    with MockServer(app=standin.Drifted(request.param)) as server:
        yield server.endpoint_url


DRIFTS = [
    pytest.param(
        standin.seed_zero_echoed,
        {"text-to-image 1152x896, seed 0 picks a non-zero seed":
         ("seed", "non-zero (the service picks one for 0)", "0")},
        id="seed-0-echoed",
    ),
    pytest.param(
        standin.other_range_wording,
        {"steps above its maximum":
         ("message", FRAME.format("#/steps: 151 is not less or equal to 150"),
          FRAME.format("#/steps: 151 > max 150"))},
        id="other-wording",
    ),
    pytest.param(
        standin.finished_reason,
        {name: ("response body", "satisfies the response schema",
                "response body breaks the SDXL contract: "
                "#/artifacts/0: required key [finishReason] not found")
         for name in ("text-to-image 1024x1024, explicit seed echoed",
                      "text-to-image 1152x896, seed 0 picks a non-zero seed")},
        id="finishedReason",
    ),
    pytest.param(
        standin.retired_model_worded_otherwise,
        {f"retired model id {bedrock_contract.RETIRED_MODEL_IDS[0]}":
         ("message", bedrock_contract.RETIRED.message, "Model not found.")},
        id="retired-model-wording",
    ),
]


@pytest.mark.parametrize(("drifted_bedrock", "named"), DRIFTS, indirect=["drifted_bedrock"])
def test_the_live_subset_names_the_planted_drift(
    drifted_bedrock: str, named: dict[str, tuple[str, str, str]]
) -> None:
    with contract.open_target(drifted_bedrock) as client:
        report = contract.run_suite(client, contract.live_checks())
    assert not report.passed
    failed = {r.check.name: r.differences for r in report.failures}
    assert set(failed) == set(named)
    for name, (aspect, expected, got) in named.items():
        assert failed[name] == (contract.Difference(aspect, expected, got),)
        rendered = report.render()
        assert f"FAIL  {name}" in rendered
        assert f"{aspect}: expected {expected}" in rendered and f"got      {got}" in rendered


@pytest.mark.parametrize("drifted_bedrock", [standin.seed_zero_echoed], indirect=True)
def test_the_full_suite_names_every_check_the_drift_touches(drifted_bedrock: str) -> None:
    with contract.open_target(drifted_bedrock) as client:
        report = contract.run_suite(client)
    failed = {r.check.name for r in report.failures}
    expected = {c.name for c in contract.checks()
                if isinstance(c.expect, Generates) and c.expect.seed is None}
    assert failed == expected
    assert report.render().endswith(
        f"{len(report.results) - len(failed)} passed, {len(failed)} failed: the target "
        "differs from the contract where FAIL says so above"
    )


def test_a_transport_failure_ends_the_run_instead_of_failing_checks() -> None:
    with MockServer() as gone:
        url = gone.endpoint_url
    with contract.open_target(url) as client, pytest.raises(contract.EndpointConnectionError):
        contract.run_check(client, contract.live_checks()[0])
