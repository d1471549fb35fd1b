"""Client side of Stability's image models on Amazon Bedrock (SDXL 1.0, SD3.5 Large,
Stable Image Core and Ultra): requests checked against each model's contract before they
leave the machine, calls through boto3, responses checked and decoded.

    from sdxl_adapter import BedrockImageClient, ModelRequest, SDXLRequest

    with BedrockImageClient("mock") as client:     # or "aws", or "http://127.0.0.1:8787"
        result = client.generate(ModelRequest("stability.stable-image-core-v1:1",
                                              prompt="a lighthouse", output_format="jpeg"))
        result.save("lighthouse.jpg")
        old = client.generate(SDXLRequest(prompt="a lighthouse", seed=7))   # SDXL 1.0

An SDXL body moves to a live model with :func:`sdxl_adapter.migrate.migrate`.

Names are imported on first use (PEP 562): the contract plugin loads with this package in
every test run of a project that has it installed.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the names below, for type checkers (re-exported, hence "as")
    from sdxl_adapter import errors as errors
    from sdxl_adapter.client import (
        DEFAULT_MODEL_ID as DEFAULT_MODEL_ID,
    )
    from sdxl_adapter.client import (
        BedrockImageClient as BedrockImageClient,
    )
    from sdxl_adapter.client import (
        SDXLClient as SDXLClient,
    )
    from sdxl_adapter.errors import (
        BedrockError as BedrockError,
    )
    from sdxl_adapter.errors import (
        ClientConfigError as ClientConfigError,
    )
    from sdxl_adapter.errors import (
        ConnectionFailed as ConnectionFailed,
    )
    from sdxl_adapter.errors import (
        ContentFiltered as ContentFiltered,
    )
    from sdxl_adapter.errors import (
        ContractDrift as ContractDrift,
    )
    from sdxl_adapter.errors import (
        CredentialsMissing as CredentialsMissing,
    )
    from sdxl_adapter.errors import (
        GenerationFailed as GenerationFailed,
    )
    from sdxl_adapter.errors import (
        InvalidRequest as InvalidRequest,
    )
    from sdxl_adapter.errors import (
        ModelEndOfLife as ModelEndOfLife,
    )
    from sdxl_adapter.errors import (
        SDXLError as SDXLError,
    )
    from sdxl_adapter.migrate import (
        Migration as Migration,
    )
    from sdxl_adapter.migrate import (
        migrate as migrate,
    )
    from sdxl_adapter.models import (
        UnknownModel as UnknownModel,
    )
    from sdxl_adapter.pngtext import (
        read_png_text as read_png_text,
    )
    from sdxl_adapter.request import (
        NEGATIVE_PROMPT_WEIGHT as NEGATIVE_PROMPT_WEIGHT,
    )
    from sdxl_adapter.request import (
        ModelRequest as ModelRequest,
    )
    from sdxl_adapter.request import (
        SDXLRequest as SDXLRequest,
    )
    from sdxl_adapter.request import (
        TextPrompt as TextPrompt,
    )
    from sdxl_adapter.result import (
        GenerationResult as GenerationResult,
    )
    from sdxl_adapter.result import (
        read_parameters as read_parameters,
    )

_HOMES = {
    "errors": "sdxl_adapter.errors",
    "DEFAULT_MODEL_ID": "sdxl_adapter.client",
    "BedrockImageClient": "sdxl_adapter.client",
    "SDXLClient": "sdxl_adapter.client",
    "BedrockError": "sdxl_adapter.errors",
    "ClientConfigError": "sdxl_adapter.errors",
    "ConnectionFailed": "sdxl_adapter.errors",
    "ContentFiltered": "sdxl_adapter.errors",
    "ContractDrift": "sdxl_adapter.errors",
    "CredentialsMissing": "sdxl_adapter.errors",
    "GenerationFailed": "sdxl_adapter.errors",
    "InvalidRequest": "sdxl_adapter.errors",
    "ModelEndOfLife": "sdxl_adapter.errors",
    "SDXLError": "sdxl_adapter.errors",
    "Migration": "sdxl_adapter.migrate",
    "migrate": "sdxl_adapter.migrate",
    "UnknownModel": "sdxl_adapter.models",
    "read_png_text": "sdxl_adapter.pngtext",
    "NEGATIVE_PROMPT_WEIGHT": "sdxl_adapter.request",
    "ModelRequest": "sdxl_adapter.request",
    "SDXLRequest": "sdxl_adapter.request",
    "TextPrompt": "sdxl_adapter.request",
    "GenerationResult": "sdxl_adapter.result",
    "read_parameters": "sdxl_adapter.result",
}
__all__ = sorted(_HOMES)


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'sdxl_adapter' has no attribute {name!r}")
    home = importlib.import_module(_HOMES[name])
    value = home if name == "errors" else getattr(home, name)  # the one module exported
    globals()[name] = value
    return value
