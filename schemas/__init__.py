"""The SDXL 1.0 on Bedrock contract: JSON Schemas and Bedrock-worded validation.

The JSON files beside this module are the only statement of what a valid request and
response are; everything here reads them.
"""

from sdxl_schemas.loader import request_schema, response_schema
from sdxl_schemas.models import MODEL_ID, RETIRED, RETIRED_MODEL_IDS, UNKNOWN_MODEL, ModelRefusal
from sdxl_schemas.sizes import DEFAULT_SIZE, allowed_sizes, size_of
from sdxl_schemas.validation import (
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
