"""Turns a response body into a :class:`GenerationResult`, or into the error it stands for.

Every way a body can break the contract (not JSON, a missing field, an unknown finishReason,
base64 that does not decode to a PNG) becomes :class:`ContractDrift`, never a KeyError.
"""

from __future__ import annotations

import base64
import binascii
import io
from typing import Any

from PIL import Image, UnidentifiedImageError

import sdxl_schemas
from sdxl_adapter.errors import ContentFiltered, ContractDrift, GenerationFailed
from sdxl_adapter.request import SDXLRequest
from sdxl_adapter.result import GenerationResult
from sdxl_schemas import Violation


def _finish_reason(name: str) -> str:
    # The names this module branches on must be in the schema's enum: fail at import if the
    # contract renames one, instead of silently never matching.
    artifact = sdxl_schemas.response_schema()["properties"]["artifacts"]["items"]
    if name not in artifact["properties"]["finishReason"]["enum"]:
        raise ImportError(f"finishReason {name!r} is not in the response schema")
    return name


SUCCESS = _finish_reason("SUCCESS")
ERROR = _finish_reason("ERROR")
CONTENT_FILTERED = _finish_reason("CONTENT_FILTERED")


def _drift(violation: Violation, request_id: str | None) -> ContractDrift:
    message = f"response body breaks the SDXL contract: {violation}"
    return ContractDrift(message, [violation], request_id=request_id)


def _decode_png(artifact: dict[str, Any], request_id: str | None) -> bytes:
    where = "#/artifacts/0/base64"
    try:
        png = base64.b64decode(artifact["base64"], validate=True)
    except (binascii.Error, ValueError) as err:
        raise _drift(Violation(where, "is not valid base64"), request_id) from err
    if not png and artifact["finishReason"] != SUCCESS:
        return png  # a failed or filtered generation may come without an image
    try:
        with Image.open(io.BytesIO(png)) as image:
            found = image.format
    except (UnidentifiedImageError, OSError) as err:
        raise _drift(Violation(where, "is not an image"), request_id) from err
    if found != "PNG":
        raise _drift(Violation(where, f"is a {found} image; expected PNG"), request_id)
    return png


def result_from_body(
    raw: bytes | str,
    *,
    model_id: str,
    request_id: str | None,
    body: dict[str, Any],
    request: SDXLRequest | None,
) -> GenerationResult:
    """The result a response body carries; raises :class:`ContractDrift`,
    :class:`ContentFiltered` or :class:`GenerationFailed`."""
    try:
        parsed = sdxl_schemas.check_response(raw)
    except sdxl_schemas.InvalidResponseBody as err:
        raise ContractDrift(err.message, err.violations, request_id=request_id) from err
    # Bedrock generates one image per call (the request schema caps samples at 1).
    artifact = parsed["artifacts"][0]
    result = GenerationResult(
        png=_decode_png(artifact, request_id),
        seed=artifact["seed"],
        finish_reason=artifact["finishReason"],
        model_id=model_id,
        request_id=request_id,
        body=body,
        request=request,
    )
    if result.finish_reason == CONTENT_FILTERED:
        raise ContentFiltered(result)
    if result.finish_reason == ERROR:
        raise GenerationFailed(result)
    return result
