"""The AWS request framework's check of an operation's input: each member against the
constraints botocore's service model states for it (enum, pattern, length), refused in one
``ValidationException`` before the service sees the model id or the body.

Both sides call :func:`input_violations`: the mock when a call arrives, the client before
it sends one, so a refusal reads the same wherever it is made. The constraints are read
from the model; nothing here names a member.

The wording is the framework's (Coral's), as AWS answers it for every service:
``N validation error(s) detected: Value '<v>' at '<member>' failed to satisfy constraint:
Member must ...``, the violations joined by ``"; "``. Seen from Bedrock Runtime itself:
``Value at 'body' failed to satisfy constraint: Member must have length less than or equal
to 25000000`` (langchain-ai/langchain-aws issue 419). A sensitive member's value is never
shown (``Value at 'body'``; Cognito's sensitive ``username`` the same, massif-press/compcon
issue 1951). An enum's values are listed sorted: Bedrock listed PerformanceConfigLatency,
modelled ``[standard, optimized]``, as ``[optimized, standard]`` (NousResearch/hermes-agent
PR 34476). A pattern must match the whole value, as Java's ``matches`` does (Lambda refuses
a function ARN ending in an empty qualifier, ``...:function:name:``, whose beginning its
pattern matches). Ours, for want of evidence from Bedrock: violations come in the model's
member order (other services list theirs in no documented order); within one member the
pattern before the length, as most refusals seen list them (DynamoDB's ``tableName``,
Firehose's and Cognito's ``2 validation errors detected`` messages; one Cognito message has
the length first).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from bedrock_contract.service import operation_model


@dataclass(frozen=True)
class ConstraintViolation:
    """One member breaking one constraint; ``value`` None when the member is sensitive (or a
    blob, given by its length)."""

    member: str
    value: str | None
    constraint: str

    def __str__(self) -> str:
        shown = "" if self.value is None else f" '{self.value}'"
        return f"Value{shown} at '{self.member}' failed to satisfy constraint: {self.constraint}"


def refusal_message(violations: list[ConstraintViolation]) -> str:
    """The framework's one message for every violation of a call."""
    count = len(violations)
    noun = "error" if count == 1 else "errors"
    return f"{count} validation {noun} detected: " + "; ".join(map(str, violations))


@cache
def header_members(operation: str) -> dict[str, str]:
    """The operation's input members that travel as headers, in the model's order: member
    name -> header name (e.g. ``serviceTier`` -> ``X-Amzn-Bedrock-Service-Tier``)."""
    members = operation_model(operation).input_shape.members
    return {
        name: shape.serialization["name"]
        for name, shape in members.items()
        if shape.serialization.get("location") == "header"
    }


@dataclass(frozen=True)
class _Constraints:
    """What botocore's model states of one member, read once."""

    member: str
    sensitive: bool
    enum: tuple[str, ...]
    pattern: re.Pattern[str] | None
    min: int | None
    max: int | None

    @classmethod
    def of(cls, member: str, shape: Any) -> _Constraints:
        meta = shape.metadata
        pattern = meta.get("pattern")
        return cls(member, bool(meta.get("sensitive")), tuple(meta.get("enum", ())),
                   re.compile(pattern) if pattern is not None else None,
                   meta.get("min"), meta.get("max"))

    def satisfied_by(self, value: str | int) -> bool:
        """The common case, answered without wording anything."""
        length = value if isinstance(value, int) else len(value)
        return ((not self.enum or value in self.enum)
                and (self.min is None or length >= self.min)
                and (self.max is None or length <= self.max)
                and (self.pattern is None or isinstance(value, int)
                     or self.pattern.fullmatch(value) is not None))

    def violations(self, value: str | int) -> list[ConstraintViolation]:
        if isinstance(value, int):  # a blob, by its length: only its length is checked
            shown, length = None, value
        else:
            shown, length = (None if self.sensitive else value), len(value)
        found = []
        if self.enum and value not in self.enum:
            found.append(f"Member must satisfy enum value set: [{', '.join(sorted(self.enum))}]")
        if (self.pattern is not None and isinstance(value, str)
                and not self.pattern.fullmatch(value)):
            found.append(f"Member must satisfy regular expression pattern: "
                         f"{self.pattern.pattern}")
        if self.min is not None and length < self.min:
            found.append(f"Member must have length greater than or equal to {self.min}")
        if self.max is not None and length > self.max:
            found.append(f"Member must have length less than or equal to {self.max}")
        return [ConstraintViolation(self.member, shown, text) for text in found]


@cache
def _constrained(operation: str) -> tuple[_Constraints, ...]:
    """The operation's input members that have a constraint, in the model's order."""
    checks = (_Constraints.of(name, shape)
              for name, shape in operation_model(operation).input_shape.members.items())
    return tuple(c for c in checks if c.enum or c.pattern or c.min is not None
                 or c.max is not None)


def input_violations(
    operation: str,
    given: Mapping[str, str | int],
    unchecked: Collection[str] = (),
) -> list[ConstraintViolation]:
    """Every constraint the ``given`` members break, in the model's member order. String
    members are given as they are; a blob (``body``) by its length in bytes, so a body can
    be judged before it is read. Members in ``unchecked`` are left to the service (see
    ``schemas/service.json``)."""
    found: list[ConstraintViolation] = []
    for check in _constrained(operation):
        value = given.get(check.member)
        if value is None or check.satisfied_by(value) or check.member in unchecked:
            continue
        found += check.violations(value)
    return found
