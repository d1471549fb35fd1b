"""Validates request and response bodies against the schemas, worded as Bedrock words it.

``check_request`` is what both sides call: the adapter before a request leaves the machine,
the mock when a request arrives. Besides the schema it checks the two image fields, which
JSON Schema can only describe: base64 of a decodable PNG or JPEG of an allowed size.
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

from bedrock_contract.loader import (
    fast_request_validator,
    fast_response_validator,
    request_schema,
    request_validator,
    response_schema,
    response_validator,
)
from bedrock_contract.sizes import allowed_sizes, allowed_sizes_text, format_size
from bedrock_contract.wording import Violation, violations_of

REQUEST_FRAME = "Malformed input request: {}, please reformat your input and try again."
IMAGE_FORMATS = ("PNG", "JPEG")


class InvalidRequestBody(ValueError):
    """A request body the service would refuse; ``str()`` is Bedrock's message."""

    def __init__(self, violations: list[Violation]) -> None:
        self.violations = violations
        self.message = REQUEST_FRAME.format("".join(str(v) for v in violations))
        super().__init__(self.message)


class InvalidResponseBody(ValueError):
    """A response body that breaks the contract (drift between us and the service)."""

    def __init__(self, violations: list[Violation]) -> None:
        self.violations = violations
        self.message = "response body breaks the SDXL contract: " + "".join(
            str(v) for v in violations
        )
        super().__init__(self.message)


@dataclass(frozen=True)
class ValidRequest:
    """A request body that passed every check, with its images decoded once."""

    body: dict[str, Any]
    images: dict[str, Image.Image] = field(default_factory=dict)


def _parse(raw: bytes | str | Mapping[str, Any]) -> tuple[object, list[Violation]]:
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


def request_violations(body: object) -> list[Violation]:
    """Every schema violation of an already-parsed request body (images not decoded)."""
    if fast_request_validator().is_valid(body):
        return []
    return violations_of(request_validator().iter_errors(body))


def _decode_image(name: str, data: str) -> tuple[Image.Image | None, list[Violation]]:
    where = f"#/{name}"
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        return None, [Violation(where, "is not valid base64")]
    try:
        # Opening reads only the header; the size is checked before any pixel is decoded,
        # and Pillow's decompression-bomb guard stays on for the header itself.
        image = Image.open(io.BytesIO(raw))
    except Image.DecompressionBombError as err:
        return None, [Violation(where, f"image is too large to decode ({err})")]
    except (UnidentifiedImageError, OSError):
        return None, [Violation(where, "is not a PNG or JPEG image")]
    if image.format not in IMAGE_FORMATS:
        return None, [Violation(where, f"is a {image.format} image; expected PNG or JPEG")]
    if image.size not in allowed_sizes():
        return None, [
            Violation(
                where,
                f"image size {format_size(image.size)} (width x height) is not one of the "
                f"allowed sizes: {allowed_sizes_text()}",
            )
        ]
    try:
        image.load()
    except (OSError, SyntaxError, ValueError) as err:
        return None, [Violation(where, f"image data is corrupt ({err})")]
    return image, []


def _image_violations(body: dict[str, Any]) -> tuple[dict[str, Image.Image], list[Violation]]:
    images: dict[str, Image.Image] = {}
    found: list[Violation] = []
    for name in ("init_image", "mask_image"):
        if isinstance(body.get(name), str):
            image, problems = _decode_image(name, body[name])
            found += problems
            if image is not None:
                images[name] = image
    init, mask = images.get("init_image"), images.get("mask_image")
    if init is not None and mask is not None and init.size != mask.size:
        found.append(
            Violation(
                "#/mask_image",
                f"image size {format_size(mask.size)} does not match init_image size "
                f"{format_size(init.size)}",
            )
        )
    if (
        init is not None
        and body.get("mask_source") == "INIT_IMAGE_ALPHA"
        and "A" not in init.getbands()
        and "transparency" not in init.info
    ):
        found.append(
            Violation(
                "#/init_image",
                "has no alpha channel, which mask_source INIT_IMAGE_ALPHA reads the mask from",
            )
        )
    return images, found


def check_request(raw: bytes | str | Mapping[str, Any]) -> ValidRequest:
    """Parse and check a request body; raise :class:`InvalidRequestBody` listing every
    violation, worded as Bedrock words them."""
    body, problems = _parse(raw)
    if problems:
        raise InvalidRequestBody(problems)
    problems = request_violations(body)
    images: dict[str, Image.Image] = {}
    if isinstance(body, dict):
        images, image_problems = _image_violations(body)
        problems += image_problems
    if problems:
        raise InvalidRequestBody(problems)
    assert isinstance(body, dict)  # no violation, so the schema's "type": "object" held
    return ValidRequest(_integers_as_int(body), images)


def _integers_as_int(body: dict[str, Any]) -> dict[str, Any]:
    # JSON Schema counts 1152.0 as an integer, so the body is valid; hand it on as 1152 so
    # that code using the value (sizes, seeds, step counts) sees the type the schema promised.
    properties = request_schema()["properties"]
    return {
        key: int(value)
        if isinstance(value, float) and properties.get(key, {}).get("type") == "integer"
        else value
        for key, value in body.items()
    }


def check_response(raw: bytes | str | Mapping[str, Any]) -> dict[str, Any]:
    """Parse and check a response body, each artifact's image included; raise
    :class:`InvalidResponseBody` on drift."""
    body, problems = _parse(raw)
    if not problems and not fast_response_validator().is_valid(body):
        problems = violations_of(response_validator().iter_errors(body))
    if problems:
        raise InvalidResponseBody(problems)
    assert isinstance(body, dict)
    problems = _artifact_image_violations(body["artifacts"])
    if problems:
        raise InvalidResponseBody(problems)
    return body


def _artifact_image_violations(artifacts: list[dict[str, Any]]) -> list[Violation]:
    # The schema says "base64 of image/png" (contentEncoding, contentMediaType), which JSON
    # Schema only annotates; checked here. Only the header is read, not the pixels.
    media = response_schema()["properties"]["artifacts"]["items"]["properties"]["base64"]
    expected = media["contentMediaType"].split("/")[1].upper()
    found: list[Violation] = []
    for index, artifact in enumerate(artifacts):
        where = f"#/artifacts/{index}/base64"
        try:
            data = base64.b64decode(artifact["base64"], validate=True)
        except (binascii.Error, ValueError):
            found.append(Violation(where, "is not valid base64"))
            continue
        if not data and artifact["finishReason"] != "SUCCESS":
            continue  # a failed or filtered generation may come without an image
        try:
            with Image.open(io.BytesIO(data)) as image:
                kind = image.format
        except (UnidentifiedImageError, OSError):
            found.append(Violation(where, "is not an image"))
            continue
        if kind != expected:
            found.append(Violation(where, f"is a {kind} image; expected {expected}"))
    return found
