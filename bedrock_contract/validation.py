"""Validates request and response bodies against a model's contract, worded as Bedrock
words it.

``check_request`` is what both sides call: the adapter before a request leaves the machine,
the mock when a request arrives. Besides the schema it checks the input images, which JSON
Schema can only describe (:mod:`bedrock_contract.images`).
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import jsonschema_rs
from PIL import Image, UnidentifiedImageError

from bedrock_contract.contract import ModelContract
from bedrock_contract.everit import JavaSchema, NotJSON, parse_java
from bedrock_contract.field_check import FieldCheck
from bedrock_contract.images import image_violations
from bedrock_contract.sizes import DimensionsRule
from bedrock_contract.violation import Violation


class InvalidRequestBody(ValueError):
    """A request body the service would refuse; ``str()`` is Bedrock's message."""

    def __init__(self, violations: list[Violation], contract: ModelContract,
                 parsed: bool = True, message: str | None = None) -> None:
        self.violations = violations
        # A body that is not a JSON object is refused with the bare frame, no violations;
        # the model's own check words its refusal itself (``message``).
        if message is None:
            message = (contract.frame.message([str(v) for v in violations]) if parsed
                       else contract.frame.bare())
        self.message = message
        super().__init__(self.message)


class InvalidResponseBody(ValueError):
    """A response body that breaks the contract (drift between us and the service)."""

    def __init__(self, violations: list[Violation], contract: ModelContract) -> None:
        self.violations = violations
        self.message = f"response body breaks the {contract.name} contract: " + "".join(
            str(v) for v in violations
        )
        super().__init__(self.message)


@dataclass(frozen=True)
class ValidRequest:
    """A request body that passed every check, with its images decoded once (an image
    whose output is drawn at a scaled size held at that size: ``sizes.sent_size`` gives the
    size it was sent at)."""

    body: dict[str, Any]
    images: dict[str, Image.Image] = field(default_factory=dict)


class _Parsed:
    """A body parsed for the fast path, noting what the compiled validator would judge
    otherwise than everit: JSON Schema counts ``2.0`` (and ``-0``) as an integer, org.json
    types them ``BigDecimal`` (and ``Double``); and the compiled validator compares floats,
    everit the decimals as written (``0.09999999999999999999`` is below a minimum of 0.1,
    its float is not). A body holding one goes to everit."""

    def __init__(self, text: str) -> None:
        _noted.java_typed_differently = False
        self.value = _DECODER.decode(text)
        self.java_typed_differently: bool = _noted.java_typed_differently


# One decoder for every call (making one costs ~25 us); its number hooks note, per thread,
# what the call being parsed holds.
_noted = threading.local()


# Two decimals of at most 15 significant digits (a double's DBL_DIG) never round to the same
# float, so comparing their floats orders them as comparing the decimals does: only a longer
# literal can compare otherwise with a bound (the schemas' bounds are short).
EXACT_DIGITS = 15


def _float(literal: str) -> float:
    value = float(literal)
    if value.is_integer() or _significant_digits(literal) > EXACT_DIGITS:
        _noted.java_typed_differently = True
    return value


def _significant_digits(literal: str) -> int:
    mantissa = literal.lower().partition("e")[0]
    return len(mantissa.lstrip("-").replace(".", "").lstrip("0"))


def _int(literal: str) -> int:
    if literal == "-0":
        _noted.java_typed_differently = True
    return int(literal)


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    made = dict(pairs)
    if len(made) != len(pairs):
        raise ValueError("duplicate key")  # org.json refuses a repeated key
    return made


def _refuse_constant(name: str) -> float:
    # Python's json accepts NaN and Infinity, which are not JSON.
    raise ValueError(f"{name} is not a JSON value")


_DECODER = json.JSONDecoder(object_pairs_hook=_no_duplicates, parse_float=_float,
                            parse_int=_int, parse_constant=_refuse_constant)


def body_text(raw: object) -> str:
    """The body as the service receives it: text as it is, bytes as UTF-8, any other value
    as ``json.dumps`` writes it, as the adapter sends it (so a float 30.0 arrives as
    ``30.0``)."""
    if isinstance(raw, str):
        return raw
    return raw.decode("utf-8") if isinstance(raw, bytes) else json.dumps(raw)


# A body of more arrays and objects than this is refused unparsed: parsed, it would take
# gigabytes (24 MB of "[]," are eight million lists), and no model's body comes near it.
MAX_CONTAINERS = 100_000


def _too_many_containers(text: str) -> bool:
    # Each array or object takes at least two characters; counting brackets over-counts
    # only those inside strings, which a body this size cannot be made of.
    return len(text) > 2 * MAX_CONTAINERS and text.count("[") + text.count("{") > MAX_CONTAINERS


def _fast_valid(fast: jsonschema_rs.Validator, value: dict[str, Any]) -> bool:
    try:
        return bool(fast.is_valid(value))
    except UnicodeEncodeError:
        # jsonschema_rs reads strings as UTF-8, which a lone surrogate is not ("\ud800" is
        # valid JSON, and a Java string holds it): everit's emulation judges that body.
        return False


def _schema_check(
    raw: object, fast: jsonschema_rs.Validator, java: JavaSchema
) -> tuple[dict[str, Any] | None, list[Violation]]:
    """The parsed body (None when it is not a JSON object) and its schema violations:
    ``fast`` gives the verdict where it agrees with everit, ``java`` (everit's) the rest."""
    try:
        text = body_text(raw)
        if _too_many_containers(text):
            return None, [Violation("#", f"holds more than {MAX_CONTAINERS:,} arrays and "
                                         "objects, more than the mock parses")]
        parsed = _Parsed(text)
    except (UnicodeDecodeError, ValueError, RecursionError) as err:
        return None, [Violation("#", f"is not a JSON object ({err})")]
    if not isinstance(parsed.value, dict):
        return None, [Violation("#", "is not a JSON object")]
    if _fast_valid(fast, parsed.value) and not parsed.java_typed_differently:
        return parsed.value, []
    try:
        found = java.violations(parse_java(text))
    except NotJSON as err:
        return None, [Violation("#", f"is not a JSON object ({err})")]
    return parsed.value, [Violation(pointer, message) for pointer, message in found]


def _request_check(contract: ModelContract, raw: object) -> tuple[dict[str, Any] | None,
                                                                  list[Violation]]:
    return _schema_check(raw, contract.fast_request_validator, contract.java_request_schema)


def request_violations(contract: ModelContract, raw: object) -> list[Violation]:
    """The schema violations of a request body, as Bedrock lists them (images not decoded)."""
    return _request_check(contract, raw)[1]


def check_request(contract: ModelContract, raw: bytes | str | Mapping[str, Any]) -> ValidRequest:
    """Parse and check a request body; raise :class:`InvalidRequestBody` listing every
    violation, worded and ordered as Bedrock's validator does, or the model's own refusal
    of a field outside its list, in the order the service answers them."""
    body, problems = _request_check(contract, raw)
    if body is None:
        raise InvalidRequestBody(problems, contract, parsed=False)
    fields = contract.field_check
    if fields is not None and fields.before_schema:
        _check_fields(contract, fields, body)
    if problems:
        raise InvalidRequestBody(problems, contract)
    if fields is not None and not fields.before_schema:
        _check_fields(contract, fields, body)
    size_problem = size_violation(contract, body)
    if size_problem is not None:
        raise InvalidRequestBody([size_problem], contract)
    images, problems = image_violations(contract, body)
    if problems:
        raise InvalidRequestBody(problems, contract)
    return ValidRequest(body, images)


def size_violation(contract: ModelContract, body: Mapping[str, Any]) -> Violation | None:
    """What the asked output size breaks of the limits a schema cannot state (a size rule's
    pixels and aspect ratio: Nova Canvas's), pointed at the object holding the size."""
    rule = contract.size
    if not isinstance(rule, DimensionsRule):
        return None
    problem = rule.problem(body)
    if problem is None:
        return None
    parent = rule.width_field.parent
    return Violation(f"#/{parent.key}" if parent else "#", problem)


def _check_fields(contract: ModelContract, fields: FieldCheck, body: dict[str, Any]) -> None:
    refused = fields.refusal(body)
    if refused is not None:
        violation, message = refused
        raise InvalidRequestBody([violation], contract, message=message)


# Pillow's names for the formats an ``output_format`` asks for.
PILLOW_FORMATS = {"png": "PNG", "jpeg": "JPEG", "jpg": "JPEG", "webp": "WEBP"}


def check_response(
    contract: ModelContract,
    raw: bytes | str | Mapping[str, Any],
    output_format: str | None = None,
) -> dict[str, Any]:
    """Parse and check a response body, each image included (base64 of ``output_format``,
    the model's own format by default); raise :class:`InvalidResponseBody` on drift."""
    body, problems = _schema_check(
        raw, contract.fast_response_validator, contract.java_response_schema)
    if body is None or problems:
        raise InvalidResponseBody(problems, contract)
    expected = PILLOW_FORMATS.get(output_format or contract.output_formats[0], "PNG")
    problems = _image_violations(contract, body, expected)
    if problems:
        raise InvalidResponseBody(problems, contract)
    return body


def _image_violations(
    contract: ModelContract, body: dict[str, Any], expected: str
) -> list[Violation]:
    # The schema says "base64" (contentEncoding), which JSON Schema only annotates; checked
    # here. Only the header is read, not the pixels.
    shape = contract.response
    found: list[Violation] = []
    for index, artifact in enumerate(shape.artifacts(body)):
        if shape.list_field is not None:
            where = f"#/{shape.list_field.child(index).key}/{shape.image.key}"
        else:
            where = f"#/{shape.image.child(index).key}"
        if artifact.image is None:
            continue  # a filtered answer may come without an image
        try:
            data = base64.b64decode(artifact.image, validate=True)
        except (binascii.Error, ValueError):
            found.append(Violation(where, "is not valid base64"))
            continue
        if not data and artifact.finish_reason != shape.success:
            continue  # a failed or filtered generation may come with an empty image
        try:
            with Image.open(io.BytesIO(data)) as image:
                kind = image.format
        except (UnidentifiedImageError, OSError):
            found.append(Violation(where, "is not an image"))
            continue
        if kind != expected:
            found.append(Violation(where, f"is a {kind} image; expected {expected}"))
    return found
