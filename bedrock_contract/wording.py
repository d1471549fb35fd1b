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

from bedrock_contract.sizes import allowed_sizes_text, format_size, size_of, size_rule


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


def _type(e: ValidationError) -> Iterator[str]:
    expected = e.validator_value
    names = [expected] if isinstance(expected, str) else list(expected)
    yield (
        f"expected type: {' or '.join(_SCHEMA_TYPE_NAMES[n] for n in names)}, "
        f"found: {type_name(e.instance)}"
    )


def _limit(template: str) -> Callable[[ValidationError], Iterator[str]]:
    def word(e: ValidationError) -> Iterator[str]:
        yield template.format(value=scalar(e.instance), limit=scalar(e.validator_value))

    return word


def _count(template: str) -> Callable[[ValidationError], Iterator[str]]:
    def word(e: ValidationError) -> Iterator[str]:
        yield template.format(limit=e.validator_value, count=len(e.instance))

    return word


def _required(e: ValidationError) -> Iterator[str]:
    for key in e.validator_value:
        if key not in e.instance:
            yield f"required key [{key}] not found"


def _additional(e: ValidationError) -> Iterator[str]:
    known = e.schema.get("properties", {})
    for key in e.instance:
        if key not in known:
            yield f"extraneous key [{key}] is not permitted"


def _dependent_required(e: ValidationError) -> Iterator[str]:
    for key, needed in e.validator_value.items():
        if key in e.instance:
            for dep in needed:
                if dep not in e.instance:
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
    if e.schema is size_rule():
        yield (
            f"{format_size(size_of(e.instance))} (width x height) is not one of the allowed "
            f"sizes: {allowed_sizes_text()}"
        )
    else:
        yield f"no subschema matched out of the total {len(e.validator_value)} subschemas"


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


def violations_of(errors: Iterator[ValidationError]) -> list[Violation]:
    """Bedrock-worded violations for jsonschema's errors, each once, in the order found."""
    found: dict[Violation, None] = {}
    for error in errors:
        word = _WORDING.get(error.validator)
        texts = word(error) if word else iter([error.message])
        for text in texts:
            found[Violation(pointer(error.absolute_path), text)] = None
    return list(found)
