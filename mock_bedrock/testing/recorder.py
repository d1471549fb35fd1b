"""Record and replay: WSGI apps that forward calls to real Bedrock and store them as cassettes,
and that answer later calls from those cassettes without a network.

    recording_app(bedrock_url("us-east-1"), "cassettes/")   # forwards, re-signs, records
    replaying_app("cassettes/")                              # answers; a miss is an error
    replaying_app("cassettes/", fallthrough=MockBedrock())   # a miss goes to the mock

Either app is served like the mock itself (``MockServer(app=...)``) or used in process
(``mock_image_models(app=...)``). The recorder re-signs each call with this process's own AWS
credentials (botocore's credential chain and ``SigV4Auth``), whatever the caller signed with,
so callers may keep pointing fake credentials at the local endpoint. It forwards only calls on
the catalogue's models (by id, profile id or ARN): any other id is refused as the service
refuses an unknown one, so the recorder never spends the user's credentials on another model.
With ``caller_credentials`` it checks each caller's signature first, as the mock's
``--strict-credentials`` does.
"""

from __future__ import annotations

import io
import logging
import os
import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import botocore.session
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ConnectionError as BotocoreConnectionError, HTTPClientError
from botocore.httpsession import URLLib3Session
from botocore.utils import percent_encode
from werkzeug.wrappers import Response

from bedrock_contract import Catalogue, default_catalogue
from bedrock_contract.printable import printable
from mock_bedrock.service.app import WSGIApplication, route
from mock_bedrock.service.errors import SERVICE_NAME, BedrockError, operation_model
from mock_bedrock.service.sigv4 import SigV4Verifier
from mock_bedrock.service.wire import BedrockRequest, error_response, read_body, signed_url
from mock_bedrock.testing.cassettes import (
    Cassette,
    CassetteDir,
    CassetteError,
    body_summary,
    cassette_key,
    recordable_request_headers,
    recordable_response_headers,
)

__all__ = [
    "REPLAY_MISS_CODE",
    "RecordingApp",
    "ReplayingApp",
    "bedrock_url",
    "recording_app",
    "replaying_app",
]

SIGNING_NAME = "bedrock"  # the service model's signingName for bedrock-runtime
# A replay miss answers 404 with this code. It is no Bedrock code on purpose: botocore
# surfaces it as "An error occurred (CassetteNotFoundException) when calling the InvokeModel
# operation: ...", which no caller can mistake for the service's own answer, and a 4xx is
# not retried, so the miss is reported once.
REPLAY_MISS_CODE = "CassetteNotFoundException"
UPSTREAM_FAILED_CODE = "RecordingUpstreamUnreachable"
# A cassette file replay cannot use: the mock's configuration is at fault, not the call (500).
CASSETTE_UNREADABLE_CODE = "CassetteUnreadableException"
# Responses not worth keeping: throttling and server-side failures say nothing about the
# request and would replay a transient state forever.
NOT_RECORDED = frozenset({429}) | frozenset(range(500, 600))
# Generations take tens of seconds on the real service.
UPSTREAM_READ_TIMEOUT = 300
_BEDROCK_HOST = re.compile(r"bedrock-runtime(?:-fips)?\.(?P<region>[a-z0-9-]+)\.amazonaws\.com")

logger = logging.getLogger("mock_bedrock")


@dataclass(frozen=True)
class Call:
    """Which operation a request path names, on which model (decoded, as the caller named
    it: an id or an ARN)."""

    operation: str
    model_id: str

    @property
    def path(self) -> str:
        """The path as botocore renders it, percent-encoding included (what gets signed)."""
        template: str = operation_model(self.operation).http["requestUri"]
        return template.replace("{modelId}", percent_encode(self.model_id))


def parse_call(method: str, path: str) -> Call:
    """The call a request names, by the mock's own routing; BedrockError (an unknown
    operation) for any other method and path."""
    operation, model_id = route(method, path)
    return Call(operation, model_id)


def bedrock_url(region: str) -> str:
    """Bedrock Runtime's endpoint in ``region``, as botocore resolves it (partitions, FIPS
    and all); no call is made."""
    session = botocore.session.Session()
    client = session.create_client(
        SERVICE_NAME, region_name=region, aws_access_key_id="x", aws_secret_access_key="x"
    )
    url: str = client.meta.endpoint_url
    return url


def aws_error(code: str, message: str) -> Response:
    """An error in Bedrock Runtime's rest-json shape, which botocore parses into a
    ``ClientError`` with this code and message."""
    return error_response(BedrockError(code, message), str(uuid.uuid4()))


def _replay(cassette: Cassette) -> Response:
    return Response(cassette.response_body, status=cassette.status,
                    headers=cassette.response_headers)


class RecordingApp:
    """Forwards each call on a model of ``catalogue`` (default: this process's) to
    ``upstream_url``, signed with ``credentials``, and stores the answer as a cassette in
    ``cassette_dir``; the caller gets the answer as replay will give it (the stored headers
    and the exact body). ``caller_credentials`` ({access key id: secret}) makes it check
    each caller's SigV4 signature before anything is forwarded."""

    def __init__(
        self,
        upstream_url: str,
        cassette_dir: str | os.PathLike[str],
        credentials: Credentials | None = None,
        *,
        region: str | None = None,
        caller_credentials: Mapping[str, str] | None = None,
        catalogue: Catalogue | None = None,
    ) -> None:
        session = botocore.session.Session()
        if credentials is None:
            credentials = session.get_credentials()
        if credentials is None:
            raise ValueError(
                "recording needs AWS credentials to sign the forwarded calls; none were found "
                "by botocore's credential chain (environment, shared files, SSO, roles)"
            )
        self.upstream_url = upstream_url.rstrip("/")
        self.cassettes = CassetteDir(cassette_dir)
        self.credentials = credentials
        self.region = region or _region_of(self.upstream_url, session)
        self.catalogue = catalogue or default_catalogue()
        self._verifier = (SigV4Verifier(caller_credentials)
                          if caller_credentials is not None else None)
        self._http = URLLib3Session(timeout=(10, UPSTREAM_READ_TIMEOUT))

    @property
    def checks_signatures(self) -> bool:
        """Whether a caller must sign (``caller_credentials`` was given); without it the
        caller's signature is never read, as each call is re-signed with ``credentials``."""
        return self._verifier is not None

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        request = BedrockRequest(environ)
        try:
            call, body = self._admit(request)
        except BedrockError as err:
            return error_response(err, str(uuid.uuid4()))(environ, start_response)
        headers = recordable_request_headers(request.headers.items())
        try:
            status, response_headers, response_body = self._forward(call, headers, body)
        except (BotocoreConnectionError, HTTPClientError) as err:
            message = f"could not reach {self.upstream_url}: {err}"
            response = aws_error(UPSTREAM_FAILED_CODE, message)
            return response(environ, start_response)
        cassette = Cassette(
            key=cassette_key(call.operation, call.model_id, body),
            operation=call.operation,
            model_id=call.model_id,
            request_headers=headers,
            request_body=body,
            status=status,
            response_headers=recordable_response_headers(response_headers),
            response_body=response_body,
        )
        if status not in NOT_RECORDED:
            self.cassettes.save(cassette)
        return _replay(cassette)(environ, start_response)

    def _admit(self, request: BedrockRequest) -> tuple[Call, bytes]:
        """The call and its body, once it may be forwarded; else refused as the mock refuses
        it, in the mock's order (route, body length, signature, model id)."""
        call = parse_call(request.method, request.path)
        body = read_body(request)  # the service's own limit, so nothing larger is sent
        if self._verifier is not None:
            url = signed_url(request, call.operation, call.model_id)
            self._verifier.verify(request.method, url, request.headers, body)
        if self.catalogue.find(call.model_id) is None:
            # Whatever the lifecycle: the service's own refusal of a retired id is recorded.
            raise BedrockError(*self.catalogue.words.unknown_model)
        return call, body

    def _forward(
        self, call: Call, headers: dict[str, str], body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        outgoing = AWSRequest("POST", self.upstream_url + call.path, data=body, headers=headers)
        SigV4Auth(self.credentials, SIGNING_NAME, self.region).add_auth(outgoing)
        answer = self._http.send(outgoing.prepare())
        return answer.status_code, list(answer.headers.items()), answer.content

    def close(self) -> None:
        self._http.close()


def _region_of(url: str, session: botocore.session.Session) -> str:
    match = _BEDROCK_HOST.fullmatch(urlsplit(url).hostname or "")
    if match:
        return match["region"]
    region = session.get_config_variable("region")
    return str(region) if region else "us-east-1"


class ReplayingApp:
    """Answers calls from the cassettes in ``cassette_dir``, byte for byte. A call with no
    cassette goes to ``fallthrough`` when one is given, else is answered with an error that
    names it (:data:`REPLAY_MISS_CODE`). Cassettes are looked up per call, so ones recorded
    while this app runs are found too."""

    def __init__(
        self, cassette_dir: str | os.PathLike[str], fallthrough: WSGIApplication | None = None
    ) -> None:
        self.cassettes = CassetteDir(cassette_dir)
        self.fallthrough = fallthrough

    @property
    def checks_signatures(self) -> bool:
        """Cassettes need no signature; a call they miss needs what ``fallthrough`` needs."""
        if self.fallthrough is None:
            return False
        return bool(getattr(self.fallthrough, "checks_signatures", True))  # unknown: it may

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        request = BedrockRequest(environ)
        try:
            call = parse_call(request.method, request.path)
        except BedrockError as err:
            if self.fallthrough is not None:  # no cassette names it; the body is still unread
                return self.fallthrough(environ, start_response)
            return error_response(err, str(uuid.uuid4()))(environ, start_response)
        try:
            # Refused as the service (and the fallthrough mock) would refuse it.
            body = read_body(request)
        except BedrockError as err:
            return error_response(err, str(uuid.uuid4()))(environ, start_response)
        key = cassette_key(call.operation, call.model_id, body)
        try:
            cassette = self.cassettes.load(key)
        except CassetteError as err:
            logger.error("mock_bedrock replay: %s", printable(str(err)))
            return aws_error(CASSETTE_UNREADABLE_CODE, str(err))(environ, start_response)
        if cassette is not None:
            return _replay(cassette)(environ, start_response)
        if self.fallthrough is not None:
            # The body was read above; hand the fallthrough app a fresh copy of it.
            environ["wsgi.input"] = io.BytesIO(body)
            environ["CONTENT_LENGTH"] = str(len(body))
            environ.pop("wsgi.input_terminated", None)
            return self.fallthrough(environ, start_response)
        return self._miss(call, key, body)(environ, start_response)

    def _miss(self, call: Call, key: str, body: bytes) -> Response:
        message = (
            f"no recorded response for {call.operation} on {call.model_id} with body "
            f"{body_summary(body)} (cassette {key}.json not found in {self.cassettes.path}); "
            "record it with: mock-bedrock serve --record DIR"
        )
        return aws_error(REPLAY_MISS_CODE, message)


def recording_app(
    upstream_url: str,
    cassette_dir: str | os.PathLike[str],
    credentials: Credentials | None = None,
    *,
    region: str | None = None,
    caller_credentials: Mapping[str, str] | None = None,
) -> RecordingApp:
    """A WSGI app that records every call on the catalogue's models to ``upstream_url`` into
    ``cassette_dir``.

    ``credentials`` default to botocore's credential chain; ``region`` (the signing region)
    defaults to the one in a Bedrock URL, else the configured region, else us-east-1.
    ``caller_credentials`` ({access key id: secret}): callers must sign with one of them.
    """
    return RecordingApp(upstream_url, cassette_dir, credentials, region=region,
                        caller_credentials=caller_credentials)


def replaying_app(
    cassette_dir: str | os.PathLike[str], fallthrough: WSGIApplication | None = None
) -> ReplayingApp:
    """A WSGI app that answers from ``cassette_dir``; misses go to ``fallthrough`` or are
    answered with a :data:`REPLAY_MISS_CODE` error naming the missing request."""
    return ReplayingApp(cassette_dir, fallthrough)
