"""InvokeModel's own parameters (its headers: service tier, latency, guardrail, trace) as a
caller passes them, and their check before anything is sent.

The check is the one the mock makes, in the mock's order (:mod:`bedrock_contract`'s): the
AWS framework's constraints from botocore's model (and the body's length), then what the
model offers. So a value refused here is refused in the very words the service (and the
mock) would answer.
"""

from __future__ import annotations

from collections.abc import Mapping

from bedrock_contract import default_catalogue
from bedrock_contract.input_check import header_members, input_violations, refusal_message
from bedrock_contract.service import INVOKE, operation_model
from sdxl_adapter.errors import InvalidRequest

# The keyword arguments of BedrockImageClient.generate that travel as InvokeModel's
# header members, and botocore's name of each member.
ARGUMENTS = {
    "service_tier": "serviceTier",
    "latency": "performanceConfigLatency",
    "guardrail_id": "guardrailIdentifier",
    "guardrail_version": "guardrailVersion",
    "trace": "trace",
}


def call_parameters(**arguments: str | None) -> dict[str, str]:
    """The header members the given arguments set (None: left out), by botocore's names, in
    the model's order (the order a refusal names them in)."""
    unknown = set(arguments) - set(ARGUMENTS)
    if unknown:
        raise TypeError(f"unknown parameters: {', '.join(sorted(unknown))}")
    given = {ARGUMENTS[name]: value for name, value in arguments.items() if value is not None}
    return {member: given[member] for member in header_members(INVOKE) if member in given}


def allowed_values(member: str) -> tuple[str, ...]:
    """The values botocore's model allows a member (none: any that fits its pattern)."""
    shape = operation_model(INVOKE).input_shape.members[member]
    return tuple(shape.metadata.get("enum", ()))


def check_parameters(
    operation: str,
    model_id: str,
    parameters: Mapping[str, str],
    body_length: int | None = None,
    region: str | None = None,
) -> None:
    """Raise :class:`InvalidRequest`, worded as the service's refusal, for header
    ``parameters`` (botocore's member names) the service would refuse: the AWS framework's
    check of them (and of ``body_length``, the body's bytes, when given), then, given the
    ``region`` the call is made in, what ``model_id``'s model offers there. A model the
    catalogue does not know is left to the service, which refuses the id first."""
    words = default_catalogue().words
    given: dict[str, str | int] = dict(parameters)
    if body_length is not None:
        given["body"] = body_length
    violations = input_violations(operation, given, words.service_checked)
    if violations:
        raise InvalidRequest(refusal_message(violations), [])
    found = default_catalogue().find(model_id)
    if found is None or region is None:
        return
    refusal = words.parameter_refusal(found.contract.invoke_parameters, parameters, model_id,
                                      region)
    if refusal is not None:
        raise InvalidRequest(refusal.message, [])
