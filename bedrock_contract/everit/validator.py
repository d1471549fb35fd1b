"""everit's validation of one value against a loaded schema, and its list of messages.

Mirrors everit's ``ValidatingVisitor`` and its ``CollectingFailureReporter``: each schema's
failures are gathered in the context of that schema; one failure is passed up as it is,
several are wrapped in one. ``ValidationException.getAllMessages()`` then lists, at each
level, the failures without causes first and the wrapped ones after, depth first: that is
why a property with two violations, or a combined schema's, comes after the single ones.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from bedrock_contract.everit import schema as s
from bedrock_contract.everit.java import (
    BigDecimal,
    JSONObject,
    as_decimal,
    is_number,
    to_string,
    type_name,
)
from bedrock_contract.violation import pointer_token


@dataclass
class Failure:
    """everit's ``ValidationException``: a pointer, a message, and what it wraps."""

    message: str
    causes: list[Failure] = field(default_factory=list)
    pointer: str = "#"

    def prepend(self, fragment: str) -> Failure:
        # As ValidationException.prepend: the causes get the already escaped fragment, and
        # escape it again (a quirk kept for keys holding "~" or "/").
        escaped = pointer_token(fragment)
        return Failure(self.message, [c.prepend(escaped) for c in self.causes],
                       "#/" + escaped + self.pointer[1:])

    def all_messages(self) -> list[tuple[str, str]]:
        """``getAllMessages()`` as (pointer, message) pairs."""
        return [(self.pointer, self.message)] if not self.causes else _leaves(self.causes)


def _leaves(causes: list[Failure]) -> list[tuple[str, str]]:
    found = [(c.pointer, c.message) for c in causes if not c.causes]
    for cause in causes:
        if cause.causes:
            found += _leaves(cause.causes)
    return found


def _gathered(failures: list[Failure]) -> Failure | None:
    if not failures:
        return None
    if len(failures) == 1:
        return failures[0]
    return Failure(f"{len(failures)} schema violations found", failures)


def validate(schema: s.Node, subject: Any) -> Failure | None:
    """The failure everit throws for ``subject`` (None when it is valid)."""
    return _gathered(_visit(schema, subject))


def _type_failure(expected: str, subject: Any) -> Failure:
    return Failure(f"expected type: {expected}, found: {type_name(subject)}")


def _type_ok(expected: str, subject: Any) -> bool:
    if expected == "Integer":
        return isinstance(subject, int) and not isinstance(subject, bool)
    if expected == "Number":
        return is_number(subject)
    return type_name(subject) == expected


def _visit(schema: s.Node, subject: Any) -> list[Failure]:
    """The failures ``schema`` reports for ``subject``, in everit's order."""
    if isinstance(schema, s.ObjectSchema):
        return _object(schema, subject)
    if isinstance(schema, s.NumberSchema):
        return _number(schema, subject)
    if isinstance(schema, s.StringSchema):
        return _string(schema, subject)
    if isinstance(schema, s.ArraySchema):
        return _array(schema, subject)
    if isinstance(schema, s.CombinedSchema):
        return _combined(schema, subject)
    if isinstance(schema, s.ConditionalSchema):
        return _conditional(schema, subject)
    if isinstance(schema, s.ReferenceSchema):
        failure = validate(schema.resolve(), subject)
        return [failure] if failure else []
    if isinstance(schema, s.EnumSchema):
        if any(_equal(value, subject) for value in schema.values):
            return []
        return [Failure(f"{to_string(subject)} is not a valid enum value")]
    if isinstance(schema, s.ConstSchema):
        return [] if _equal(schema.value, subject) else [Failure("")]
    if isinstance(schema, s.NotSchema):
        if validate(schema.schema, subject) is None:
            return [Failure(f"subject must not be valid against schema {schema.text}")]
        return []
    if isinstance(schema, s.BooleanSchema):
        return [] if isinstance(subject, bool) else [_type_failure("Boolean", subject)]
    if isinstance(schema, s.NullSchema):
        return [] if subject is None else [Failure(f"expected: null, found: {type_name(subject)}")]
    if isinstance(schema, s.FalseSchema):
        return [Failure("false schema always fails")]
    return []  # TrueSchema, EmptySchema


def _object(schema: s.ObjectSchema, subject: Any) -> list[Failure]:
    if not isinstance(subject, dict):
        return [_type_failure("JSONObject", subject)] if schema.requires_object else []
    keys = subject.java_keys() if isinstance(subject, JSONObject) else list(subject)
    found = [Failure(f"required key [{name}] not found")
             for name in schema.required if name not in subject]
    for name, needed in schema.property_dependencies:
        if name in subject:
            found += [Failure(f"property [{n}] is required") for n in needed if n not in subject]
    defined = schema.names
    extra = [k for k in keys if k not in defined]
    if not schema.additional:
        found += [Failure(f"extraneous key [{k}] is not permitted") for k in extra]
    elif schema.additional_schema is not None:
        for key in extra:
            failure = validate(schema.additional_schema, subject[key])
            if failure:
                found.append(failure.prepend(key))
    for name, dependency in schema.schema_dependencies:
        if name in subject:
            failure = validate(dependency, subject)
            if failure:
                found.append(failure)
    for name, property_schema in schema.properties:
        if name in subject:
            failure = validate(property_schema, subject[name])
            if failure:
                found.append(failure.prepend(name))
    return found


def _number(schema: s.NumberSchema, subject: Any) -> list[Failure]:
    expected = "Integer" if schema.requires_integer else "Number"
    if subject is None or not _type_ok(expected, subject):
        # A value that fails its type is not range-checked (ifPassesTypeCheck).
        needed = schema.requires_integer or schema.requires_number
        return [_type_failure(expected, subject)] if needed else []
    value, shown = as_decimal(subject), to_string(subject)
    found: list[Failure] = []
    if schema.minimum is not None and value < as_decimal(schema.minimum):
        found.append(Failure(f"{shown} is not greater or equal to {to_string(schema.minimum)}"))
    if schema.exclusive_minimum is not None and value <= as_decimal(schema.exclusive_minimum):
        found.append(Failure(f"{shown} is not greater than {to_string(schema.exclusive_minimum)}"))
    if schema.maximum is not None and value > as_decimal(schema.maximum):
        found.append(Failure(f"{shown} is not less or equal to {to_string(schema.maximum)}"))
    if schema.exclusive_maximum is not None and value >= as_decimal(schema.exclusive_maximum):
        found.append(Failure(f"{shown} is not less than {to_string(schema.exclusive_maximum)}"))
    # everit's NumberSchemaValidatingVisitor.visitMultipleOf, last: the BigDecimal remainder.
    if schema.multiple_of is not None and value % as_decimal(schema.multiple_of) != 0:
        found.append(Failure(f"{shown} is not a multiple of {to_string(schema.multiple_of)}"))
    return found


def _string(schema: s.StringSchema, subject: Any) -> list[Failure]:
    if not isinstance(subject, str):
        needed = schema.requires_string
        return [_type_failure("String", subject)] if needed else []
    length = len(subject)  # code points, as codePointCount counts
    found: list[Failure] = []
    if schema.min_length is not None and length < schema.min_length:
        found.append(Failure(f"expected minLength: {schema.min_length}, actual: {length}"))
    if schema.max_length is not None and length > schema.max_length:
        found.append(Failure(f"expected maxLength: {schema.max_length}, actual: {length}"))
    return found


def _array(schema: s.ArraySchema, subject: Any) -> list[Failure]:
    if not isinstance(subject, list):
        return [_type_failure("JSONArray", subject)] if schema.requires_array else []
    n = len(subject)
    found: list[Failure] = []
    if schema.min_items is not None and n < schema.min_items:
        found.append(Failure(f"expected minimum item count: {schema.min_items}, found: {n}"))
    if schema.max_items is not None and n > schema.max_items:
        found.append(Failure(f"expected maximum item count: {schema.max_items}, found: {n}"))
    if schema.all_items is not None:
        found += _items(schema.all_items, subject, range(n))
    tuple_items = schema.item_schemas
    if tuple_items is not None:
        if not schema.additional_items and n > len(tuple_items):
            found.append(Failure(f"expected: [{len(tuple_items)}] array items, found: [{n}]"))
        for index, item_schema in enumerate(tuple_items[:n]):
            found += _items(item_schema, subject, [index])
        if schema.additional_items_schema is not None:
            found += _items(schema.additional_items_schema, subject,
                            range(min(n, len(tuple_items)), n))
    return found


def _items(schema: s.Node, subject: list[Any], indices: Any) -> list[Failure]:
    found = []
    for index in indices:
        failure = validate(schema, subject[index])
        if failure:
            found.append(failure.prepend(str(index)))
    return found


_CRITERIA = {
    "allOf": lambda total, matched: None if matched == total
    else f"only {matched} subschema matches out of {total}",
    "anyOf": lambda total, matched: None if matched
    else f"no subschema matched out of the total {total} subschemas",
    "oneOf": lambda total, matched: None if matched == 1
    else f"{matched} subschemas matched instead of one",
}


def _combined(schema: s.CombinedSchema, subject: Any) -> list[Failure]:
    failures = [f for f in (validate(sub, subject) for sub in schema.visiting_order()) if f]
    verdict = _CRITERIA[schema.criterion](len(schema.subschemas),
                                          len(schema.subschemas) - len(failures))
    return [Failure(verdict, failures)] if verdict else []


def _conditional(schema: s.ConditionalSchema, subject: Any) -> list[Failure]:
    if schema.if_schema is None or (schema.then_schema is None and schema.else_schema is None):
        return []
    if_failure = validate(schema.if_schema, subject)
    if if_failure is None and schema.then_schema is not None:
        then_failure = validate(schema.then_schema, subject)
        if then_failure:
            return [Failure('input is invalid against the "then" schema', [then_failure])]
    if if_failure is not None and schema.else_schema is not None:
        else_failure = validate(schema.else_schema, subject)
        if else_failure:
            return [Failure('input is invalid against both the "if" and "else" schema',
                            [if_failure, else_failure])]
    return []


def _equal(expected: Any, subject: Any) -> bool:
    """everit's ``ObjectComparator.deepEquals``: numbers of different classes by value,
    of one class by ``equals`` (so ``1.0`` is not ``1.00``)."""
    if is_number(expected) or is_number(subject):
        if not (is_number(expected) and is_number(subject)):
            return False
        if type_name(expected) == type_name(subject) and isinstance(expected, Decimal):
            return isinstance(subject, BigDecimal) and expected.as_tuple() == subject.as_tuple()
        return as_decimal(expected) == as_decimal(subject)
    if isinstance(expected, bool) or isinstance(subject, bool):
        return isinstance(expected, bool) and isinstance(subject, bool) and expected == subject
    if isinstance(expected, list):
        return (isinstance(subject, list) and len(expected) == len(subject)
                and all(_equal(a, b) for a, b in zip(expected, subject, strict=True)))
    if isinstance(expected, dict):
        return (isinstance(subject, dict) and expected.keys() == subject.keys()
                and all(_equal(expected[k], subject[k]) for k in expected))
    return bool(expected == subject) and type(expected) is type(subject)
