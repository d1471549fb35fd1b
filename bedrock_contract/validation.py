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
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from PIL import Image, UnidentifiedImageError

from bedrock_contract.contract import ModelContract
from bedrock_contract.images import image_violations
from bedrock_contract.wording import Violation, violations_of


class InvalidRequestBody(ValueError):
    """A request body the service would refuse; ``str()`` is Bedrock's message."""

    def __init__(self, violations: list[Violation], contract: ModelContract) -> None:
        self.violations = violations
        self.message = contract.frame.message([str(v) for v in violations])
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
    """A request body that passed every check, with its images decoded once."""

    body: dict[str, Any]
    images: dict[str, Image.Image] = field(default_factory=dict)


def parse_body(raw: bytes | str | Mapping[str, Any]) -> tuple[object, list[Violation]]:
    if isinstance(raw, Mapping):
        return dict(raw), []
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        return json.loads(text, parse_constant=_refuse_constant), []
    except UnicodeDecodeError:
        return None, [Violation("#", "body is not UTF-8 encoded JSON")]
    except RecursionError:
        return None, [Violation("#", "body is nested too deeply to parse")]
    except ValueError as err:  # json.JSONDecodeError and the constants refused below
        return None, [Violation("#", f"body is not valid JSON ({err})")]


def _refuse_constant(name: str) -> float:
    # Python's json accepts NaN and Infinity, which are not JSON and slip past range checks.
    raise ValueError(f"{name} is not a JSON value")


def request_violations(contract: ModelContract, body: object) -> list[Violation]:
    """Every schema violation of an already-parsed request body (images not decoded)."""
    if contract.fast_request_validator.is_valid(body):
        return []
    return violations_of(contract.request_validator.iter_errors(body), contract.size)


def check_request(contract: ModelContract, raw: bytes | str | Mapping[str, Any]) -> ValidRequest:
    """Parse and check a request body; raise :class:`InvalidRequestBody` listing every
    violation, worded as Bedrock words them."""
    body, problems = parse_body(raw)
    if problems:
        raise InvalidRequestBody(problems, contract)
    problems = request_violations(contract, body)
    images: dict[str, Image.Image] = {}
    if isinstance(body, dict):
        images, image_problems = image_violations(contract, body)
        problems += image_problems
    if problems:
        raise InvalidRequestBody(problems, contract)
    assert isinstance(body, dict)  # no violation, so the schema's "type": "object" held
    return ValidRequest(_integers_as_int(contract, body), images)


def _integers_as_int(contract: ModelContract, body: dict[str, Any]) -> dict[str, Any]:
    # JSON Schema counts 1152.0 as an integer, so the body is valid; hand it on as 1152 so
    # that code using the value (sizes, seeds, step counts) sees the type the schema promised.
    properties = contract.properties
    return {
        key: int(value)
        if isinstance(value, float) and properties.get(key, {}).get("type") == "integer"
        else value
        for key, value in body.items()
    }


# Pillow's names for the formats an ``output_format`` asks for.
PILLOW_FORMATS = {"png": "PNG", "jpeg": "JPEG", "jpg": "JPEG", "webp": "WEBP"}


def check_response(
    contract: ModelContract,
    raw: bytes | str | Mapping[str, Any],
    output_format: str | None = None,
) -> dict[str, Any]:
    """Parse and check a response body, each image included (base64 of ``output_format``,
    the model's own format by default); raise :class:`InvalidResponseBody` on drift."""
    body, problems = parse_body(raw)
    if not problems and not contract.fast_response_validator.is_valid(body):
        problems = violations_of(contract.response_validator.iter_errors(body), contract.size)
    if problems:
        raise InvalidResponseBody(problems, contract)
    assert isinstance(body, dict)
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
            where = f"#/{shape.list_field}/{index}/{shape.image}"
        else:
            where = f"#/{shape.image}/{index}"
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
