"""The exceptions the client library raises, all subclasses of :class:`BedrockImageError`
(once named ``SDXLError``, a name kept).

One :class:`BedrockError` subclass exists per error code in botocore's model of Bedrock Runtime,
generated from the model's error shapes when this module is imported, so a code the service
adds arrives with the next botocore release without a change here. Each is named exactly as
the service names the code: ``except errors.ThrottlingException``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from functools import cache
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from bedrock_contract import Violation, default_catalogue
from bedrock_contract.service import service_model, stream_exception_members
from sdxl_adapter.models import replacement_for

if TYPE_CHECKING:
    from sdxl_adapter.result import GenerationResult



class BedrockImageError(Exception):
    """Base of every error this library raises, whatever the model."""


# Its name from when SDXL was the only model; ``except SDXLError`` still catches them all.
SDXLError = BedrockImageError


class InvalidRequest(BedrockImageError, ValueError):
    """The request breaks the model's contract and was refused locally: nothing was sent.

    ``message`` is worded as Bedrock words the same refusal; ``violations`` lists each
    broken rule of the body as (JSON pointer, text) (none for a refused header parameter,
    such as a service tier).
    """

    def __init__(self, message: str, violations: Sequence[Violation]) -> None:
        super().__init__(message)
        self.message = message
        self.violations = list(violations)


class BedrockError(BedrockImageError):
    """The service answered with an error. Subclassed once per error code of the model;
    codes outside the model (the AWS request framework's own) arrive as this class."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        http_status: int | None = None,
        request_id: str | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(f"{code}: {message}" if message else code)
        self.code = code
        self.message = message
        self.http_status = http_status
        self.request_id = request_id
        # Modeled members beyond the message, e.g. ModelErrorException's originalStatusCode.
        self.details: dict[str, Any] = dict(details or {})


class ContentFiltered(BedrockImageError):
    """The service filtered the generation (a finish reason the model's profile lists as
    filtered: SDXL's CONTENT_FILTERED, Stability's "Filter reason: ..."). ``result`` still
    holds what came back: a blurred image, or none (``result.has_image``)."""

    def __init__(self, result: GenerationResult) -> None:
        super().__init__(
            f"the image was content filtered ({result.finish_reason}; seed {result.seed}, "
            f"request {result.request_id})"
        )
        self.result = result


class GenerationFailed(BedrockImageError):
    """The service reported a failed generation (any other finish reason than success:
    SDXL's ERROR, Stability's "Inference error"); ``result`` holds what it returned."""

    def __init__(self, result: GenerationResult) -> None:
        super().__init__(
            f"the service reported a generation error ({result.finish_reason}; seed "
            f"{result.seed}, request {result.request_id})"
        )
        self.result = result


class ContractDrift(BedrockImageError):
    """The response broke the model's response contract: the service and this library
    disagree about the contract. The message names every violation."""

    def __init__(
        self, message: str, violations: Sequence[Violation], *, request_id: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.violations = list(violations)
        self.request_id = request_id


class ClientConfigError(BedrockImageError, ValueError):
    """The client cannot be built as asked (unknown endpoint, no region, unknown profile)."""


class ConnectionFailed(BedrockImageError):
    """The endpoint could not be reached or dropped the connection; the transport error is
    the ``__cause__``."""


class CredentialsMissing(BedrockImageError):
    """No AWS credentials were found for a call that must be signed."""


def _generate_error_classes() -> dict[str, type[BedrockError]]:
    classes: dict[str, type[BedrockError]] = {}
    for shape in service_model().error_shapes:
        status = shape.metadata.get("error", {}).get("httpStatusCode")
        doc = f"Bedrock Runtime's {shape.name} (HTTP {status}), per botocore's service model."
        classes[shape.name] = type(
            shape.name, (BedrockError,), {"__doc__": doc, "__module__": __name__}
        )
    return classes


ERROR_CLASSES: Mapping[str, type[BedrockError]] = _generate_error_classes()
globals().update(ERROR_CLASSES)

if TYPE_CHECKING:
    # What the line above defines, for type checkers (which cannot run it); a test checks
    # that this list is botocore's.
    class AccessDeniedException(BedrockError): ...
    class ConflictException(BedrockError): ...
    class InternalServerException(BedrockError): ...
    class ModelErrorException(BedrockError): ...
    class ModelNotReadyException(BedrockError): ...
    class ModelStreamErrorException(BedrockError): ...
    class ModelTimeoutException(BedrockError): ...
    class ResourceNotFoundException(BedrockError): ...
    class ServiceQuotaExceededException(BedrockError): ...
    class ServiceUnavailableException(BedrockError): ...
    class ThrottlingException(BedrockError): ...
    class ValidationException(BedrockError): ...


class ModelEndOfLife(ResourceNotFoundException):
    """The service refused the model as past its end of life (ResourceNotFoundException
    with the end-of-life message). ``replacement`` is the model to move to, where the
    catalogue names one (``sdxl migrate`` / :func:`sdxl_adapter.migration.migrate` moves a
    body there); ``eol`` the date the model's profile gives."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        model_id: str,
        replacement: str | None,
        eol: dt.date | None,
        http_status: int | None = None,
        request_id: str | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(
            code, message, http_status=http_status, request_id=request_id, details=details
        )
        self.model_id = model_id
        self.replacement = replacement
        self.eol = eol


class OnDemandUnsupported(ValidationException):
    """The service refused a model called by its own id that it serves only through an
    inference profile (its card's "In-Region: No"); ``profile_id`` is the id to call it by."""

    def __init__(self, code: str, message: str, *, model_id: str, profile_id: str,
                 **fields: Any) -> None:
        super().__init__(code, message, **fields)  # http_status, request_id, details
        self.model_id = model_id
        self.profile_id = profile_id


def error_class(code: str) -> type[BedrockError]:
    """The exception class for a service error code (:class:`BedrockError` if unmodeled)."""
    return ERROR_CLASSES.get(code, BedrockError)


def modeled_members(code: str) -> tuple[str, ...]:
    """The members the model declares for an error code, besides its message."""
    if code not in ERROR_CLASSES:
        return ()
    shape = service_model().shape_for(code)
    return tuple(name for name in shape.members if name.lower() != "message")


@cache
def _stream_error_codes() -> dict[str, str]:
    # An error event in a response stream is named by its member of the stream's union
    # (``modelStreamErrorException``), not by its shape; map members to shape names.
    return {member: code for code, member in stream_exception_members().items()}


def from_client_error(
    err: ClientError, *, request_id: str | None = None, model_id: str | None = None
) -> BedrockError:
    """The typed exception for a botocore ClientError (the caller raises it ``from err``).

    ``request_id`` is used when the error itself carries none, as with an error event in the
    middle of a response stream, whose id is the stream's. (botocore keeps only the code and
    message of such an event, so its other members are not in ``details``.) With
    ``model_id``, the service's end-of-life refusal becomes :class:`ModelEndOfLife`.
    """
    response: Mapping[str, Any] = err.response
    error = response.get("Error", {})
    meta = response.get("ResponseMetadata", {})
    code = str(error.get("Code", "Unknown"))
    code = _stream_error_codes().get(code, code)
    message = str(error.get("Message", ""))
    fields: dict[str, Any] = {
        "http_status": meta.get("HTTPStatusCode"),
        "request_id": meta.get("RequestId") or request_id,
        "details": {k: response[k] for k in modeled_members(code) if k in response},
    }
    words = default_catalogue().words
    if model_id is not None and (code, message) == tuple(words.end_of_life):
        found = default_catalogue().find(model_id)
        return ModelEndOfLife(
            code, message, model_id=model_id,
            replacement=replacement_for(found) if found else None,
            eol=found.version.lifecycle.eol if found else None, **fields,
        )
    on_demand = words.on_demand_unsupported
    if model_id is not None and (code, message) == (
            on_demand.error, on_demand.message.format(model_id=model_id)):
        found = default_catalogue().find(model_id)
        if found is not None:
            return OnDemandUnsupported(code, message, model_id=model_id,
                                       profile_id=found.contract.invocation_id, **fields)
    return error_class(code)(code, message, **fields)
