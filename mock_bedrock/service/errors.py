"""Bedrock's error codes and the HTTP status each one travels with.

Statuses come from botocore's own service model (shape metadata ``error.httpStatusCode``), so
the mock answers with exactly what botocore expects to parse. A few errors come from the AWS
request framework rather than from Bedrock and so are not in the model; they are listed in
:data:`FRAMEWORK_ERRORS` with the status AWS answers them with.
"""

from __future__ import annotations

from bedrock_contract.service import (
    INVOKE,
    INVOKE_STREAM,
    OPERATIONS,
    SERVICE_NAME,
    error_statuses,
    operation_errors,
    operation_model,
    service_model,
    stream_exception_members,
)

__all__ = [
    "INVOKE", "INVOKE_STREAM", "OPERATIONS", "SERVICE_NAME", "BedrockError", "error_statuses",
    "namespace_of", "operation_errors", "operation_model", "service_model", "status_of",
    "stream_exception_members", "validation_error",
]

# x-amzn-ErrorType carries "<Code>:<namespace>"; Bedrock's own errors and the framework's
# (auth, routing) come from different namespaces.
BEDROCK_NAMESPACE = "http://internal.amazon.com/coral/com.amazon.bedrock/"
FRAMEWORK_NAMESPACE = "http://internal.amazon.com/coral/com.amazon.coral.service/"

# Errors raised by the AWS request framework in front of every service: not in any service
# model, so their statuses are written down here (as AWS answers them).
FRAMEWORK_ERRORS: dict[str, int] = {
    "UnknownOperationException": 404,
    "MissingAuthenticationTokenException": 403,
    "UnrecognizedClientException": 403,
    "InvalidSignatureException": 403,
    "IncompleteSignatureException": 400,
}


# Errors of the mock's own record and replay tools, never the service's: named so that no
# caller mistakes them for Bedrock's, and 4xx/5xx as HTTP would say.
TOOL_ERRORS: dict[str, int] = {
    "CassetteNotFoundException": 404,
    "CassetteUnreadableException": 500,
    "RecordingUpstreamUnreachable": 502,
}
TOOL_NAMESPACE = "mock-bedrock"


def status_of(code: str) -> int:
    """The HTTP status an error code travels with."""
    statuses = error_statuses()
    if code in statuses:
        return statuses[code]
    return FRAMEWORK_ERRORS[code] if code in FRAMEWORK_ERRORS else TOOL_ERRORS[code]


def namespace_of(code: str) -> str:
    if code in FRAMEWORK_ERRORS:
        return FRAMEWORK_NAMESPACE
    return TOOL_NAMESPACE if code in TOOL_ERRORS else BEDROCK_NAMESPACE


class BedrockError(Exception):
    """An error the service answers with: a code from the model and its message."""

    def __init__(self, code: str, message: str, *, headers: dict[str, str] | None = None):
        if code not in error_statuses() and code not in FRAMEWORK_ERRORS | TOOL_ERRORS:
            raise ValueError(f"{code!r} is not a Bedrock Runtime error code")
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.headers = headers or {}

    @property
    def status(self) -> int:
        return status_of(self.code)


def validation_error(message: str) -> BedrockError:
    return BedrockError("ValidationException", message)
