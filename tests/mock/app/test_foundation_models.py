"""The control plane's GetFoundationModel and ListFoundationModels, answered by the same
mock as of its date, through real boto3 ``bedrock`` clients on both doors, and beside moto:
code that checks a model's lifecycle at start-up (as AWS recommends) can be tested."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import boto3
import moto
import pytest
from botocore.exceptions import ClientError

from mock_bedrock import MockBedrock, mock_sdxl
from tests.support.doors import ONE_ATTEMPT, SESSION, Door

SDXL = "stability.stable-diffusion-xl-v1"
CORE = "stability.stable-image-core-v1:1"
INPAINT = "stability.stable-image-inpaint-v1:0"
UTC = dt.timezone.utc


@pytest.fixture
def bedrock(door: Door) -> Iterator[Any]:
    """A control-plane client of the door's mock, in us-west-2."""
    extra = {} if door.endpoint_url is None else {"endpoint_url": door.endpoint_url}
    client = SESSION.client("bedrock", region_name="us-west-2", config=ONE_ATTEMPT, **extra)
    before = door.app.as_of
    yield client
    door.app.as_of = before
    client.close()


def ids(answer: dict[str, Any]) -> set[str]:
    return {summary["modelId"] for summary in answer["modelSummaries"]}


def lifecycle_of(bedrock: Any, model_id: str) -> dict[str, Any]:
    found: dict[str, Any] = bedrock.get_foundation_model(modelIdentifier=model_id)
    return found["modelDetails"]["modelLifecycle"]  # type: ignore[no-any-return]


def test_a_legacy_model_is_listed_with_its_dates_before_its_end(door: Door, bedrock: Any) -> None:
    door.app.as_of = dt.date(2025, 1, 1)  # SDXL 1.0: legacy since 2024-11-21, gone 2025-05-20
    assert {SDXL, CORE, INPAINT} <= ids(bedrock.list_foundation_models())
    assert lifecycle_of(bedrock, SDXL) == {
        "status": "LEGACY",
        "startOfLifeTime": dt.datetime(2023, 7, 26, tzinfo=UTC),
        "legacyTime": dt.datetime(2024, 11, 21, tzinfo=UTC),
        "endOfLifeTime": dt.datetime(2025, 5, 20, tzinfo=UTC),
    }
    # An active model says only its status (and its start, where known).
    assert lifecycle_of(bedrock, CORE) == {"status": "ACTIVE"}


def test_a_model_past_its_end_is_gone(door: Door, bedrock: Any) -> None:
    door.app.as_of = dt.date(2025, 6, 1)
    assert SDXL not in ids(bedrock.list_foundation_models())
    with pytest.raises(ClientError) as gone:
        bedrock.get_foundation_model(modelIdentifier=SDXL)
    assert gone.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert gone.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_a_model_before_its_release_is_not_there_yet(door: Door, bedrock: Any) -> None:
    door.app.as_of = dt.date(2024, 6, 1)  # SD3.5 Large: released 2024-12-19
    assert "stability.sd3-5-large-v1:0" not in ids(bedrock.list_foundation_models())
    assert SDXL in ids(bedrock.list_foundation_models())  # not yet legacy
    assert lifecycle_of(bedrock, SDXL)["status"] == "ACTIVE"


def test_without_a_date_every_model_the_mock_serves_is_listed(door: Door, bedrock: Any) -> None:
    # The mock serves SDXL 1.0 without a date; it is listed, as legacy, its end in the past.
    door.app.as_of = None
    life = lifecycle_of(bedrock, SDXL)
    assert life["status"] == "LEGACY"
    assert life["endOfLifeTime"] < dt.datetime.now(UTC)


def test_a_summary_says_what_the_contract_says(bedrock: Any) -> None:
    details = bedrock.get_foundation_model(
        modelIdentifier=f"arn:aws:bedrock:us-west-2::foundation-model/{INPAINT}")["modelDetails"]
    assert details["modelArn"] == f"arn:aws:bedrock:us-west-2::foundation-model/{INPAINT}"
    assert details["modelName"] == "Stable Image Inpaint"
    assert details["providerName"] == "Stability AI"
    assert details["inputModalities"] == ["TEXT", "IMAGE"]
    assert details["outputModalities"] == ["IMAGE"]
    # No in-Region endpoint: called through its inference profile only.
    assert details["inferenceTypesSupported"] == ["INFERENCE_PROFILE"]
    assert "responseStreamingSupported" not in details  # image models carry no such key
    core = bedrock.get_foundation_model(modelIdentifier=CORE)["modelDetails"]
    assert (core["inputModalities"], core["inferenceTypesSupported"]) == (["TEXT"], ["ON_DEMAND"])


def test_filters(bedrock: Any) -> None:
    every = ids(bedrock.list_foundation_models())
    amazon = ids(bedrock.list_foundation_models(byProvider="Amazon"))
    assert amazon == {"amazon.titan-image-generator-v1", "amazon.titan-image-generator-v2:0",
                      "amazon.nova-canvas-v1:0"}
    assert ids(bedrock.list_foundation_models(byProvider="stability ai")) == every - amazon
    assert ids(bedrock.list_foundation_models(byOutputModality="IMAGE")) == every
    assert ids(bedrock.list_foundation_models(byOutputModality="TEXT")) == set()
    on_demand = ids(bedrock.list_foundation_models(byInferenceType="ON_DEMAND"))
    assert CORE in on_demand and INPAINT not in on_demand
    assert ids(bedrock.list_foundation_models(byCustomizationType="FINE_TUNING")) == set()


def test_a_filter_outside_its_enum_is_refused_as_the_framework_refuses_it(bedrock: Any) -> None:
    with pytest.raises(ClientError) as refused:
        bedrock.list_foundation_models(byOutputModality="VIDEO")
    assert refused.value.response["Error"] == {
        "Code": "ValidationException",
        "Message": "1 validation error detected: Value 'VIDEO' at 'byOutputModality' failed "
                   "to satisfy constraint: Member must satisfy enum value set: "
                   "[EMBEDDING, IMAGE, TEXT]",
    }


def test_an_unknown_id_or_a_profile_id_is_not_found(bedrock: Any) -> None:
    for named in ("acme.no-such-model-v1:0", f"us.{INPAINT}"):
        with pytest.raises(ClientError) as missing:
            bedrock.get_foundation_model(modelIdentifier=named)
        assert missing.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_strict_credentials_check_the_control_planes_signatures_too() -> None:
    with mock_sdxl(MockBedrock(credentials={"AKIDMOCK": "right"})):
        for secret, allowed in (("right", True), ("wrong", False)):
            bedrock = boto3.client("bedrock", region_name="us-east-1",
                                   aws_access_key_id="AKIDMOCK", aws_secret_access_key=secret)
            if allowed:
                assert CORE in ids(bedrock.list_foundation_models(byProvider="Stability AI"))
                continue
            with pytest.raises(ClientError) as refused:
                bedrock.get_foundation_model(modelIdentifier=CORE)
            assert refused.value.response["Error"]["Code"] == "InvalidSignatureException"


def test_inside_moto_the_rest_of_bedrock_stays_motos() -> None:
    with moto.mock_aws(), mock_sdxl(MockBedrock(as_of=dt.date(2025, 1, 1))):
        bedrock = boto3.client("bedrock", region_name="us-east-1")
        assert SDXL in ids(bedrock.list_foundation_models())  # the mock's, as of its date
        assert bedrock.list_custom_models()["modelSummaries"] == []  # moto's
