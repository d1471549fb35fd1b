"""Which model ids the mock serves, as data: one table, looked up, never branched on."""

from __future__ import annotations

import re
from dataclasses import dataclass

import bedrock_contract
from mock_bedrock.service.errors import BedrockError

SDXL_V1 = bedrock_contract.MODEL_ID
# The one body type SDXL reads and writes (Content-Type, Accept).
MEDIA_TYPE = "application/json"

EOL_MESSAGE = bedrock_contract.RETIRED.message
INVALID_MESSAGE = bedrock_contract.UNKNOWN_MODEL.message


@dataclass(frozen=True)
class ModelEntry:
    """What the service does with an id: serve it, or refuse it with an error."""

    served: bool
    error_code: str | None = None
    error_message: str | None = None


SERVED = ModelEntry(served=True)
END_OF_LIFE = ModelEntry(False, *bedrock_contract.RETIRED)

MODELS: dict[str, ModelEntry] = {
    SDXL_V1: SERVED,
    **dict.fromkeys(bedrock_contract.RETIRED_MODEL_IDS, END_OF_LIFE),
}

# arn:<partition>:bedrock:<region>::foundation-model/<id>; the account field is empty for
# foundation models. Partitions other than "aws" (aws-cn, aws-us-gov) name the same models.
_FOUNDATION_ARN = re.compile(
    r"arn:aws(?:-[a-z-]+)?:bedrock:[a-z0-9-]{1,20}::foundation-model/(?P<id>[^/]+)"
)


def base_model_id(model_id: str) -> str:
    """The plain model id behind an id or a foundation-model ARN (else unchanged)."""
    match = _FOUNDATION_ARN.fullmatch(model_id)
    return match["id"] if match else model_id


def resolve(model_id: str) -> str:
    """The served model id that ``model_id`` (an id or its ARN) names, or the service's
    error for it."""
    base = base_model_id(model_id)
    entry = MODELS.get(base)
    if entry is None:
        raise BedrockError(*bedrock_contract.UNKNOWN_MODEL)
    if not entry.served:
        assert entry.error_code is not None and entry.error_message is not None
        raise BedrockError(entry.error_code, entry.error_message)
    return base
