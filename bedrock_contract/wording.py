"""Words jsonschema's errors the way Bedrock's validator words them.

Bedrock validates model bodies with a Java JSON Schema validator whose messages look like
``#/max_gen_len: 8192 is not less or equal to 2048``. jsonschema (Python) finds the same
violations but words them differently, so this module maps each keyword to that wording.
No library does this mapping; it is written here by hand.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

from jsonschema import ValidationError

from bedrock_contract.sizes import PairsRule, SizeRule


class Violation(NamedTuple):
    """One broken rule: where (a JSON pointer starting with ``#``) and what."""

    pointer: str
    text: str

    def __str__(self) -> str:
        return f"{self.pointer}: {self.text}"


def pointer(path: Any) -> str:
    return "#" + "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)


# The validator's names for JSON value types, bool before int (a bool is an int in Python).
_VALUE_TYPE_NAMES: tuple[tuple[type, str], ...] = (
    (type(None), "Null"),
    (bool, "Boolean"),
    (int, "Integer"),
    (float, "Double"),
    (str, "String"),
    (list, "JSONArray"),
    (dict, "JSONObject"),
)


def type_name(value: object) -> str:
    """The validator's name for a JSON value's type (``JSONObject``, ``String``, ...)."""
    return next(
        (name for kind, name in _VALUE_TYPE_NAMES if isinstance(value, kind)),
        type(value).__name__,
    )


_SCHEMA_TYPE_NAMES = {
    "object": "JSONObject",
    "array": "JSONArray",
    "string": "String",
    "number": "Number",
    "integer": "Integer",
    "boolean": "Boolean",
    "null": "Null",
}


def scalar(value: object) -> str:
    """A value as the validator prints it: strings bare, numbers as JSON."""
    return value if isinstance(value, str) else json.dumps(value)


# jsonschema's stubs type an error's fields as "value or Unset"; every error this module
# words comes from a keyword that sets them, so they are read as plain values.
def _value(e: ValidationError) -> Any:
    return e.validator_value


def _instance(e: ValidationError) -> Any:
    return e.instance


def _schema(e: ValidationError) -> Any:
    return e.schema


def _type(e: ValidationError) -> Iterator[str]:
    expected = _value(e)
    names = [expected] if isinstance(expected, str) else list(expected)
    yield (
        f"expected type: {' or '.join(_SCHEMA_TYPE_NAMES[n] for n in names)}, "
        f"found: {type_name(_instance(e))}"
    )


def _limit(template: str) -> Callable[[ValidationError], Iterator[str]]:
    def word(e: ValidationError) -> Iterator[str]:
        yield template.format(value=scalar(_instance(e)), limit=scalar(_value(e)))

    return word


def _count(template: str) -> Callable[[ValidationError], Iterator[str]]:
    def word(e: ValidationError) -> Iterator[str]:
        yield template.format(limit=_value(e), count=len(_instance(e)))

    return word


def _required(e: ValidationError) -> Iterator[str]:
    for key in _value(e):
        if key not in _instance(e):
            yield f"required key [{key}] not found"


def _additional(e: ValidationError) -> Iterator[str]:
    known = _schema(e).get("properties", {})
    for key in _instance(e):
        if key not in known:
            yield f"extraneous key [{key}] is not permitted"


def _dependent_required(e: ValidationError) -> Iterator[str]:
    for key, needed in _value(e).items():
        if key in _instance(e):
            for dep in needed:
                if dep not in _instance(e):
                    yield f"property [{dep}] is required when [{key}] is present"


def _not(e: ValidationError) -> Iterator[str]:
    # `{"not": {}}` under `dependentSchemas/<key>` forbids a field when <key> is given.
    # (Not `false`: jsonschema reports a false schema without the field's path.)
    path = list(e.schema_path)
    if "dependentSchemas" in path:
        trigger = path[path.index("dependentSchemas") + 1]
        yield f"is not permitted with [{trigger}]"
    else:
        yield "is not permitted"


def _any_of(e: ValidationError) -> Iterator[str]:
    branches = _value(e)
    floors = [_one_field_floor(branch) for branch in branches]
    if all(floor is not None for floor in floors):
        # "One of these fields, above a floor" (outpaint's directions): said as such, in
        # our words; the validator's own would list each branch's failure.
        names = ", ".join(str(floor[0]) for floor in floors if floor is not None)
        lowest = min(floor[1] for floor in floors if floor is not None)
        yield f"at least one of [{names}] must be given, at least {lowest}"
        return
    yield f"no subschema matched out of the total {len(branches)} subschemas"


def _one_field_floor(branch: Any) -> tuple[str, Any] | None:
    required = branch.get("required", []) if isinstance(branch, dict) else []
    if len(required) != 1:
        return None
    low = branch.get("properties", {}).get(required[0], {}).get("minimum")
    return (required[0], low) if low is not None else None


_WORDING: dict[str | None, Callable[[ValidationError], Iterator[str]]] = {
    "type": _type,
    "minimum": _limit("{value} is not greater or equal to {limit}"),
    "maximum": _limit("{value} is not less or equal to {limit}"),
    "exclusiveMinimum": _limit("{value} is not greater than {limit}"),
    "exclusiveMaximum": _limit("{value} is not less than {limit}"),
    "enum": _limit("{value} is not a valid enum value"),
    "const": _limit("{value} is not the permitted value {limit}"),
    "minLength": _count("expected minLength: {limit}, actual: {count}"),
    "maxLength": _count("expected maxLength: {limit}, actual: {count}"),
    "minItems": _count("expected minimum item count: {limit}, found: {count}"),
    "maxItems": _count("expected maximum item count: {limit}, found: {count}"),
    "required": _required,
    "additionalProperties": _additional,
    "dependentRequired": _dependent_required,
    "anyOf": _any_of,
    "oneOf": _any_of,
    "not": _not,
}


def violations_of(
    errors: Iterator[ValidationError], size: SizeRule | None = None
) -> list[Violation]:
    """Bedrock-worded violations for jsonschema's errors, each once, in the order found.
    A broken size rule (``size``'s pairs) is named with the pairs allowed."""
    found: dict[Violation, None] = {}
    for error in errors:
        word = _WORDING.get(str(error.validator))
        if isinstance(size, PairsRule) and _schema(error) is size.schema:
            texts: Iterator[str] = iter([size.violation(_instance(error))])
        else:
            texts = word(error) if word else iter([error.message])
        for text in texts:
            found[Violation(pointer(error.absolute_path), text)] = None
    return list(found)
