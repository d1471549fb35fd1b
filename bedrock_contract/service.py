"""Bedrock Runtime as botocore describes it: the one place both sides read botocore's facts
(service and signing names, the service model, error statuses, the stream's exception
members) and the one check for credentials this machine has without the network.

The service model is read with ``botocore.loaders.Loader``, not through a session: a
session reads the AWS config, and a broken ``AWS_CONFIG_FILE`` or an unknown ``AWS_PROFILE``
must not stop ``--help``, the mock, or a pytest run.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # botocore is imported when its model is first read: not at start-up
    from botocore.model import OperationModel, ServiceModel

SERVICE_NAME = "bedrock-runtime"
INVOKE = "InvokeModel"
INVOKE_STREAM = "InvokeModelWithResponseStream"
OPERATIONS = (INVOKE, INVOKE_STREAM)
# The control plane's operations the mock answers too: what it says of the models' lifecycle.
CONTROL_PLANE_NAME = "bedrock"
GET_MODEL = "GetFoundationModel"
LIST_MODELS = "ListFoundationModels"
CONTROL_OPERATIONS = (GET_MODEL, LIST_MODELS)
JSON = "application/json"

@cache
def service_model(name: str = SERVICE_NAME) -> ServiceModel:
    """botocore's model of Bedrock Runtime (or of ``name``, the control plane's
    ``bedrock``), loaded once per process."""
    from botocore.loaders import Loader
    from botocore.model import ServiceModel

    data = Loader().load_service_model(name, "service-2")
    return ServiceModel(data, service_name=name)


def signing_name() -> str:
    name: str = service_model().signing_name
    return name


@cache
def operation_model(name: str) -> OperationModel:
    """One operation the mock answers, from the runtime's model or the control plane's."""
    service = CONTROL_PLANE_NAME if name in CONTROL_OPERATIONS else SERVICE_NAME
    return service_model(service).operation_model(name)


def max_body_length() -> int:
    """The largest request body the service takes (the ``body`` blob's ``max``)."""
    limit: int = operation_model(INVOKE).input_shape.members["body"].metadata["max"]
    return limit


@cache
def error_statuses() -> dict[str, int]:
    """Every Bedrock error code the model declares, with its HTTP status."""
    return {
        shape.name: shape.metadata["error"]["httpStatusCode"]
        for shape in service_model().error_shapes
    }


@cache
def operation_errors(operation: str) -> frozenset[str]:
    """The error codes one operation may answer with, per the model."""
    return frozenset(shape.name for shape in operation_model(operation).error_shapes)


@cache
def stream_exception_members() -> dict[str, str]:
    """Error code -> event name of the exceptions the response stream union may carry.

    The union's member names (``modelStreamErrorException``) are what the
    ``:exception-type`` header holds; the member's shape name is the error code.
    """
    union = operation_model(INVOKE_STREAM).output_shape.members["body"]
    return {
        shape.name: member
        for member, shape in union.members.items()
        if shape.metadata.get("exception")
    }


def has_local_credentials(profile: str | None = None) -> bool:
    """Whether botocore's credential chain finds credentials without waiting on the network:
    the chain of a throwaway session less the instance-metadata provider (a link-local
    address that may hang). Roles and SSO resolve lazily, so finding them needs no call. An
    unusable profile or config has none."""
    from botocore.exceptions import BotoCoreError

    try:
        session = _throwaway_session(profile)
        session.get_component("credential_provider").remove("iam-role")
        return session.get_credentials() is not None
    except BotoCoreError:
        return False


def isolated_session(session_class: type[Any] | None = None) -> Any:
    """A botocore session that reads no AWS configuration (no profile, config file or
    shared credentials file): for clients of the in-process mock, which needs none of it, so
    an unknown ``AWS_PROFILE`` or a broken ``AWS_CONFIG_FILE`` cannot stop them.
    ``session_class``: a subclass of botocore's ``Session`` to make instead."""
    import os

    import botocore.session

    return (session_class or botocore.session.Session)(session_vars={
        "profile": (None, None, None, None),
        "config_file": (None, None, os.devnull, None),
        "credentials_file": (None, None, os.devnull, None),
    })


def configured_region(profile: str | None = None) -> str | None:
    """The region the AWS configuration names, if any (None for an unusable config)."""
    from botocore.exceptions import BotoCoreError

    try:
        region: str | None = _throwaway_session(profile).get_config_variable("region")
    except BotoCoreError:
        return None
    return region


def _throwaway_session(profile: str | None) -> Any:
    """A session to read the AWS configuration with, and make no client: without botocore's
    built-in request handlers, whose registration is nearly all of a new session's cost
    (about 10 ms), paid on every in-process mock's activation (each pytest test's)."""
    import botocore.session

    return botocore.session.Session(profile=profile, include_builtin_handlers=False)
