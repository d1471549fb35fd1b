"""The contracts of Stability's image models on Amazon Bedrock, as data, and the Python
that reads them.

Each model family is a folder under ``schemas/`` (request and response JSON Schemas and a
profile); :class:`ModelContract` is one folder read, :class:`Catalogue` all of them, by
model id. Both the client and the mock validate with :func:`check_request`.
"""

from bedrock_contract.catalogue import (
    Catalogue,
    ModelRefusal,
    ModelRefused,
    Resolved,
    contract_for,
    default_catalogue,
    parse_as_of,
)
from bedrock_contract.contract import ModelContract
from bedrock_contract.lifecycle import Lifecycle, ModelVersion
from bedrock_contract.loader import PATH_VARIABLE, ContractFileError
from bedrock_contract.operations import Operation
from bedrock_contract.request_fields import Prompt
from bedrock_contract.sizes import (
    AspectRatioRule,
    InputSizeRule,
    PairsRule,
    Size,
    SizeRule,
    format_size,
)
from bedrock_contract.validation import (
    InvalidRequestBody,
    InvalidResponseBody,
    ValidRequest,
    body_text,
    check_request,
    check_response,
    request_violations,
)
from bedrock_contract.version import __version__ as __version__
from bedrock_contract.violation import Violation

__all__ = [
    "PATH_VARIABLE",
    "AspectRatioRule",
    "Catalogue",
    "ContractFileError",
    "InputSizeRule",
    "InvalidRequestBody",
    "InvalidResponseBody",
    "Lifecycle",
    "ModelContract",
    "ModelRefusal",
    "ModelRefused",
    "ModelVersion",
    "Operation",
    "PairsRule",
    "Prompt",
    "Resolved",
    "Size",
    "SizeRule",
    "ValidRequest",
    "Violation",
    "body_text",
    "check_request",
    "check_response",
    "contract_for",
    "default_catalogue",
    "format_size",
    "parse_as_of",
    "request_violations",
]
