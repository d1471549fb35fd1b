"""The contract suite: built from each family's folder, passes against both doors of the
mock, covers every model's contract, keeps the live subset small, and names a planted drift
in a stand-in for real Bedrock."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from bedrock_contract import (
    AspectRatioRule,
    Catalogue,
    PairsRule,
    contract_for,
    default_catalogue,
)
from mock_bedrock import MockBedrock, mock_sdxl
from mock_bedrock.doors.server import MockServer
from sdxl_adapter.contract import checks as suite_checks, runner as contract
from sdxl_adapter.contract.runner import Generates, Refused
from tests.support import contract_standin as standin, sdxl_contract as sdxl
from tests.support.custom_model import MODEL_ID as CUSTOM_ID, write_model_folder

FRAME = "Malformed input request: {}, please reformat your input and try again."
FAMILIES = [c.family for c in default_catalogue()]
SDXL = "stable-diffusion-xl-v1"


def by_name(name: str) -> contract.Check:
    return next(check for check in contract.checks() if check.name == name)


def family_of(family: str) -> list[contract.Check]:
    return [c for c in contract.checks() if c.family == family]


# --- the suite against the mock ------------------------------------------------------------


def test_every_check_passes_through_the_in_process_door(
    bedrock_runtime: Any, mock_bedrock: Any
) -> None:
    report = contract.run_suite(bedrock_runtime, target="in-process mock")
    assert report.passed, report.render()
    assert len(report.results) == len(contract.checks())
    assert len(mock_bedrock.journal) == len(contract.checks())  # one call per check
    assert {r.check.family for r in report.results} == set(FAMILIES)


def test_every_check_passes_through_the_server_door(mock_bedrock_server: MockServer) -> None:
    with contract.open_target(mock_bedrock_server.endpoint_url) as client:
        report = contract.run_suite(client)
    assert report.passed, report.render()
    assert report.target == mock_bedrock_server.endpoint_url


def test_the_live_subset_passes_against_the_mock_as_of_today() -> None:
    # What the service does today, SDXL's end of life included, is what the mock does when
    # told the date.
    with MockServer(as_of=dt.date.today()) as server, contract.open_target(
        server.endpoint_url
    ) as client:
        report = contract.run_suite(client, contract.live_checks())
    assert report.passed, report.render()
    assert by_name_in(report, f"{SDXL}: stability.stable-diffusion-xl-v1 is past its end of life")


def by_name_in(report: contract.Report, name: str) -> bool:
    return any(r.check.name == name and r.passed for r in report.results)


# --- what the suite covers -----------------------------------------------------------------


@pytest.mark.parametrize("family", FAMILIES)
def test_every_size_choice_and_output_format_is_generated(family: str) -> None:
    model = default_catalogue().family(family)
    generated = [c.expect for c in family_of(family) if isinstance(c.expect, Generates)]
    sizes = {g.size for g in generated}
    rule = model.size
    if isinstance(rule, PairsRule):
        assert set(rule.allowed) <= sizes
    elif isinstance(rule, AspectRatioRule):
        assert set(rule.pixels.values()) <= sizes
    else:  # the input's size, changed by the operation: more than one size is expected
        assert len(sizes) >= 1
    assert {g.output_format for g in generated} == set(model.output_formats)


@pytest.mark.parametrize("family", FAMILIES)
def test_every_enum_value_is_generated(family: str) -> None:
    model = default_catalogue().family(family)
    bodies = [c.body for c in family_of(family) if isinstance(c.expect, Generates)]
    for name, spec in model.properties.items():
        if "enum" in spec:
            assert {b.get(name) for b in bodies} >= set(spec["enum"]), name


def test_sdxl_image_to_image_and_masking_shapes_are_generated() -> None:
    bodies = [c.body for c in family_of(SDXL) if isinstance(c.expect, Generates)]
    modes = {b.get("init_image_mode") for b in bodies if "init_image" in b}
    sources = {b["mask_source"] for b in bodies if "mask_source" in b}
    assert set(sdxl.field("init_image_mode")["enum"]) <= modes
    assert sources == set(sdxl.field("mask_source")["enum"])


def test_image_to_image_expects_the_input_images_size() -> None:
    for family, name in ((SDXL, "init_image_mode IMAGE_STRENGTH"),
                         ("sd3-5-large", "mode image-to-image")):
        check = by_name(f"{family}: {name}")
        assert isinstance(check.expect, Generates)
        default = default_catalogue().family(family).size.asked({})
        assert check.expect.size != default  # so a default-size answer fails


# Titan's and Canvas's answers name no seed: the rule is not checked for them.
@pytest.mark.parametrize("family", [f for f in FAMILIES if default_catalogue().family(f).seed_field
                                    and default_catalogue().family(f).response.seed])
def test_the_seed_rule_is_checked_both_ways(family: str) -> None:
    model = default_catalogue().family(family)
    seeds = [c.expect.seed for c in family_of(family) if isinstance(c.expect, Generates)]
    assert None in seeds  # a non-zero seed is expected for seed 0 / no seed
    assert model.seed_range()[1] in seeds  # an explicit seed is echoed, up to the largest


@pytest.mark.parametrize("family", FAMILIES)
def test_each_required_field_range_and_enum_is_refused(family: str) -> None:
    model = default_catalogue().family(family)
    names = {c.name.split(": ", 1)[1] for c in family_of(family) if isinstance(c.expect, Refused)}
    for name in model.required:
        assert f"no {name}" in names
    for name, spec in model.properties.items():
        if "enum" in spec:
            assert f"{name} outside its enum" in names
        if "maximum" in spec:
            assert f"{name} above its maximum" in names
        if "maxLength" in spec:
            assert f"{name} too long" in names
    assert "an unknown key" in names
    assert "unknown model id" in names
    if not model.streaming:
        assert "response streaming is refused" in names
    for version in model.models:
        if not version.described:
            assert f"retired model id {version.id}" in names


def test_refusals_carry_bedrocks_wording() -> None:
    steps = sdxl.field("steps")
    assert by_name(f"{SDXL}: steps above its maximum").expect == Refused(
        "ValidationException", 400,
        FRAME.format(f"#/steps: {steps['maximum'] + 1} is not less or equal to {steps['maximum']}"),
    )
    assert by_name("stable-image-core: no prompt").expect == Refused(
        "ValidationException", 400, FRAME.format("#: required key [prompt] not found")
    )


def test_a_refusal_check_breaks_exactly_one_rule() -> None:
    core = contract_for("stability.stable-image-core-v1:1")
    assert suite_checks.refused(core, "two rules", {"seed": -1}) is None
    assert suite_checks.refused(core, "no rule", {"prompt": "x"}) is None


def test_the_live_subset_is_small_cheap_and_checks_sizes_seeds_refusals_and_retirement() -> None:
    live = contract.live_checks()
    assert len(live) <= 5 * len(FAMILIES)
    generations = [c for c in live if isinstance(c.expect, Generates)]
    assert contract.billed_calls(live) == len(generations) <= 2 * len(FAMILIES)
    assert {c.expect.seed is None for c in generations} == {True, False}
    # SDXL is past its end of life: live, it is only checked for the service's refusal.
    assert not [c for c in generations if c.family == SDXL]
    assert [c.name for c in live if c.family == SDXL] == [
        f"{SDXL}: stability.stable-diffusion-xl-v1 is past its end of life"
    ]
    assert any(isinstance(c.expect, Refused) and "Malformed" in c.expect.message for c in live)
    assert contract.cost_warning(live).startswith(f"Live mode: {len(live)} calls")


def test_a_model_folder_outside_the_project_is_covered(tmp_path: Path) -> None:
    folder = write_model_folder(tmp_path)
    found = suite_checks.family_checks(Catalogue.load((folder,)).family(folder.name))
    names = {c.name for c in found}
    assert "acme-poster: aspect ratio 3:1" in names
    assert "acme-poster: output_format jpeg" in names
    assert "acme-poster: headline too long" in names
    assert f"acme-poster: {CUSTOM_ID} through the eu. profile" in names
    with mock_sdxl(MockBedrock(catalogue=Catalogue.load((folder,)))):
        client = boto3.client("bedrock-runtime", region_name="eu-west-1")
        report = contract.run_suite(client, found)
    assert report.passed, report.render()


# --- a stand-in for real Bedrock with one planted drift -----------------------------------


@pytest.fixture
def drifted_bedrock(request: pytest.FixtureRequest) -> Iterator[str]:
    with MockServer(app=standin.Drifted(request.param)) as server:
        yield server.endpoint_url


SEED_ZERO = "seed 0 picks a non-zero seed"
# The live subset checks a family past its end of life for its refusal alone (SDXL, Titan,
# Nova Canvas): the drifts below touch the others.
LIVE = [f for f in FAMILIES if not suite_checks.retired_today(default_catalogue().family(f))]
RETIRED_TODAY = [default_catalogue().family(f) for f in FAMILIES if f not in LIVE]
SEEDED_LIVE = [f for f in LIVE if default_catalogue().family(f).seed_field]
UNSEEDED = [f for f in LIVE if not default_catalogue().family(f).seed_field]


def first_retired_ids() -> list[tuple[str, str]]:
    """Each live family's first retired id: the one in the live subset."""
    found = []
    for model in default_catalogue():
        if model.family not in LIVE:
            continue  # past its end of life: live, only that is checked
        retired = [m.id for m in model.models if not m.described]
        if retired:
            found.append((model.family, retired[0]))
    return found
DRIFTS = [
    pytest.param(
        standin.seed_zero_echoed,
        {f"{family}: {SEED_ZERO}": ("seed", "non-zero (the service picks one for 0)", "0")
         for family in SEEDED_LIVE}
        | {f"{family}: the required fields only":  # no seed field: the service picks one
           ("seed", "non-zero (the service picks one for 0)", "0") for family in UNSEEDED},
        id="seed-0-echoed",
    ),
    pytest.param(
        standin.other_range_wording,
        {f"{model.family}: seed above its maximum":
         ("message", FRAME.format(f"#/seed: {high + 1} is not less or equal to {high}"),
          FRAME.format(f"#/seed: {high + 1} > max {high}"))
         for model in map(default_catalogue().family, SEEDED_LIVE)
         for high in [model.seed_range()[1]]},
        id="other-wording",
    ),
    pytest.param(
        standin.retired_model_worded_otherwise,
        {f"{family}: retired model id {retired}": ("message", sdxl.RETIRED.message,
                                                    "Model not found.")
         for family, retired in first_retired_ids()}
        | {f"{model.family}: {model.primary.id} is past its end of life":
           ("outcome", f"ResourceNotFoundException: {sdxl.RETIRED.message}", "success (HTTP 200)")
           for model in RETIRED_TODAY},
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
    # The stand-in is the mock serving every model: each end of life always shows.
    eol = {f"{m.family}: {m.primary.id} is past its end of life" for m in RETIRED_TODAY}
    assert set(failed) - eol == set(named) - eol
    for name, (aspect, expected, got) in named.items():
        assert failed[name] == (contract.Difference(aspect, expected, got),)
        rendered = report.render()
        assert f"FAIL  {name}" in rendered
        assert f"{aspect}: expected {expected}" in rendered and f"got      {got}" in rendered


@pytest.mark.parametrize("drifted_bedrock", [standin.finished_reason], indirect=True)
def test_the_full_suite_names_every_check_the_drift_touches(drifted_bedrock: str) -> None:
    with contract.open_target(drifted_bedrock) as client:
        report = contract.run_suite(client, family_of(SDXL))
    failed = {r.check.name for r in report.failures}
    expected = {c.name for c in family_of(SDXL) if isinstance(c.expect, Generates)}
    assert failed == expected
    [first, *_] = report.failures
    assert first.differences == (contract.Difference(
        "response body", "satisfies the response schema",
        "response body breaks the Stable Diffusion XL 1.0 contract: "
        "#/artifacts/0: required key [finishReason] not found"),)
    assert report.render().endswith(
        f"{len(report.results) - len(failed)} passed, {len(failed)} failed: the target "
        "differs from the contract where FAIL says so above"
    )


def test_a_transport_failure_ends_the_run_instead_of_failing_checks() -> None:
    with MockServer() as gone:
        url = gone.endpoint_url
    with contract.open_target(url) as client, pytest.raises(contract.EndpointConnectionError):
        contract.run_check(client, contract.live_checks()[0])
