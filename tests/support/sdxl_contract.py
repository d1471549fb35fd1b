"""SDXL 1.0's contract under the short names the SDXL tests use: its folder read through
``bedrock_contract``, with every function bound to it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jsonschema

import bedrock_contract
from bedrock_contract import (
    InvalidRequestBody,
    InvalidResponseBody,
    PairsRule,
    ValidRequest,
    Violation,
    contract_for,
    default_catalogue,
)
from bedrock_contract.sizes import Size, format_size

__all__ = [
    "DEFAULT_SIZE", "MODEL_ID", "RETIRED", "RETIRED_MODEL_IDS", "SDXL", "UNKNOWN_MODEL",
    "InvalidRequestBody", "InvalidResponseBody", "Size", "ValidRequest", "Violation",
    "allowed_sizes", "allowed_sizes_text", "check_request", "check_response", "field",
    "format_size", "request_schema", "request_validator", "request_violations",
    "response_schema", "size_of",
]

MODEL_ID = "stability.stable-diffusion-xl-v1"
SDXL = contract_for(MODEL_ID)
assert isinstance(SDXL.size, PairsRule)
SIZE: PairsRule = SDXL.size
DEFAULT_SIZE = SIZE.default
RETIRED_MODEL_IDS = tuple(m.id for m in SDXL.models if not m.described)
RETIRED = default_catalogue().words.end_of_life
UNKNOWN_MODEL = default_catalogue().words.unknown_model


def check_request(raw: bytes | str | Mapping[str, Any]) -> ValidRequest:
    return bedrock_contract.check_request(SDXL, raw)


def check_response(raw: bytes | str | Mapping[str, Any]) -> dict[str, Any]:
    return bedrock_contract.check_response(SDXL, raw)


def request_violations(body: object) -> list[Violation]:
    return bedrock_contract.request_violations(SDXL, body)


def allowed_sizes() -> tuple[Size, ...]:
    return SIZE.allowed


def allowed_sizes_text() -> str:
    return ", ".join(SIZE.choices())


def size_of(body: Mapping[str, Any]) -> Size:
    return SIZE.asked(body)


def field(name: str) -> Mapping[str, Any]:
    return SDXL.field(name)


def request_schema() -> Mapping[str, Any]:
    return SDXL.request_schema


def response_schema() -> Mapping[str, Any]:
    return SDXL.response_schema


def _java_integer(checker: Any, value: object) -> bool:
    # org.json types a number written with a point or an exponent (2.0, 1e3) BigDecimal,
    # which Bedrock's validator never takes for an integer; json.loads makes those floats.
    return isinstance(value, int) and not isinstance(value, bool)


# The reference verdict: the textbook validator (jsonschema), told only how the service's
# validator types integers; nothing of bedrock_contract's own validation.
_Reference = jsonschema.validators.extend(
    jsonschema.Draft7Validator,
    type_checker=jsonschema.Draft7Validator.TYPE_CHECKER.redefine("integer", _java_integer),
)


def request_validator() -> Any:
    return _Reference(SDXL.request_schema)
