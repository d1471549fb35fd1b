"""The client: validates a request against its model's contract, calls Bedrock Runtime
through boto3, checks and decodes the response, and raises typed errors.

Transport, signing, retries and error parsing are botocore's; this module only chooses the
endpoint, the retry configuration, the contract each call is checked by, and what each
outcome means for a caller.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping
from typing import Any

import boto3
import urllib3.exceptions
from botocore.client import BaseClient
from botocore.config import Config
from botocore.exceptions import (
    ClientError,
    ConfigParseError,
    ConnectionError as BotocoreConnectionError,
    HTTPClientError,
    NoCredentialsError,
    NoRegionError,
    ProfileNotFound,
)

from bedrock_contract import ModelContract, default_catalogue
from bedrock_contract.service import (
    INVOKE,
    INVOKE_STREAM,
    JSON,
    SERVICE_NAME,
    has_local_credentials,
    isolated_session,
)
from sdxl_adapter.endpoints import AWS, MOCK
from sdxl_adapter.errors import (
    ClientConfigError,
    ConnectionFailed,
    CredentialsMissing,
    from_client_error,
)
from sdxl_adapter.models import DEFAULT_MODEL_ID, SDXL_MODEL_ID, is_sdxl, sdxl_contract
from sdxl_adapter.parameters import call_parameters, check_parameters
from sdxl_adapter.request import AnyRequest, ModelRequest, SDXLRequest
from sdxl_adapter.response import result_from_body
from sdxl_adapter.result import GenerationResult

__all__ = ["DEFAULT_MODEL_ID", "BedrockImageClient", "SDXLClient"]
# The in-process mock started here checks no signatures, and a user's real credentials have
# no business there, so its client signs with placeholders (never walking the credential
# chain, which may reach the network for instance metadata). A URL endpoint is often a local
# mock on a machine with no AWS configuration, so it gets them too when the machine has none;
# an endpoint that checks signatures refuses them with a clear message.
PLACEHOLDER_CREDENTIALS = {
    "aws_access_key_id": "placeholder",
    "aws_secret_access_key": "placeholder",
}
# A region to sign with when an http(s):// endpoint is given and none is configured: a local
# endpoint ignores it, and a regional one rejects the signature with a clear message.
FALLBACK_REGION = "us-east-1"


def retry_config(max_attempts: int | None = None, mode: str | None = None) -> Config | None:
    """botocore's retry configuration: ``max_attempts`` counts every attempt, the first
    included; ``mode`` is botocore's (``standard``, ``adaptive``, ``legacy``). Unset values
    come from the usual places (AWS_MAX_ATTEMPTS, AWS_RETRY_MODE, ~/.aws/config)."""
    retries: dict[str, Any] = {}
    if max_attempts is not None:
        retries["total_max_attempts"] = max_attempts
    if mode is not None:
        retries["mode"] = mode
    return Config(retries=retries) if retries else None


class BedrockImageClient:
    """Generates images with Stability's models on Bedrock Runtime (``model_id``: Stable
    Image Core v1:1, :data:`DEFAULT_MODEL_ID`, by default), or on anything that speaks its
    wire protocol.

    ``endpoint`` is ``"aws"`` (the real service: ``region``/``profile`` or the usual
    credential chain), an ``http(s)://`` URL, or ``"mock"`` (the in-process mock, active
    until :meth:`close`). Or pass a ready boto3 ``client`` (used as is, and not closed) or a
    boto3 ``session``. ``max_attempts``/``retry_mode`` configure botocore's retries of
    throttling and 5xx answers; ``config`` is merged under them.

    :meth:`generate` takes an :class:`SDXLRequest` (sent to SDXL 1.0, or to ``model_id``
    when that names an SDXL id) or a :class:`ModelRequest` (sent to the request's own model
    id).

    Use as a context manager, or call :meth:`close`.
    """

    def __init__(
        self,
        endpoint: str = AWS,
        *,
        region: str | None = None,
        profile: str | None = None,
        session: boto3.Session | None = None,
        client: BaseClient | None = None,
        model_id: str | None = None,
        max_attempts: int | None = None,
        retry_mode: str | None = None,
        config: Config | None = None,
    ) -> None:
        self.model_id = model_id or DEFAULT_MODEL_ID
        # An SDXLRequest given to a client that names no model goes to SDXL, as it did when
        # SDXL was the default (code written then keeps working).
        self._model_named = model_id is not None
        self.mock: Any = None
        """With the ``"mock"`` endpoint, the mock's handle (its ``faults`` and ``journal``)."""
        self._resources = contextlib.ExitStack()
        if client is not None:
            ignored = [region, profile, session, max_attempts, retry_mode, config]
            if endpoint != AWS or any(value is not None for value in ignored):
                raise ClientConfigError(
                    "a ready boto3 client brings its own endpoint, session and config: "
                    "pass only client= and model_id="
                )
            self._client, self._owns_client = client, False
            return
        retries = retry_config(max_attempts, retry_mode)
        if retries is not None:
            config = config.merge(retries) if config is not None else retries
        try:
            self._client = self._make_client(endpoint, region, profile, session, config)
        except ConfigParseError as err:
            self._resources.close()
            raise ClientConfigError(f"the AWS configuration cannot be read: {err}") from err
        except BaseException:
            self._resources.close()
            raise
        self._owns_client = True

    def _make_client(
        self,
        endpoint: str,
        region: str | None,
        profile: str | None,
        session: boto3.Session | None,
        config: Config | None,
    ) -> BaseClient:
        endpoint_url: str | None = None
        if endpoint == MOCK:
            # Imported here: only the mock endpoint needs the mock package.
            from mock_bedrock.doors.inprocess import mock_sdxl

            self.mock = self._resources.enter_context(mock_sdxl())
            if session is None:
                session = boto3.Session(
                    botocore_session=isolated_session(), region_name=region or FALLBACK_REGION,
                    **PLACEHOLDER_CREDENTIALS,
                )
        elif endpoint.startswith(("http://", "https://")):
            endpoint_url = endpoint
            if session is None and not has_local_credentials(profile):
                session = boto3.Session(region_name=region, **PLACEHOLDER_CREDENTIALS)
        elif endpoint != AWS:
            raise ClientConfigError(
                f"endpoint must be {AWS!r}, {MOCK!r} or an http(s):// URL, not {endpoint!r}"
            )
        try:
            if session is None:
                session = boto3.Session(profile_name=profile, region_name=region)
            if endpoint_url is not None and region is None and session.region_name is None:
                region = FALLBACK_REGION
            return session.client(
                SERVICE_NAME, region_name=region, endpoint_url=endpoint_url, config=config
            )
        except NoRegionError as err:
            raise ClientConfigError(
                "no AWS region configured: pass region=, or set AWS_REGION or a profile's region"
            ) from err
        except ProfileNotFound as err:
            raise ClientConfigError(str(err)) from err

    @property
    def boto_client(self) -> BaseClient:
        """The botocore client calls go through (e.g. to register event handlers)."""
        return self._client

    @property
    def endpoint_url(self) -> str:
        return str(self._client.meta.endpoint_url)

    def generate(
        self,
        request: AnyRequest,
        *,
        stream: bool = False,
        service_tier: str | None = None,
        latency: str | None = None,
        guardrail_id: str | None = None,
        guardrail_version: str | None = None,
        trace: str | None = None,
    ) -> GenerationResult:
        """Generate one image. The call is checked first, in the service's order and words
        (nothing is sent when it fails): the header parameters against botocore's model
        and what the model offers, then the request against its model's contract.
        ``stream`` uses InvokeModelWithResponseStream.

        The other keywords are InvokeModel's own parameters (None: not sent):
        ``service_tier`` (botocore's ``serviceTier``: ``default`` is the Standard tier),
        ``latency`` (``performanceConfigLatency``), ``guardrail_id`` and
        ``guardrail_version`` (a guardrail's identifier and version) and ``trace`` (the
        guardrail trace). The answer's service tier and latency are in the result's
        ``served`` mapping."""
        parameters = call_parameters(
            service_tier=service_tier, latency=latency, guardrail_id=guardrail_id,
            guardrail_version=guardrail_version, trace=trace,
        )
        if isinstance(request, ModelRequest):
            model_id = request.model_id
        else:
            found = default_catalogue().find(self.model_id)
            if found is None or is_sdxl(found.contract):
                model_id = self.model_id
            elif not self._model_named:
                model_id = SDXL_MODEL_ID
            else:
                raise ClientConfigError(
                    f"an SDXLRequest is for SDXL, but this client's model is {self.model_id}: "
                    "send a ModelRequest (sdxl_adapter.migration moves an SDXL body there)"
                )
        body = request.to_body()
        payload = _payload(body)
        check_parameters(_operation(stream), model_id, parameters, _length(payload),
                         self._client.meta.region_name)
        request.validate()
        return self._call(body, request, stream, model_id, parameters, payload)

    def generate_streaming(
        self, request: AnyRequest, **parameters: str | None
    ) -> GenerationResult:
        """:meth:`generate` through InvokeModelWithResponseStream."""
        return self.generate(request, stream=True, **parameters)

    def invoke_body(
        self,
        body: bytes | str | Mapping[str, Any],
        *,
        stream: bool = False,
        validate: bool = True,
        **parameters: str | None,
    ) -> GenerationResult:
        """Send a ready-made body (a dict, or JSON text or bytes) to ``model_id``, with
        :meth:`generate`'s header parameters. With ``validate`` False both are sent
        exactly as given, to see what the service itself says of them."""
        sent = call_parameters(**parameters)
        if validate:
            check_parameters(_operation(stream), self.model_id, sent, _length(_payload(body)),
                             self._client.meta.region_name)
            contract = self._contract()
            request: AnyRequest = (
                SDXLRequest.from_body(body) if contract is None or is_sdxl(contract)
                else ModelRequest.from_body(self.model_id, body)
            )
            return self._call(request.to_body(), request, stream, self.model_id, sent)
        return self._call(body, None, stream, self.model_id, sent)

    def _contract(self) -> ModelContract | None:
        found = default_catalogue().find(self.model_id)
        return found.contract if found is not None else None

    def _call(
        self,
        body: bytes | str | Mapping[str, Any],
        request: AnyRequest | None,
        stream: bool,
        model_id: str,
        parameters: Mapping[str, str],
        payload: bytes | str | None = None,
    ) -> GenerationResult:
        payload = _payload(body) if payload is None else payload
        try:
            raw, request_id, served = (
                self._invoke_stream(payload, model_id, parameters) if stream
                else self._invoke(payload, model_id, parameters)
            )
        except ClientError as err:
            raise from_client_error(err, model_id=model_id) from err
        except (BotocoreConnectionError, HTTPClientError, urllib3.exceptions.HTTPError) as err:
            raise ConnectionFailed(
                f"could not talk to Bedrock Runtime at {self.endpoint_url}: {err}"
            ) from err
        except NoCredentialsError as err:
            raise CredentialsMissing(
                "no AWS credentials found: configure a profile or AWS_ACCESS_KEY_ID and "
                "AWS_SECRET_ACCESS_KEY (any values work against a mock endpoint)"
            ) from err
        found = default_catalogue().find(model_id)
        # An id the catalogue does not know, answered anyway: read as SDXL, the default.
        contract = found.contract if found is not None else sdxl_contract()
        sent = _as_dict(body)
        return result_from_body(
            raw,
            contract=contract,
            model_id=model_id,
            request_id=request_id,
            body=sent,
            request=request,
            output_format=contract.output_format(sent),
            served=served,
        )

    def _invoke(
        self, payload: bytes | str, model_id: str, parameters: Mapping[str, str]
    ) -> tuple[bytes, str | None, dict[str, str]]:
        response = self._client.invoke_model(
            modelId=model_id, body=payload, contentType=JSON, accept=JSON, **parameters
        )
        with contextlib.closing(response["body"]) as stream:
            raw: bytes = stream.read()
        return raw, response["ResponseMetadata"].get("RequestId"), _served(response)

    def _invoke_stream(
        self, payload: bytes | str, model_id: str, parameters: Mapping[str, str]
    ) -> tuple[bytes, str | None, dict[str, str]]:
        response = self._client.invoke_model_with_response_stream(
            modelId=model_id, body=payload, contentType=JSON, accept=JSON, **parameters
        )
        request_id = response["ResponseMetadata"].get("RequestId")
        parts: list[bytes] = []
        try:
            with contextlib.closing(response["body"]) as events:
                for event in events:
                    if "chunk" in event:
                        parts.append(event["chunk"]["bytes"])
        except ClientError as err:
            # An error event mid-stream: botocore raises EventStreamError, which carries no
            # request id of its own; the stream's is the one to report.
            raise from_client_error(err, request_id=request_id, model_id=model_id) from err
        return b"".join(parts), request_id, _served(response)

    def close(self) -> None:
        """Close the HTTP connections (of a client this object made) and stop the mock."""
        try:
            if self._owns_client:
                self._client.close()
        finally:
            self._resources.close()

    def __enter__(self) -> BedrockImageClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class SDXLClient(BedrockImageClient):
    """The client under the name it had when SDXL was its only model, with SDXL 1.0 still
    its default model: code written then sends SDXL's bodies (``invoke_body``) unchanged.
    :class:`BedrockImageClient` defaults to the live replacement."""

    def __init__(self, endpoint: str = AWS, *, model_id: str | None = None,
                 **options: Any) -> None:
        super().__init__(endpoint, model_id=model_id or SDXL_MODEL_ID, **options)


def _operation(stream: bool) -> str:
    return INVOKE_STREAM if stream else INVOKE


def _payload(body: bytes | str | Mapping[str, Any]) -> bytes | str:
    """The body as it is sent."""
    return json.dumps(body) if isinstance(body, Mapping) else body


def _length(payload: bytes | str) -> int:
    """A body's length in bytes, as it is sent (text as UTF-8, as botocore sends it)."""
    return len(payload.encode("utf-8") if isinstance(payload, str) else payload)


def _served(response: Mapping[str, Any]) -> dict[str, str]:
    """How the service says it served the call: the answer's members among the
    parameters that vary by model (its ``serviceTier``, its ``performanceConfigLatency``)."""
    offered = default_catalogue().words.offered
    return {member: response[member] for member in offered if member in response}


def _as_dict(body: bytes | str | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(body, Mapping):
        return dict(body)
    try:
        parsed = json.loads(body)
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}
