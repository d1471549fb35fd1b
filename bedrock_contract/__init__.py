"""The contracts of Stability's image models on Amazon Bedrock, as data, and the Python
that reads them.

Each model family is a folder under ``schemas/`` (request and response JSON Schemas and a
profile); :class:`ModelContract` is one folder read, :class:`Catalogue` all of them, by
model id. Both the client and the mock validate with :func:`check_request`.

Names are imported on first use (PEP 562): ``sdxl --version`` or ``sdxl models`` imports
this package, and must not pay for the validators (jsonschema, the everit emulation).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bedrock_contract.lazy import export

if TYPE_CHECKING:  # the names below, for type checkers (re-exported, hence "as")
    from bedrock_contract.catalogue import (
        Catalogue as Catalogue,
        ModelRefusal as ModelRefusal,
        ModelRefused as ModelRefused,
        Resolved as Resolved,
        contract_for as contract_for,
        default_catalogue as default_catalogue,
        parse_as_of as parse_as_of,
    )
    from bedrock_contract.contract import ModelContract as ModelContract
    from bedrock_contract.lifecycle import Lifecycle as Lifecycle, ModelVersion as ModelVersion
    from bedrock_contract.loader import (
        PATH_VARIABLE as PATH_VARIABLE,
        ContractFileError as ContractFileError,
    )
    from bedrock_contract.operations import Operation as Operation
    from bedrock_contract.request_fields import Prompt as Prompt
    from bedrock_contract.sizes import (
        AspectRatioRule as AspectRatioRule,
        InputSizeRule as InputSizeRule,
        PairsRule as PairsRule,
        Size as Size,
        SizeRule as SizeRule,
        format_size as format_size,
    )
    from bedrock_contract.validation import (
        InvalidRequestBody as InvalidRequestBody,
        InvalidResponseBody as InvalidResponseBody,
        ValidRequest as ValidRequest,
        body_text as body_text,
        check_request as check_request,
        check_response as check_response,
        request_violations as request_violations,
    )
    from bedrock_contract.version import __version__ as __version__
    from bedrock_contract.violation import Violation as Violation

_HOMES = {
    "Catalogue": "bedrock_contract.catalogue",
    "ModelRefusal": "bedrock_contract.catalogue",
    "ModelRefused": "bedrock_contract.catalogue",
    "Resolved": "bedrock_contract.catalogue",
    "contract_for": "bedrock_contract.catalogue",
    "default_catalogue": "bedrock_contract.catalogue",
    "parse_as_of": "bedrock_contract.catalogue",
    "ModelContract": "bedrock_contract.contract",
    "Lifecycle": "bedrock_contract.lifecycle",
    "ModelVersion": "bedrock_contract.lifecycle",
    "PATH_VARIABLE": "bedrock_contract.loader",
    "ContractFileError": "bedrock_contract.loader",
    "Operation": "bedrock_contract.operations",
    "Prompt": "bedrock_contract.request_fields",
    "AspectRatioRule": "bedrock_contract.sizes",
    "InputSizeRule": "bedrock_contract.sizes",
    "PairsRule": "bedrock_contract.sizes",
    "Size": "bedrock_contract.sizes",
    "SizeRule": "bedrock_contract.sizes",
    "format_size": "bedrock_contract.sizes",
    "InvalidRequestBody": "bedrock_contract.validation",
    "InvalidResponseBody": "bedrock_contract.validation",
    "ValidRequest": "bedrock_contract.validation",
    "body_text": "bedrock_contract.validation",
    "check_request": "bedrock_contract.validation",
    "check_response": "bedrock_contract.validation",
    "request_violations": "bedrock_contract.validation",
    "__version__": "bedrock_contract.version",
    "Violation": "bedrock_contract.violation",
}
__all__ = sorted(name for name in _HOMES if not name.startswith("__"))


def __getattr__(name: str) -> Any:
    return export(__name__, _HOMES, name)
