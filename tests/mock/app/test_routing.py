"""Routing, model ids and the shape of every error answer."""

from __future__ import annotations

import json
import uuid

import pytest
from werkzeug.test import Client

from mock_bedrock.service.app import MockBedrock
from mock_bedrock.service.errors import INVOKE, INVOKE_STREAM, operation_errors
from mock_bedrock.service.faults import FaultRule
from tests.support.sdxl_contract import RETIRED, UNKNOWN_MODEL
from tests.support.wsgi_app import SDXL, SDXL_ARN, boto3_client, invoke, parse, sdxl_body

BEDROCK_NS = "http://internal.amazon.com/coral/com.amazon.bedrock/"

# The statuses the contract (docs/models.md, "What every model shares") lists, written out here to check
# that what the app reads from botocore's model is what the contract says.
CONTRACT_STATUSES = {
    "ValidationException": 400,
    "AccessDeniedException": 403,
    "ResourceNotFoundException": 404,
    "ModelTimeoutException": 408,
    "ModelErrorException": 424,
    "ThrottlingException": 429,
    "ModelNotReadyException": 429,
    "ServiceQuotaExceededException": 400,
    "InternalServerException": 500,
    "ServiceUnavailableException": 503,
    "ModelStreamErrorException": 424,
}



@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize(
    "model_id",
    [SDXL, SDXL_ARN, "arn:aws:bedrock:eu-west-3::foundation-model/" + SDXL],
)
def test_sdxl_is_served_by_id_and_by_arn(wsgi: Client, model_id: str, stream: bool) -> None:
    response = invoke(wsgi, model_id=model_id, stream=stream)
    assert response.status_code == 200


def test_boto3_sends_an_arn_that_the_app_resolves(app: MockBedrock) -> None:
    answer = boto3_client(app).invoke_model(modelId=SDXL_ARN, body=json.dumps(sdxl_body()))
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert app.journal.entries()[-1].model_id == SDXL_ARN


@pytest.mark.parametrize(
    "model_id",
    ["stability.stable-diffusion-xl-v0", "stability.stable-diffusion-xl",
     "arn:aws:bedrock:us-east-1::foundation-model/stability.stable-diffusion-xl-v0"],
)
def test_end_of_life_ids_are_resource_not_found(wsgi: Client, model_id: str) -> None:
    response = invoke(wsgi, model_id=model_id)
    assert response.status_code == 404
    error = parse(response)["Error"]
    assert (error["Code"], error["Message"]) == ("ResourceNotFoundException", RETIRED.message)


@pytest.mark.parametrize(
    "model_id",
    ["stability.stable-diffusion-xl-v2", "amazon.titan-image-generator-v3:0", "sdxl",
     "arn:aws:bedrock:us-east-1::foundation-model/amazon.titan-text-express-v1",
     "arn:aws:bedrock:us-east-1:123456789012:custom-model/" + SDXL],
)
def test_other_ids_are_invalid(wsgi: Client, model_id: str) -> None:
    response = invoke(wsgi, model_id=model_id)
    assert response.status_code == 400
    error = parse(response)["Error"]
    assert (error["Code"], error["Message"]) == ("ValidationException", UNKNOWN_MODEL.message)


def test_error_shape_is_aws_rest_json(wsgi: Client) -> None:
    response = invoke(wsgi, model_id="nope.nope-v1")
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["x-amzn-ErrorType"] == f"ValidationException:{BEDROCK_NS}"
    assert response.json == {"message": UNKNOWN_MODEL.message}
    assert parse(response)["ResponseMetadata"]["RequestId"] == response.headers["x-amzn-RequestId"]


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/"), ("GET", "/custom-models"), ("POST", "/model/x"),
     ("POST", f"/model/{SDXL}/converse-typo"), ("POST", "/model//invoke")],
)
def test_unknown_paths_are_unknown_operations(wsgi: Client, method: str, path: str) -> None:
    response = wsgi.open(path, method=method, data=b"{}")
    assert response.status_code == 404
    assert response.headers["x-amzn-ErrorType"].startswith("UnknownOperationException:")
    assert "message" in response.json


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_wrong_method_is_an_aws_error_naming_the_allowed_one(wsgi: Client, method: str) -> None:
    response = wsgi.open(f"/model/{SDXL}/invoke", method=method)
    assert response.status_code == 404
    assert response.headers["x-amzn-ErrorType"].startswith("UnknownOperationException:")
    assert response.headers["Allow"] == "POST"


def test_every_response_carries_a_fresh_uuid4_request_id(wsgi: Client) -> None:
    answers = [
        invoke(wsgi), invoke(wsgi, stream=True), invoke(wsgi, model_id="x.y"),
        wsgi.get("/nowhere"), wsgi.get("/_mock/health"),
    ]
    ids = [response.headers["x-amzn-RequestId"] for response in answers]
    assert all(uuid.UUID(i).version == 4 for i in ids)
    assert len(set(ids)) == len(ids)


@pytest.mark.parametrize("operation", [INVOKE, INVOKE_STREAM])
def test_each_declared_error_has_the_contract_status_and_botocore_reads_its_code(
    operation: str,
) -> None:
    for code in sorted(operation_errors(operation)):
        app = MockBedrock(faults=[FaultRule(error=code, message=f"boom {code}")])
        response = invoke(Client(app), stream=operation == INVOKE_STREAM)
        assert response.status_code == CONTRACT_STATUSES[code], code
        error = parse(response, operation)["Error"]
        assert (error["Code"], error["Message"]) == (code, f"boom {code}")


def test_boto3_raises_the_modelled_exception_class(app: MockBedrock) -> None:
    app.faults.add(FaultRule(error="ThrottlingException"))
    bedrock = boto3_client(app)
    with pytest.raises(bedrock.exceptions.ThrottlingException) as caught:
        bedrock.invoke_model(modelId=SDXL, body=json.dumps(sdxl_body()))
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert caught.value.response["Error"]["Message"] == (
        "Too many requests, please wait before trying again."
    )
