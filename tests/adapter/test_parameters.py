"""InvokeModel's own parameters from the client library and the ``sdxl`` command: each
reaches the wire as its header, and a value the service would refuse is refused before
anything is sent, in the very words the mock answers it with."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from click.testing import CliRunner, Result

from bedrock_contract.input_check import header_members
from mock_bedrock.doors.server import MockServer
from sdxl_adapter import errors
from sdxl_adapter.cli import main
from sdxl_adapter.cli.errors import ExitCode
from sdxl_adapter.client import BedrockImageClient
from sdxl_adapter.parameters import ARGUMENTS
from sdxl_adapter.request import ModelRequest

CORE = "stability.stable-image-core-v1:1"
ARGS = {"service_tier": "default", "latency": "standard", "guardrail_id": "gr1abc",
        "guardrail_version": "7", "trace": "ENABLED"}
# What the service refuses, of a call otherwise fine: framework and model alike.
REFUSED = [
    {"trace": "bogus"},
    {"trace": "bogus", "guardrail_version": "v1"},
    {"guardrail_id": "a" * 2049},
    {"service_tier": "flex"},
    {"service_tier": "reserved"},
    {"latency": "optimized"},
]


@pytest.fixture
def client() -> Iterator[BedrockImageClient]:
    with BedrockImageClient("mock", model_id=CORE) as made:
        yield made


def request(**body: Any) -> ModelRequest:
    return ModelRequest(CORE, {"prompt": "a lighthouse at dusk", **body})


def headers_sent(journal_entry: Any) -> dict[str, str]:
    names = header_members("InvokeModel")
    return {argument: journal_entry.headers[names[member].lower()]
            for argument, member in ARGUMENTS.items()
            if names[member].lower() in journal_entry.headers}


def the_mocks_answer(client: BedrockImageClient, body: dict[str, Any], **args: str) -> str:
    """What the mock answers the same call sent as it is, unchecked."""
    with pytest.raises(errors.BedrockError) as refused:
        client.invoke_body(body, validate=False, **args)
    return refused.value.message


def test_every_parameter_reaches_the_wire_and_the_result_says_how_it_was_served(
    client: BedrockImageClient,
) -> None:
    result = client.generate(request(), **ARGS)
    assert headers_sent(client.mock.journal.entries()[-1]) == ARGS
    assert result.served == {"serviceTier": "default", "performanceConfigLatency": "standard"}
    assert client.generate(request()).served == {}


@pytest.mark.parametrize("args", REFUSED)
def test_a_refused_value_is_refused_locally_in_the_mocks_words(
    client: BedrockImageClient, args: dict[str, str]
) -> None:
    with pytest.raises(errors.InvalidRequest) as refused:
        client.generate(request(), **args)
    assert len(client.mock.journal) == 0  # nothing was sent
    assert refused.value.message == the_mocks_answer(client, request().to_body(), **args)


def test_the_parameters_are_refused_before_the_body_as_the_mock_does(
    client: BedrockImageClient,
) -> None:
    bad_body = request(seed=-1)
    with pytest.raises(errors.InvalidRequest) as refused:
        client.generate(bad_body, service_tier="flex")
    assert refused.value.message == "service tier provided is invalid"
    assert refused.value.message == the_mocks_answer(client, bad_body.to_body(),
                                                     service_tier="flex")


def test_a_raw_body_sent_unchecked_carries_the_parameters_as_given(
    client: BedrockImageClient,
) -> None:
    # validate=False: the service (here the mock) judges them, nothing local does.
    with pytest.raises(errors.ValidationException):
        client.invoke_body({"prompt": "x"}, validate=False, trace="bogus")
    assert headers_sent(client.mock.journal.entries()[-1]) == {"trace": "bogus"}


def test_the_boto_client_and_this_one_agree_on_a_stream() -> None:
    # SDXL streams; Stability's image models do not.
    with BedrockImageClient("mock", model_id="stability.stable-diffusion-xl-v1") as sdxl:
        body = {"text_prompts": [{"text": "x"}]}
        result = sdxl.invoke_body(body, stream=True, service_tier="default")
        assert result.served == {"serviceTier": "default"}
        with pytest.raises(ClientError) as refused:
            sdxl.boto_client.invoke_model_with_response_stream(
                modelId=sdxl.model_id, body=json.dumps(body), serviceTier="flex")
        with pytest.raises(errors.InvalidRequest) as local:
            sdxl.invoke_body(body, stream=True, service_tier="flex")
        assert local.value.message == refused.value.response["Error"]["Message"]


# --- the sdxl command ----------------------------------------------------------------------


def sdxl(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_the_options_reach_the_wire(mock_bedrock_endpoint: str,
                                    mock_bedrock_server: MockServer, in_tmp: Path) -> None:
    options = [part for argument, value in ARGS.items()
               for part in (f"--{argument.replace('_', '-')}", value)]
    result = sdxl("--endpoint", mock_bedrock_endpoint, "--model-id", CORE,
                  "generate", "a lighthouse", *options)
    assert result.exit_code == 0, result.output
    assert headers_sent(mock_bedrock_server.journal.entries()[-1]) == ARGS


@pytest.mark.parametrize("args", REFUSED)
def test_a_refused_option_is_one_line_with_the_mocks_words_and_sends_nothing(
    mock_bedrock_endpoint: str, mock_bedrock_server: MockServer, in_tmp: Path,
    args: dict[str, str],
) -> None:
    options = [part for argument, value in args.items()
               for part in (f"--{argument.replace('_', '-')}", value)]
    result = sdxl("--endpoint", mock_bedrock_endpoint, "--model-id", CORE,
                  "generate", "a lighthouse", *options)
    assert result.exit_code == ExitCode.REFUSED_LOCALLY
    assert len(mock_bedrock_server.journal) == 0
    with BedrockImageClient(mock_bedrock_endpoint, model_id=CORE) as client:
        answer = the_mocks_answer(client, {"prompt": "a lighthouse"}, **args)
    # What the model offers is checked once the client knows its region: the endpoint
    # line may come first, and nothing is sent either way.
    assert result.stderr.splitlines()[-1] == f"Error: refused locally, nothing was sent: {answer}"
    assert len(result.stderr.splitlines()) <= 2


def test_the_help_lists_botocores_values_and_the_models_offer() -> None:
    result = sdxl("--model-id", CORE, "generate", "--help")
    assert result.exit_code == 0
    text = " ".join(result.stdout.split())
    assert "--service-tier [priority|default|flex|reserved]" in text
    assert "--trace [ENABLED|DISABLED|ENABLED_FULL]" in text
    assert "Stable Image Core offers: default." in text
