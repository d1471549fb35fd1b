"""A draft-07 schema loaded the way everit's ``SchemaLoader`` loads it.

What matters for the messages is the shape everit gives a schema, not the schema's text:
- one schema object may make several schemas (``{"type": "string", "enum": [...]}`` is a
  string schema and an enum schema), which everit joins in a *synthetic* ``allOf``;
- keywords without a ``type`` still make typed schemas that accept other types ("sniffed");
- an object schema's properties and dependencies are visited in ``HashMap`` order: the
  schema text goes through org.json's JSONObject, everit's ``OrgJsonUtil.toMap`` (a
  ``HashMap`` sized to the keys) and the builder's ``HashMap`` (dependency tables are then
  copied once more), and each step re-orders the keys by its own bucket count.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from bedrock_contract.dialect import is_local_ref
from bedrock_contract.everit.java import (
    copied_capacity,
    grown_capacity,
    hashmap_order,
    sized_capacity,
)

ARRAY_KEYWORDS = ("items", "additionalItems", "maxItems", "minItems", "uniqueItems", "contains")
OBJECT_KEYWORDS = ("properties", "required", "minProperties", "maxProperties", "dependencies",
                   "patternProperties", "additionalProperties", "propertyNames")
NUMBER_KEYWORDS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf")
STRING_KEYWORDS = ("minLength", "maxLength", "pattern", "format")
CONDITIONAL_KEYWORDS = ("if", "then", "else")
# Keywords whose checks are not modelled here: a schema using one is refused when loaded,
# rather than checked differently from the service.
UNSUPPORTED = ("patternProperties", "propertyNames", "pattern", "format",
               "uniqueItems", "contains", "minProperties", "maxProperties")


class UnsupportedSchema(ValueError):
    """A schema using a keyword this emulation does not check."""


@dataclass(eq=False)
class Node:
    """A loaded schema (everit's ``Schema``)."""


@dataclass(eq=False)
class TrueSchema(Node):
    pass


@dataclass(eq=False)
class FalseSchema(Node):
    pass


@dataclass(eq=False)
class EmptySchema(Node):
    pass


@dataclass(eq=False)
class BooleanSchema(Node):
    pass


@dataclass(eq=False)
class NullSchema(Node):
    pass


@dataclass(eq=False)
class EnumSchema(Node):
    values: list[Any]


@dataclass(eq=False)
class ConstSchema(Node):
    value: Any


@dataclass(eq=False)
class NotSchema(Node):
    schema: Node
    text: str  # how everit prints the schema in its message


@dataclass(eq=False)
class NumberSchema(Node):
    requires_number: bool = True
    requires_integer: bool = False
    minimum: Any = None
    maximum: Any = None
    exclusive_minimum: Any = None
    exclusive_maximum: Any = None
    multiple_of: Any = None


@dataclass(eq=False)
class StringSchema(Node):
    requires_string: bool = True
    min_length: int | None = None
    max_length: int | None = None


@dataclass(eq=False)
class ArraySchema(Node):
    requires_array: bool = True
    min_items: int | None = None
    max_items: int | None = None
    all_items: Node | None = None
    item_schemas: list[Node] | None = None
    additional_items: bool = True
    additional_items_schema: Node | None = None


@dataclass(eq=False)
class ObjectSchema(Node):
    requires_object: bool = True
    required: list[str] = field(default_factory=list)
    properties: list[tuple[str, Node]] = field(default_factory=list)  # in visiting order
    additional: bool = True
    additional_schema: Node | None = None
    property_dependencies: list[tuple[str, list[str]]] = field(default_factory=list)
    schema_dependencies: list[tuple[str, Node]] = field(default_factory=list)

    @cached_property
    def names(self) -> frozenset[str]:
        return frozenset(key for key, _ in self.properties)


@dataclass(eq=False)
class CombinedSchema(Node):
    criterion: str  # allOf, anyOf, oneOf
    subschemas: list[Node]
    synthetic: bool = False

    def visiting_order(self) -> list[Node]:
        """Combined subschemas first (``subschemasWithCombinedFirst``). everit orders the
        rest by their Java ``hashCode()``, which for a string schema includes an identity
        hash (its format validator's), so it varies from one JVM to the next: here they
        keep the order the schema gives them."""
        return sorted(self.subschemas, key=lambda s: not isinstance(s, CombinedSchema))


@dataclass(eq=False)
class ConditionalSchema(Node):
    if_schema: Node | None
    then_schema: Node | None
    else_schema: Node | None


@dataclass(eq=False)
class ReferenceSchema(Node):
    resolve: Callable[[], Node]


def _text_order(keys: list[str]) -> list[str]:
    # A schema object's keys as everit iterates them: org.json's JSONObject (a HashMap grown
    # from 16), then OrgJsonUtil.toMap (a HashMap sized to the keys).
    return hashmap_order(hashmap_order(keys, grown_capacity(len(keys))), sized_capacity(len(keys)))


def _table_order(keys: list[str], copied: bool) -> list[str]:
    # Keys put into a builder's HashMap (grown from 16), then maybe copied (new HashMap<>(m)).
    keys = hashmap_order(keys, grown_capacity(len(keys)))
    return hashmap_order(keys, copied_capacity(len(keys))) if copied else keys


class Loader:
    """Loads one schema document; ``$ref`` to ``#/...`` resolves within it."""

    def __init__(self, root: dict[str, Any]) -> None:
        self.root = root
        self._refs: dict[str, Node] = {}
        self.schema = self.load(root)

    def load(self, raw: Any) -> Node:
        if raw is True:
            return TrueSchema()
        if raw is False:
            return FalseSchema()
        if not isinstance(raw, dict):
            raise UnsupportedSchema(f"a schema must be an object or a boolean, not {raw!r}")
        if "$ref" in raw:
            return self._reference(raw["$ref"])
        for keyword in UNSUPPORTED:
            if keyword in raw:
                raise UnsupportedSchema(f"the {keyword} keyword is not supported")
        left = dict(raw)
        found: list[Node] = []
        if "enum" in left:
            found.append(EnumSchema(list(left.pop("enum"))))
        for criterion in ("allOf", "anyOf", "oneOf"):
            if criterion in left:
                found.append(CombinedSchema(criterion, [self.load(s) for s in left.pop(criterion)]))
        if "not" in left:
            inner = left.pop("not")
            found.append(NotSchema(self.load(inner), _schema_text(inner)))
        if "const" in left:
            found.append(ConstSchema(left.pop("const")))
        if "type" in left:
            found.append(self._typed(left.pop("type"), left))
        found += self._sniffed(left)
        if not found:
            return EmptySchema()
        return found[0] if len(found) == 1 else CombinedSchema("allOf", found, synthetic=True)

    def _typed(self, kind: Any, raw: dict[str, Any]) -> Node:
        if isinstance(kind, list):
            copies = [dict(raw) for _ in kind]
            made = [self._typed(k, copy) for k, copy in zip(kind, copies, strict=True)]
            for key in [k for k in raw if any(k not in copy for copy in copies)]:
                del raw[key]  # consumed by one of the types, as everit's key consumer says
            return CombinedSchema("anyOf", made)
        builders: dict[str, Callable[[dict[str, Any]], Node]] = {
            "string": lambda r: self._string(r, True),
            "integer": lambda r: self._number(r, True, True),
            "number": lambda r: self._number(r, True, False),
            "boolean": lambda r: BooleanSchema(),
            "null": lambda r: NullSchema(),
            "array": lambda r: self._array(r, True),
            "object": lambda r: self._object(r, True),
        }
        if kind not in builders:
            raise UnsupportedSchema(f"unknown type: [{kind}]")
        return builders[kind](raw)

    def _sniffed(self, raw: dict[str, Any]) -> list[Node]:
        found: list[Node] = []
        if any(k in raw for k in ARRAY_KEYWORDS):
            found.append(self._array(raw, False))
        if any(k in raw for k in OBJECT_KEYWORDS):
            found.append(self._object(raw, False))
        if any(k in raw for k in NUMBER_KEYWORDS):
            found.append(self._number(raw, False, False))
        if any(k in raw for k in STRING_KEYWORDS):
            found.append(self._string(raw, False))
        if any(k in raw for k in CONDITIONAL_KEYWORDS):
            branches = [raw.pop(k, None) for k in CONDITIONAL_KEYWORDS]
            if_s, then_s, else_s = (None if b is None else self.load(b) for b in branches)
            found.append(ConditionalSchema(if_s, then_s, else_s))
        return found

    def _number(self, raw: dict[str, Any], typed: bool, integer: bool) -> Node:
        values = {k: raw.pop(k, None) for k in NUMBER_KEYWORDS}
        return NumberSchema(
            requires_number=typed, requires_integer=integer,
            minimum=values["minimum"], maximum=values["maximum"],
            exclusive_minimum=values["exclusiveMinimum"],
            exclusive_maximum=values["exclusiveMaximum"],
            multiple_of=values["multipleOf"],
        )

    def _string(self, raw: dict[str, Any], typed: bool) -> Node:
        return StringSchema(typed, raw.pop("minLength", None), raw.pop("maxLength", None))

    def _array(self, raw: dict[str, Any], typed: bool) -> Node:
        schema = ArraySchema(typed, raw.pop("minItems", None), raw.pop("maxItems", None))
        items = raw.pop("items", None)
        if isinstance(items, list):
            schema.item_schemas = [self.load(s) for s in items]
        elif items is not None:
            schema.all_items = self.load(items)
        extra = raw.pop("additionalItems", None)
        if isinstance(extra, bool):
            schema.additional_items = extra
        elif extra is not None:
            schema.additional_items_schema = self.load(extra)
        return schema

    def _object(self, raw: dict[str, Any], typed: bool) -> Node:
        schema = ObjectSchema(typed, list(raw.pop("required", [])))
        properties = raw.pop("properties", {})
        order = _table_order(_text_order(list(properties)), copied=False)
        schema.properties = [(k, self.load(properties[k])) for k in order]
        extra = raw.pop("additionalProperties", True)
        if isinstance(extra, bool):
            schema.additional = extra
        else:
            schema.additional_schema = self.load(extra)
        dependencies = raw.pop("dependencies", {})
        arrival = _text_order(list(dependencies))
        needs = [k for k in arrival if isinstance(dependencies[k], list)]
        schemas = [k for k in arrival if not isinstance(dependencies[k], list)]
        # Each field's set of needed fields is a HashSet sized for one.
        schema.property_dependencies = [
            (k, hashmap_order(dependencies[k], grown_capacity(len(dependencies[k]), 1)))
            for k in _table_order(needs, copied=True)
        ]
        schema.schema_dependencies = [
            (k, self.load(dependencies[k])) for k in _table_order(schemas, copied=True)
        ]
        return schema

    def _reference(self, ref: str) -> Node:
        if not is_local_ref(ref):
            raise UnsupportedSchema(f"$ref {ref}: only references within the schema are read")

        def resolve() -> Node:
            if ref not in self._refs:
                target: Any = self.root
                for part in [p for p in ref[1:].split("/") if p]:
                    target = target[part.replace("~1", "/").replace("~0", "~")]
                self._refs[ref] = self.load(target)
            return self._refs[ref]

        return ReferenceSchema(resolve)


def _schema_text(raw: Any) -> str:
    # How everit's ToStringVisitor prints the schemas a "not" can hold here.
    if raw == {} or raw is True:
        return "{}" if raw == {} else "true"
    raise UnsupportedSchema("only {} (or true) is supported under not")
