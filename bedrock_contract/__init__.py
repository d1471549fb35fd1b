"""The SDXL 1.0 on Bedrock contract: JSON Schemas and Bedrock-worded validation.

The JSON files beside this module are the only statement of what a valid request and
response are; everything here reads them.
"""

from bedrock_contract.loader import request_schema, response_schema
from bedrock_contract.models import (
    MODEL_ID,
    RETIRED,
    RETIRED_MODEL_IDS,
    UNKNOWN_MODEL,
    ModelRefusal,
)
from bedrock_contract.sizes import DEFAULT_SIZE, allowed_sizes, size_of
from bedrock_contract.validation import (
    InvalidRequestBody,
    InvalidResponseBody,
    ValidRequest,
    Violation,
    check_request,
    check_response,
    request_violations,
)

__all__ = [
    "DEFAULT_SIZE",
    "MODEL_ID",
    "RETIRED",
    "RETIRED_MODEL_IDS",
    "UNKNOWN_MODEL",
    "InvalidRequestBody",
    "InvalidResponseBody",
    "ModelRefusal",
    "ValidRequest",
    "Violation",
    "allowed_sizes",
    "check_request",
    "check_response",
    "request_schema",
    "request_violations",
    "response_schema",
    "size_of",
]
