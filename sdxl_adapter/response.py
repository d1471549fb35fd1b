"""Turns a response body into a :class:`GenerationResult`, or into the error it stands for.

Every way a body can break the contract (not JSON, a missing field, an unknown finishReason,
base64 that does not decode to a PNG) becomes :class:`ContractDrift`, never a KeyError.
"""

from __future__ import annotations

import base64
from typing import Any

import bedrock_contract
from sdxl_adapter.errors import ContentFiltered, ContractDrift, GenerationFailed
from sdxl_adapter.request import SDXLRequest
from sdxl_adapter.result import GenerationResult


def _finish_reason(name: str) -> str:
    # The names this module branches on must be in the schema's enum: fail at import if the
    # contract renames one, instead of silently never matching.
    artifact = bedrock_contract.response_schema()["properties"]["artifacts"]["items"]
    if name not in artifact["properties"]["finishReason"]["enum"]:
        raise ImportError(f"finishReason {name!r} is not in the response schema")
    return name


SUCCESS = _finish_reason("SUCCESS")
ERROR = _finish_reason("ERROR")
CONTENT_FILTERED = _finish_reason("CONTENT_FILTERED")


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
        parsed = bedrock_contract.check_response(raw)
    except bedrock_contract.InvalidResponseBody as err:
        raise ContractDrift(err.message, err.violations, request_id=request_id) from err
    # Bedrock generates one image per call (the request schema caps samples at 1).
    artifact = parsed["artifacts"][0]
    result = GenerationResult(
        png=base64.b64decode(artifact["base64"]),  # checked by check_response
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
