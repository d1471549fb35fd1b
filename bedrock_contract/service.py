"""Bedrock Runtime as botocore describes it: the one place both sides read botocore's facts
(service and signing names, the service model, error statuses, the stream's exception
members) and the one check for credentials this machine has without the network.

The service model is read with ``botocore.loaders.Loader``, not through a session: a
session reads the AWS config, and a broken ``AWS_CONFIG_FILE`` or an unknown ``AWS_PROFILE``
must not stop ``--help``, the mock, or a pytest run.
"""

from __future__ import annotations

import contextlib
from functools import cache

from botocore.exceptions import BotoCoreError, UnknownCredentialError
from botocore.loaders import Loader
from botocore.model import OperationModel, ServiceModel

SERVICE_NAME = "bedrock-runtime"
INVOKE = "InvokeModel"
INVOKE_STREAM = "InvokeModelWithResponseStream"
OPERATIONS = (INVOKE, INVOKE_STREAM)
JSON = "application/json"

# botocore's credential providers that read only this machine: the environment and the
# two files. Not instance metadata or the container endpoint (a link-local address that may
# hang), nor assume-role or SSO (they call STS or SSO to resolve).
LOCAL_CREDENTIAL_PROVIDERS = ("env", "shared-credentials-file", "config-file")


@cache
def service_model() -> ServiceModel:
    """botocore's model of Bedrock Runtime, loaded once per process."""
    loader = Loader()
    data = loader.load_service_model(SERVICE_NAME, "service-2")
    return ServiceModel(data, service_name=SERVICE_NAME)


def signing_name() -> str:
    name: str = service_model().signing_name
    return name


@cache
def operation_model(name: str) -> OperationModel:
    return service_model().operation_model(name)


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
    """Whether botocore finds credentials without the network (no instance metadata,
    which would wait on a link-local address). An unusable profile or config has none."""
    import botocore.session
    from botocore.credentials import CredentialResolver

    try:
        session = botocore.session.Session(profile=profile)
        full = session.get_component("credential_provider")
        providers = []
        for name in LOCAL_CREDENTIAL_PROVIDERS:
            with contextlib.suppress(UnknownCredentialError):
                providers.append(full.get_provider(name))
        return CredentialResolver(providers).load_credentials() is not None
    except BotoCoreError:
        return False


def configured_region(profile: str | None = None) -> str | None:
    """The region the AWS configuration names, if any (None for an unusable config)."""
    import botocore.session

    try:
        region: str | None = botocore.session.Session(profile=profile).get_config_variable(
            "region"
        )
    except BotoCoreError:
        return None
    return region
