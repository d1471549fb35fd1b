"""Turns a response body into a :class:`GenerationResult`, or into the error it stands for.

Where a body keeps its seeds, images and finish reasons, and which finish reason means
success or a filtered image, is the model's contract (its profile); every way a body can
break the contract (not JSON, a missing field, an unknown finish reason, base64 that does
not decode to an image of the requested format) becomes :class:`ContractDrift`, never a
KeyError.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

import bedrock_contract
from bedrock_contract import ModelContract
from sdxl_adapter.errors import ContentFiltered, ContractDrift, GenerationFailed
from sdxl_adapter.request import AnyRequest
from sdxl_adapter.result import GenerationResult


def result_from_body(
    raw: bytes | str,
    *,
    contract: ModelContract,
    model_id: str,
    request_id: str | None,
    body: dict[str, Any],
    request: AnyRequest | None,
    output_format: str | None = None,
    served: dict[str, str] | None = None,
) -> GenerationResult:
    """The result a response body carries; raises :class:`ContractDrift`,
    :class:`ContentFiltered` (a finish reason the profile lists as filtered) or
    :class:`GenerationFailed` (any other that is not the success value)."""
    output_format = output_format or contract.output_format(body)
    try:
        parsed = bedrock_contract.check_response(contract, raw, output_format)
        artifacts = contract.response.artifacts(parsed)
    except bedrock_contract.InvalidResponseBody as err:
        raise ContractDrift(err.message, err.violations, request_id=request_id) from err
    if not artifacts:
        raise ContractDrift(
            f"response body breaks the {contract.name} contract: it reports no generation",
            [], request_id=request_id,
        )
    try:
        mask = _mask(contract, parsed)
    except binascii.Error as err:
        raise ContractDrift(
            f"response body breaks the {contract.name} contract: its mask is not base64 "
            f"({err})", [], request_id=request_id) from err
    result = GenerationResult(
        # check_response checked that each image is base64 of an image.
        images=tuple(base64.b64decode(a.image) if a.image else b"" for a in artifacts),
        seeds=tuple(a.seed for a in artifacts),
        finish_reasons=tuple(a.finish_reason for a in artifacts),
        model_id=model_id,
        request_id=request_id,
        body=body,
        request=request,
        output_format=output_format,
        served=served or {},
        mask=mask,
    )
    shape = contract.response
    if result.finish_reason in shape.blurred:
        raise ContentFiltered(result)
    if result.finish_reason != shape.success:
        raise GenerationFailed(result)
    return result


def _mask(contract: ModelContract, body: Any) -> bytes:
    """The mask an answer returns, decoded; empty where it returns none."""
    where = contract.response.mask
    found = where.get(body) if where is not None else None
    return base64.b64decode(found, validate=True) if isinstance(found, str) else b""
