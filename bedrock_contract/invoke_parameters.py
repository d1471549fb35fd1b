"""InvokeModel's header parameters that a model may or may not offer (its service tiers, its
latencies), as data: what every model offers (``schemas/service.json``'s
``invoke_parameters``), what one model offers otherwise (its profile's), and the service's
refusal of the rest (``invoke_parameter_refusals``).

Members are named as botocore names them (``serviceTier``, ``performanceConfigLatency``);
a value must be one of the member's enum in botocore's model, so a typo in the data is
caught when it loads.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bedrock_contract.service import INVOKE, operation_model

# What a model offers: member -> the values a call may ask for.
Offered = Mapping[str, tuple[str, ...]]
# Keys beside the members: notes for people.
_NOTES = ("$comment", "source", "sources")


def offered_from_json(data: Mapping[str, Any], where: str) -> dict[str, tuple[str, ...]]:
    """The members listed in ``data`` (an ``invoke_parameters`` object) and their values, in
    the model's member order (the order the service judges them in)."""
    members = operation_model(INVOKE).input_shape.members
    found: dict[str, tuple[str, ...]] = {}
    for member, values in data.items():
        if member in _NOTES:
            continue
        if member not in members:
            raise ValueError(f"{where}: invoke_parameters names {member!r}, not a member "
                             "of InvokeModel's input")
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise ValueError(f"{where}: invoke_parameters.{member} is a list of strings")
        enum = members[member].metadata.get("enum")
        unknown = [v for v in values if enum and v not in enum]
        if unknown:
            raise ValueError(f"{where}: invoke_parameters.{member} holds {unknown}, not in "
                             f"botocore's values {list(enum)}")
        found[member] = tuple(values)
    return _in_model_order(found)


def _in_model_order(offered: Offered) -> dict[str, tuple[str, ...]]:
    members = operation_model(INVOKE).input_shape.members
    return {member: offered[member] for member in members if member in offered}


def merged(default: Offered, override: Mapping[str, Any] | None, where: str) -> Offered:
    """What one model offers: ``default``, with the members its profile lists replaced."""
    if override is None:
        return default
    return _in_model_order({**default, **offered_from_json(override, where)})


@dataclass(frozen=True)
class ParameterRefusal:
    """The service's refusal of a value a model does not offer; in a message, ``{value}`` is
    the value asked for, ``{model_id}`` the id the call named and ``{region}`` the region it
    was made in. ``by_value`` words some values their own way."""

    error: str
    message: str
    by_value: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    checked_by_service: bool = False  # the framework leaves even the member's enum to it

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ParameterRefusal:
        return cls(
            data["error"], data["message"],
            {value: (words["error"], words["message"])
             for value, words in data.get("by_value", {}).items()},
            data.get("checked_by") == "service",
        )

    def words(self, value: str, model_id: str, region: str) -> tuple[str, str]:
        """(error code, message) for ``value`` asked of ``model_id`` in ``region``."""
        error, message = self.by_value.get(value, (self.error, self.message))
        # Not str.format: a value is the caller's text, braces and all.
        for name, text in (("value", value), ("model_id", model_id), ("region", region)):
            message = message.replace("{" + name + "}", text)
        return error, message
