"""A reference verdict on a live model family's request body that shares none of the
project's code: it reads ``schemas/`` itself, validates with the textbook ``jsonschema``
(Draft 7), and checks field names and input images on its own, with Pillow.

What it is told of the service, and nothing more:

- Bedrock's validator (everit over org.json) takes no number written with a point or an
  exponent (``2.0``, ``1e0``) for an integer, nor ``-0``, and does not range-check a value
  that fails its type; org.json refuses a repeated key;
- the model's own check refuses the first field of the body outside the schema's
  ``properties``, worded as ``service.json``'s ``field_check``; it answers before the schema
  check or after it, as the profile's ``field_check.before_schema`` says;
- then each input image must decode (strict base64), open in Pillow in one of the profile's
  formats (a JPEG carrying an MPF extension opens as "MPO": a JPEG), and keep the profile's
  limits (sides, pixels, aspect); its pixels must load.

Schema violations are given as (pointer, pattern) pairs: the pattern is everit's exact words
where the reference can tell them, a looser pattern where everit prints a value the
reference cannot (a decimal's written form, a JSON value in Java's key order).
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property
from typing import Any

import jsonschema
from PIL import Image, UnidentifiedImageError

from tests.support.paths import REPO

SCHEMAS = REPO / "schemas"
SERVICE = json.loads((SCHEMAS / "service.json").read_text(encoding="utf-8"))

# The image rules this reference knows; a profile with another would be judged wrongly.
KNOWN_IMAGE_RULES = {"formats", "min_side", "max_side", "min_pixels", "max_pixels",
                     "min_aspect", "max_aspect"}


# --- numbers as org.json types them ---------------------------------------------------------


class BigDecimal(Decimal):
    """A number written with a point or an exponent."""


class NegativeZero(Decimal):
    """``-0``, ``-0.0``, ...: org.json's one Double (a decimal zero written with a minus)."""


def _number(literal: str) -> Decimal:
    # Decimal, not float: everit compares the written value (0.09999999999999999999 is below
    # a minimum of 0.1, though it is 0.1 as a float).
    value = Decimal(literal)
    return NegativeZero(literal) if value == 0 and literal.startswith("-") else BigDecimal(literal)


def _integer(literal: str) -> int | Decimal:
    return NegativeZero(literal) if literal == "-0" else int(literal)


def _no_constants(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def _no_repeats(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    if len({key for key, _ in pairs}) != len(pairs):
        raise ValueError("a repeated key")
    return dict(pairs)


def parse(raw: bytes) -> Any:
    """The body as the reference reads it; ValueError when it is not JSON."""
    return json.loads(raw.decode("utf-8"), parse_float=_number, parse_int=_integer,
                      parse_constant=_no_constants, object_pairs_hook=_no_repeats)


def _everit_integer(checker: Any, value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


Validator = jsonschema.validators.extend(
    jsonschema.Draft7Validator,
    type_checker=jsonschema.Draft7Validator.TYPE_CHECKER.redefine("integer", _everit_integer),
)

EXPECTED = {"string": "String", "integer": "Integer", "number": "Number", "boolean": "Boolean",
            "object": "JSONObject", "array": "JSONArray", "null": "Null"}


def java_class(value: Any) -> str:
    """The class everit names a value by in ``found: ...``."""
    if value is None:
        return "Null"
    if isinstance(value, bool):
        return "Boolean"
    if isinstance(value, NegativeZero):
        return "Double"
    if isinstance(value, Decimal):
        return "BigDecimal"
    if isinstance(value, int):
        if -(2**31) <= value < 2**31:
            return "Integer"
        return "Long" if -(2**63) <= value < 2**63 else "BigInteger"
    return {str: "String", dict: "JSONObject", list: "JSONArray"}[type(value)]


def _shown(value: Any) -> str | None:
    """A value as everit prints it in a message, where the reference can tell."""
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None  # a decimal keeps its written form; JSON prints in Java's key order


def _bound(value: Any) -> str:
    return str(value)  # the schema's numbers are read as written (Decimal)


# --- a family, read from its folder ---------------------------------------------------------


@dataclass(frozen=True)
class Family:
    folder: str

    @cached_property
    def schema(self) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads(
            (SCHEMAS / self.folder / "request.json").read_text(encoding="utf-8"))
        return loaded

    @cached_property
    def profile(self) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads(
            (SCHEMAS / self.folder / "profile.json").read_text(encoding="utf-8"))
        return loaded

    @cached_property
    def exact_schema(self) -> dict[str, Any]:
        """The schema with its decimals as written, as everit reads them."""
        loaded: dict[str, Any] = json.loads(
            (SCHEMAS / self.folder / "request.json").read_text(encoding="utf-8"),
            parse_float=Decimal)
        return loaded

    @property
    def model_id(self) -> str:
        """The id a call names the newest version the schemas describe by: a model with no
        in-Region endpoint is called through its first inference profile."""
        own = str(next(m["id"] for m in self.profile["models"] if m.get("described", True)))
        if self.profile.get("in_region", True) or not self.profile.get("inference_profiles"):
            return own
        return f"{self.profile['inference_profiles'][0]}.{own}"

    @property
    def properties(self) -> dict[str, Any]:
        props: dict[str, Any] = self.schema["properties"]
        return props

    @property
    def image_fields(self) -> list[str]:
        return [n for n, rule in self.properties.items() if rule.get("contentEncoding") == "base64"]

    def image_rule(self, name: str) -> dict[str, Any]:
        rule: dict[str, Any] = self.profile["request"]["images"][name]
        assert set(rule) <= KNOWN_IMAGE_RULES, f"{self.folder}: {name}: {set(rule)}"
        return rule

    @property
    def frame(self) -> tuple[str, str]:
        """The refusal's prefix and suffix (the service's, or the profile's own)."""
        frame = {**SERVICE["refusal_frame"], **self.profile.get("refusal_frame", {})}
        assert frame["separator"] == "", "this reference splits violations joined by ''"
        return frame["prefix"], frame["suffix"]

    @cached_property
    def validator(self) -> Any:
        return Validator(self.exact_schema)

    def output_format(self, body: Mapping[str, Any]) -> str:
        name = self.profile["response"]["output_format"]["field"]
        return str(body.get(name, self.properties[name]["default"]))

    def __str__(self) -> str:
        return self.folder


def live_families() -> list[Family]:
    """Every family with a model the service still serves."""
    found = []
    for profile in sorted(SCHEMAS.glob("*/profile.json")):
        family = Family(profile.parent.name)
        states = {m["lifecycle"]["state"] for m in family.profile["models"]}
        if "active" in states:
            assert "field_check" in family.profile, f"{family}: the reference expects one"
            assert "alpha_required" not in family.profile["request"], family
            found.append(family)
    return found


# --- the verdict -----------------------------------------------------------------------------


@dataclass
class Verdict:
    """What the service answers: accepted, or refused by one check with its message (the
    field check's, exactly) or its violations (the schema check's: (pointer, pattern);
    the image check's: the image fields at fault)."""

    check: str | None  # None: accepted; "json", "fields", "schema" or "images"
    message: str | None = None
    violations: list[tuple[str, str]] | None = None

    @property
    def accepted(self) -> bool:
        return self.check is None


def verdict(family: Family, raw: bytes) -> Verdict:
    prefix, suffix = family.frame
    try:
        body = parse(raw)
    except (UnicodeDecodeError, ValueError, RecursionError):
        body = None
    if not isinstance(body, dict):
        return Verdict("json", prefix.rstrip(": ") + suffix)
    spec = family.profile["field_check"]
    refused = _field_check(family, body)
    if refused is not None and spec["before_schema"]:
        return Verdict("fields", refused)
    violations = schema_violations(family, body)
    if violations:
        return Verdict("schema", violations=violations)
    if refused is not None:
        return Verdict("fields", refused)
    faults = image_faults(family, body)
    if faults:
        return Verdict("images", violations=[(f"#/{name}", ".+") for name in faults])
    return Verdict(None)


def _field_check(family: Family, body: Mapping[str, Any]) -> str | None:
    unknown = next((name for name in body if name not in family.properties), None)
    if unknown is None:
        return None
    detail = SERVICE["field_check"]["detail"].format(
        field=unknown, label=family.profile["field_check"]["label"],
        fields=", ".join(family.properties))
    return json.dumps({"detail": detail}, separators=(",", ":"), ensure_ascii=False)


def _pointer(path: Any) -> str:
    return "#" + "".join("/" + str(t).replace("~", "~0").replace("/", "~1") for t in path)


def _leaves(errors: Any) -> Iterator[Any]:
    for error in errors:
        if error.validator in ("anyOf", "oneOf") and error.context:
            yield from _leaves(error.context)  # everit lists each branch's failures
        else:
            yield error


def schema_violations(family: Family, body: dict[str, Any]) -> list[tuple[str, str]]:
    """Each violation everit lists, as (pointer, regular expression of its words)."""
    validator = family.validator
    found: list[tuple[str, str]] = []
    for error in _leaves(validator.iter_errors(body)):
        where = _pointer(error.absolute_path)
        if error.validator in ("minimum", "maximum") and "type" in error.schema and not (
            validator.is_type(error.instance, error.schema["type"])
        ):
            continue  # everit does not range-check a value that fails its type
        found += [(where, words) for words in _words(error)]
    return found


def _words(error: Any) -> list[str]:
    """Patterns of everit's words for a jsonschema error (more than one where everit gives
    one message per key)."""
    kind, value, instance = error.validator, error.validator_value, error.instance
    if kind == "required":
        # jsonschema reports each missing key by its repr; find which one.
        name = next(n for n in value if error.message == f"{n!r} is a required property")
        return [re.escape(f"required key [{name}] not found")]
    if kind == "type" and isinstance(value, str):
        return [re.escape(f"expected type: {EXPECTED[value]}, found: {java_class(instance)}")]
    if kind == "enum":
        shown = _shown(instance)
        return [(re.escape(shown) if shown is not None else ".*") + " is not a valid enum value"]
    if kind in ("minimum", "maximum"):
        relation = "greater" if kind == "minimum" else "less"
        shown = _shown(instance)
        return [(re.escape(shown) if shown is not None else r"\S+")
                + re.escape(f" is not {relation} or equal to {_bound(value)}")]
    if kind in ("minLength", "maxLength"):
        return [re.escape(f"expected {kind}: {value}, actual: {len(instance)}")]
    if kind == "not" and value == {}:
        return [re.escape("subject must not be valid against schema {}")]
    if kind == "dependencies":
        needed = {n for names in value.values() if isinstance(names, list) for n in names}
        name = next(n for n in needed if error.message.startswith(f"{n!r} is a dependency of"))
        return [re.escape(f"property [{name}] is required")]
    if kind == "additionalProperties" and value is False:
        return [re.escape(f"extraneous key [{key}] is not permitted")
                for key in instance if key not in error.schema.get("properties", {})]
    return [".*"]


def image_faults(family: Family, body: Mapping[str, Any]) -> list[str]:
    """The image fields whose value breaks the profile's rules."""
    return [name for name in family.image_fields
            if isinstance(body.get(name), str) and not _image_ok(body[name],
                                                                 family.image_rule(name))]


def _image_ok(value: str, rule: dict[str, Any]) -> bool:
    try:
        data = base64.b64decode(value, validate=True)
        image = Image.open(io.BytesIO(data))
    except (binascii.Error, ValueError, UnidentifiedImageError, OSError,
            Image.DecompressionBombError):
        return False
    if {"MPO": "JPEG"}.get(image.format or "", image.format) not in rule["formats"]:
        return False
    width, height = image.size
    limits = [
        ("min_side", min(width, height), min), ("max_side", max(width, height), max),
        ("min_pixels", width * height, min), ("max_pixels", width * height, max),
        ("min_aspect", width / height, min), ("max_aspect", width / height, max),
    ]
    for key, measured, kind in limits:
        if key in rule and (measured < rule[key] if kind is min else measured > rule[key]):
            return False
    try:
        image.load()
    except (OSError, SyntaxError, ValueError):
        return False
    return True


# --- reading a refusal's message ----------------------------------------------------------


def lists_exactly(text: str, violations: list[tuple[str, str]]) -> bool:
    """Whether ``text`` is the violations' messages (``pointer: words``) joined in some
    order, each once."""
    patterns = [re.compile(re.escape(f"{where}: ") + words, re.DOTALL)
                for where, words in violations]
    pointers = {where for where, _ in violations}
    cuts = sorted({i for where in pointers for i in _starts(text, f"{where}: ")} | {len(text)})
    return _split(text, 0, patterns, cuts)


def _starts(text: str, piece: str) -> Iterator[int]:
    at = text.find(piece)
    while at >= 0:
        yield at
        at = text.find(piece, at + 1)


def _split(text: str, at: int, patterns: list[re.Pattern[str]], cuts: list[int]) -> bool:
    if not patterns:
        return at == len(text)
    tried: set[str] = set()
    for index, pattern in enumerate(patterns):
        if pattern.pattern in tried:
            continue  # the same words twice: one order is enough
        tried.add(pattern.pattern)
        rest = patterns[:index] + patterns[index + 1:]
        for cut in cuts:
            if cut > at and pattern.fullmatch(text, at, cut) and _split(text, cut, rest, cuts):
                return True
    return False
