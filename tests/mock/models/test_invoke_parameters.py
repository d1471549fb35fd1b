"""InvokeModel's own parameters (its headers) over the wire, through both doors with real
boto3 clients: the framework's refusals from botocore's constraints, the model's tiers and
latencies, the answer's headers saying how a call was served, and the Date of every answer.
"""

from __future__ import annotations

import datetime as dt
import json
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from werkzeug.test import EnvironBuilder, run_wsgi_app

from bedrock_contract import Catalogue, default_catalogue
from bedrock_contract.input_check import header_members, input_violations
from bedrock_contract.service import OPERATIONS, operation_model
from mock_bedrock import MockBedrock, mock_sdxl
from tests.support.custom_model import MODEL_ID as CUSTOM_MODEL, write_model_folder
from tests.support.doors import ONE_ATTEMPT, Door
from tests.support.wsgi_app import model_path

CORE = "stability.stable-image-core-v1:1"
CORE_BODY = json.dumps({"prompt": "a lighthouse at dusk"})
SDXL = "stability.stable-diffusion-xl-v1"
SDXL_BODY = json.dumps({"text_prompts": [{"text": "a lighthouse at dusk"}]})
# Values botocore itself would refuse (a string under its minimum length) must reach the
# service to be refused in its words.
UNCHECKED = ONE_ATTEMPT.merge(Config(parameter_validation=False))
VALID = {
    "trace": "ENABLED_FULL",
    "guardrailIdentifier": "arn:aws:bedrock:us-east-1:123456789012:guardrail/abc123",
    "guardrailVersion": "DRAFT",
    "performanceConfigLatency": "standard",
    "serviceTier": "default",
    "requestMetadata": json.dumps({"team": "posters"}),
    "projectIdentifier": "posters_2026",
}


def refusal(client: Any, model_id: str = CORE, body: str = CORE_BODY, **params: str) -> str:
    with pytest.raises(ClientError) as refused:
        client.invoke_model(modelId=model_id, body=body, **params)
    error = refused.value.response["Error"]
    assert error["Code"] == "ValidationException"
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    message: str = error["Message"]
    return message


# --- the framework's check, from botocore's constraints ------------------------------------


@pytest.mark.parametrize(("member", "values"), [
    ("trace", "[DISABLED, ENABLED, ENABLED_FULL]"),
    ("performanceConfigLatency", "[optimized, standard]"),
])
def test_a_value_outside_the_enum_is_refused_listing_the_values_sorted(
    client: Any, member: str, values: str
) -> None:
    assert refusal(client, **{member: "bogus"}) == (
        f"1 validation error detected: Value 'bogus' at '{member}' failed to satisfy "
        f"constraint: Member must satisfy enum value set: {values}"
    )


def test_a_value_off_the_pattern_is_refused_with_the_pattern(client: Any) -> None:
    assert refusal(client, guardrailVersion="v1") == (
        "1 validation error detected: Value 'v1' at 'guardrailVersion' failed to satisfy "
        "constraint: Member must satisfy regular expression pattern: (|([1-9][0-9]{0,7})|(DRAFT))"
    )
    # The whole value must match, not a part of it.
    assert "at 'guardrailVersion'" in refusal(client, guardrailVersion="1 ")


def test_a_value_too_long_is_refused_with_the_limit(client: Any) -> None:
    assert refusal(client, guardrailIdentifier="a" * 2049) == (
        "1 validation error detected: Value '" + "a" * 2049 + "' at 'guardrailIdentifier' "
        "failed to satisfy constraint: Member must have length less than or equal to 2048"
    )


def test_a_sensitive_value_is_not_repeated_in_the_refusal(client: Any) -> None:
    assert refusal(client, requestMetadata="x" * 8501) == (
        "1 validation error detected: Value at 'requestMetadata' failed to satisfy "
        "constraint: Member must have length less than or equal to 8500"
    )


def test_a_value_too_short_breaks_its_pattern_and_its_length(door: Door) -> None:
    client = door.client(UNCHECKED)
    assert refusal(client, projectIdentifier="") == (
        "2 validation errors detected: Value '' at 'projectIdentifier' failed to satisfy "
        "constraint: Member must satisfy regular expression pattern: ([a-zA-Z0-9_-]+|"
        "arn:aws(|-us-gov|-cn|-iso|-iso-b|-iso-f|-eusc):bedrock:[0-9a-z-]{1,20}:[0-9]{12}:"
        "project/[a-zA-Z0-9_-]+); Value '' at 'projectIdentifier' failed to satisfy "
        "constraint: Member must have length greater than or equal to 1"
    )
    client.close()


def test_several_bad_values_make_one_refusal_in_the_models_member_order(client: Any) -> None:
    assert refusal(client, guardrailVersion="v1", trace="bogus") == (
        "2 validation errors detected: Value 'bogus' at 'trace' failed to satisfy constraint: "
        "Member must satisfy enum value set: [DISABLED, ENABLED, ENABLED_FULL]; Value 'v1' at "
        "'guardrailVersion' failed to satisfy constraint: Member must satisfy regular "
        "expression pattern: (|([1-9][0-9]{0,7})|(DRAFT))"
    )


def test_the_framework_refuses_before_the_model_id_and_the_body_are_read(client: Any) -> None:
    message = refusal(client, model_id="acme.no-such-model-v9:0", body="not json",
                      trace="bogus")
    assert message.startswith("1 validation error detected: Value 'bogus' at 'trace'")


def test_a_body_too_long_and_a_bad_header_make_one_refusal() -> None:
    # A body past the limit is refused by its Content-Length, unread: said to the app.
    environ = EnvironBuilder(path=model_path(CORE), method="POST").get_environ()
    environ.update(CONTENT_LENGTH="25000001", CONTENT_TYPE="application/json",
                   HTTP_X_AMZN_BEDROCK_TRACE="bogus")
    chunks, status, _ = run_wsgi_app(MockBedrock(), environ)
    assert status.startswith("400")
    assert json.loads(b"".join(chunks)) == {"message": (
        "2 validation errors detected: Value at 'body' failed to satisfy constraint: Member "
        "must have length less than or equal to 25000000; Value 'bogus' at 'trace' failed to "
        "satisfy constraint: Member must satisfy enum value set: [DISABLED, ENABLED, "
        "ENABLED_FULL]"
    )}


def test_every_pattern_botocore_states_for_a_header_is_checked() -> None:
    # The check reads the patterns as Python regular expressions: each must compile, and
    # each must refuse something (a value of one control character is none's).
    for operation in OPERATIONS:
        members = operation_model(operation).input_shape.members
        for member in header_members(operation):
            pattern = members[member].metadata.get("pattern")
            if pattern is not None:
                assert input_violations(operation, {member: "\x01"}), (operation, member)


# --- valid values, and the answer's headers ------------------------------------------------


def test_valid_values_are_served_and_the_answer_says_the_tier_and_latency(
    client: Any, door: Door
) -> None:
    response = client.invoke_model(modelId=CORE, body=CORE_BODY, **VALID)
    assert json.loads(response["body"].read())["finish_reasons"] == [None]
    assert response["serviceTier"] == "default"
    assert response["performanceConfigLatency"] == "standard"
    journaled = door.app.journal.entries()[-1].headers
    for member, header in header_members("InvokeModel").items():
        if member in VALID and member != "requestMetadata":  # sensitive: not journaled
            assert journaled[header.lower()] == VALID[member]
    assert "x-amzn-bedrock-request-metadata" not in journaled


def test_an_answer_says_nothing_of_a_tier_the_call_did_not_ask_for(client: Any) -> None:
    response = client.invoke_model(modelId=CORE, body=CORE_BODY)
    assert "serviceTier" not in response and "performanceConfigLatency" not in response


def test_the_stream_answer_says_the_tier_too(client: Any) -> None:
    response = client.invoke_model_with_response_stream(
        modelId=SDXL, body=SDXL_BODY, serviceTier="default"
    )
    assert [event for event in response["body"] if "chunk" in event]
    assert response["serviceTier"] == "default"


# --- what the model offers -----------------------------------------------------------------


@pytest.mark.parametrize(("asked", "message"), [
    ({"serviceTier": "flex"}, "service tier provided is invalid"),
    ({"serviceTier": "priority"}, "service tier provided is invalid"),
    ({"serviceTier": "reserved"}, "Reservation not found."),
    # The framework leaves the tier to the service: a value outside botocore's enum too.
    ({"serviceTier": "bogus"}, "service tier provided is invalid"),
    # Seen for other models without it: the id as named and the call's region.
    ({"performanceConfigLatency": "optimized"},
     "Latency performance configuration is not supported for {model_id} in {region}"),
])
def test_a_tier_or_latency_the_stability_models_lack_is_refused(
    client: Any, asked: dict[str, str], message: str
) -> None:
    region = client.meta.region_name
    for model_id in (CORE, "stability.sd3-5-large-v1:0"):
        expected = message.replace("{model_id}", model_id).replace("{region}", region)
        assert refusal(client, model_id=model_id, **asked) == expected


def test_the_region_named_is_the_one_the_call_was_signed_for(door: Door) -> None:
    extra = {} if door.endpoint_url is None else {"endpoint_url": door.endpoint_url}
    client = boto3.session.Session().client("bedrock-runtime", region_name="eu-west-1",
                                            config=ONE_ATTEMPT, **extra)
    assert refusal(client, performanceConfigLatency="optimized").endswith(" in eu-west-1")


def test_the_tier_is_judged_once_the_model_is_known(client: Any) -> None:
    unknown = default_catalogue().words.unknown_model.message
    assert refusal(client, model_id="acme.no-such-model-v9:0", serviceTier="bogus") == unknown


def test_a_profile_may_offer_more_than_the_default(tmp_path: Path) -> None:
    folder = write_model_folder(tmp_path)
    profile = json.loads((folder / "profile.json").read_text())
    profile["invoke_parameters"] = {"serviceTier": ["default", "flex"],
                                    "source": "a test's own model"}
    (folder / "profile.json").write_text(json.dumps(profile))
    catalogue = Catalogue.load((folder,))
    assert catalogue.family(folder.name).invoke_parameters == {
        "serviceTier": ("default", "flex"), "performanceConfigLatency": ("standard",)}
    with mock_sdxl(MockBedrock(catalogue=catalogue)):
        client = boto3.client("bedrock-runtime", region_name="us-east-1")
        body = json.dumps({"headline": "SALE"})
        served = client.invoke_model(modelId=CUSTOM_MODEL, body=body, serviceTier="flex")
        assert served["serviceTier"] == "flex"
        assert refusal(client, model_id=CUSTOM_MODEL, body=body, serviceTier="priority") == (
            "service tier provided is invalid")


def test_a_profile_offering_a_value_botocore_does_not_know_does_not_load(
    tmp_path: Path
) -> None:
    folder = write_model_folder(tmp_path)
    profile = json.loads((folder / "profile.json").read_text())
    profile["invoke_parameters"] = {"serviceTier": ["flx"]}
    (folder / "profile.json").write_text(json.dumps(profile))
    with pytest.raises(ValueError, match=r"invoke_parameters.serviceTier holds \['flx'\]"):
        Catalogue.load((folder,))


# --- Date ----------------------------------------------------------------------------------


def answered_at(metadata: dict[str, Any]) -> dt.datetime:
    when = parsedate_to_datetime(metadata["HTTPHeaders"]["date"])
    assert when.tzinfo is not None  # IMF-fixdate: GMT
    assert abs((dt.datetime.now(dt.timezone.utc) - when).total_seconds()) < 60
    return when


def test_every_answer_carries_the_date(client: Any) -> None:
    answered_at(client.invoke_model(modelId=CORE, body=CORE_BODY)["ResponseMetadata"])
    streamed = client.invoke_model_with_response_stream(modelId=SDXL, body=SDXL_BODY)
    answered_at(streamed["ResponseMetadata"])
    streamed["body"].close()
    for model_id, params in ((CORE, {"trace": "bogus"}), ("acme.none-v1:0", {})):
        with pytest.raises(ClientError) as refused:
            client.invoke_model(modelId=model_id, body=CORE_BODY, **params)
        answered_at(refused.value.response["ResponseMetadata"])
