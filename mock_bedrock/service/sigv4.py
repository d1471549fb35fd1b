"""Strict mode: checks a request's AWS Signature Version 4 with botocore's own signer.

No library verifies SigV4 on the server side, so the check is: parse the Authorization
header (hand-written, below), rebuild the request as the client signed it from what was
received, let botocore's ``SigV4Auth`` compute the signature for the request's own X-Amz-Date,
and compare.

What was received, not what the client says it sent: the headers the client listed are taken
from the request's own fields, and the payload hash is computed from the body as it arrived.
An X-Amz-Content-SHA256 header is only a header here (signed if the client listed it), never
the body's hash: a body changed after signing, one the header disagrees with, and
``UNSIGNED-PAYLOAD`` all fail as a wrong signature. So does AWS outside S3: no Bedrock Runtime
operation is modelled ``unsignedPayload`` (botocore's service-2.json), and non-S3 services sent
``UNSIGNED-PAYLOAD`` answer InvalidSignatureException in the usual words
(github.com/awslabs/aws-sdk-rust/issues/749). S3's XAmzContentSHA256Mismatch is S3's alone.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from hashlib import sha256

from botocore.auth import SIGV4_TIMESTAMP, SigV4Auth
from botocore.awsrequest import AWSRequest, HTTPHeaders
from botocore.credentials import Credentials
from werkzeug.datastructures import Headers

from mock_bedrock.service.errors import BedrockError, service_model

ALGORITHM = "AWS4-HMAC-SHA256"
# AWS refuses signatures whose X-Amz-Date is further than this from its clock.
MAX_CLOCK_SKEW = timedelta(minutes=15)

MISSING_TOKEN = "Missing Authentication Token"
UNKNOWN_KEY = "The security token included in the request is invalid."
BAD_SIGNATURE = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. "
    "Consult the service documentation for details."
)

_AUTH_PARAM = re.compile(r"(\w+)=([^,\s]+)")


@dataclass(frozen=True)
class SignedRequest:
    """The parts of an Authorization header."""

    access_key: str
    date: str
    region: str
    service: str
    signed_headers: tuple[str, ...]
    signature: str


def parse_authorization(value: str) -> SignedRequest:
    algorithm, _, params_text = value.strip().partition(" ")
    if algorithm != ALGORITHM:
        raise BedrockError("IncompleteSignatureException",
                           f"Unsupported authorization type: {algorithm or value!r}")
    params = dict(_AUTH_PARAM.findall(params_text))
    for name in ("Credential", "SignedHeaders", "Signature"):
        if name not in params:
            raise BedrockError(
                "IncompleteSignatureException",
                f"Authorization header requires '{name}' parameter. "
                f"Authorization={value}",
            )
    scope = params["Credential"].split("/")
    if len(scope) != 5 or scope[4] != "aws4_request":
        raise BedrockError("IncompleteSignatureException",
                           f"Credential is malformed: {params['Credential']}")
    access_key, date, region, service, _ = scope
    return SignedRequest(
        access_key, date, region, service,
        tuple(params["SignedHeaders"].split(";")), params["Signature"],
    )


# HTTP/2 request pseudo-headers a client may sign, and the field that carries each once the
# request is received. ``:authority`` is the Host: the HTTP/2 door sets Host from it (RFC 9113
# 8.3.1), and over HTTP/1.1 Host is the authority (RFC 9110 7.2). The AWS SDK for JavaScript v3
# signs ``:authority`` instead of ``host`` over HTTP/2 (@aws-sdk/core's hostHeaderMiddleware
# swaps them for an h2 handler; SignedHeaders=:authority;accept;...), and AWS accepts it.
RECEIVED_AS = {":authority": "host"}


class _ReceivedRequestSigner(SigV4Auth):
    """botocore's signer, fed what was received: the headers the client listed (botocore
    picks its own by its own rules), looked up in the received fields, and the hash of the
    received body (botocore takes X-Amz-Content-SHA256 for it when the request has one; the
    request it is given here has no headers, so it calls :meth:`payload`)."""

    def __init__(self, credentials: Credentials, service: str, region: str,
                 signed: tuple[str, ...], received: Headers, body: bytes) -> None:
        super().__init__(credentials, service, region)
        self._signed = signed
        self._received = received
        self._payload_hash = sha256(body).hexdigest()

    def headers_to_sign(self, request: AWSRequest) -> HTTPHeaders:
        picked = HTTPHeaders()
        for name in self._signed:
            for value in self._received.getlist(RECEIVED_AS.get(name, name)):
                picked[name] = value  # HTTPHeaders appends: repeated names are kept
        return picked

    def payload(self, request: AWSRequest) -> str:
        return self._payload_hash


class SigV4Verifier:
    """Checks requests signed for ``signing_name`` by one of ``credentials``'s keys."""

    def __init__(self, credentials: Mapping[str, str], signing_name: str | None = None) -> None:
        self._secrets = dict(credentials)
        self._signing_name = signing_name or service_model().signing_name

    def verify(self, method: str, url: str, headers: Headers, body: bytes,
               *, now: datetime | None = None) -> str:
        """Raise the service's auth error unless the request is signed correctly;
        returns the access key id that signed it."""
        authorization = headers.get("Authorization")
        if not authorization:
            raise BedrockError("MissingAuthenticationTokenException", MISSING_TOKEN)
        signed = parse_authorization(authorization)
        secret = self._secrets.get(signed.access_key)
        if secret is None:
            raise BedrockError("UnrecognizedClientException", UNKNOWN_KEY)
        if signed.service != self._signing_name:
            raise BedrockError(
                "InvalidSignatureException",
                f"Credential should be scoped to correct service: '{self._signing_name}'. ",
            )
        timestamp = headers.get("X-Amz-Date", "")
        self._check_clock(timestamp, now or datetime.now(timezone.utc))
        request = AWSRequest(method=method, url=url)
        request.context["timestamp"] = timestamp
        signer = _ReceivedRequestSigner(
            Credentials(signed.access_key, secret), signed.service, signed.region,
            signed.signed_headers, headers, body,
        )
        expected = signer.signature(signer.string_to_sign(
            request, signer.canonical_request(request)), request)
        if not hmac.compare_digest(expected, signed.signature):
            raise BedrockError("InvalidSignatureException", BAD_SIGNATURE)
        return signed.access_key

    def _check_clock(self, timestamp: str, now: datetime) -> None:
        try:
            signed_at = datetime.strptime(timestamp, SIGV4_TIMESTAMP).replace(
                tzinfo=timezone.utc)
        except ValueError:
            raise BedrockError(
                "IncompleteSignatureException",
                "Authorization header requires existence of either a 'X-Amz-Date' or a "
                "'Date' header.",
            ) from None
        if abs(now - signed_at) > MAX_CLOCK_SKEW:
            stamp = now.strftime(SIGV4_TIMESTAMP)
            raise BedrockError(
                "InvalidSignatureException",
                f"Signature expired: {timestamp} is now earlier than "
                f"{(now - MAX_CLOCK_SKEW).strftime(SIGV4_TIMESTAMP)} ({stamp} - 15 min.)",
            )
