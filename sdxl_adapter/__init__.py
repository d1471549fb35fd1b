"""Client side of Stability's image models on Amazon Bedrock (SDXL 1.0, SD3.5 Large,
Stable Image Core and Ultra): requests checked against each model's contract before they
leave the machine, calls through boto3, responses checked and decoded.

    from sdxl_adapter import BedrockImageClient, ModelRequest, SDXLRequest

    with BedrockImageClient("mock") as client:     # or "aws", or "http://127.0.0.1:8787"
        result = client.generate(ModelRequest("stability.stable-image-core-v1:1",
                                              prompt="a lighthouse", output_format="jpeg"))
        result.save("lighthouse.jpg")
        old = client.generate(SDXLRequest(prompt="a lighthouse", seed=7))   # SDXL 1.0

An input image outside a model's limits is refused; :func:`sdxl_adapter.fit.fit_image`
fits it (and says what it did) when asked.

An SDXL body moves to a live model with :func:`sdxl_adapter.migration.migrate`.

Names are imported on first use (PEP 562): the contract plugin loads with this package in
every test run of a project that has it installed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bedrock_contract.lazy import export

if TYPE_CHECKING:  # the names below, for type checkers (re-exported, hence "as")
    from bedrock_contract.version import __version__ as __version__
    from sdxl_adapter import errors as errors
    from sdxl_adapter.client import (
        DEFAULT_MODEL_ID as DEFAULT_MODEL_ID,
        BedrockImageClient as BedrockImageClient,
        SDXLClient as SDXLClient,
    )
    from sdxl_adapter.errors import (
        BedrockError as BedrockError,
        BedrockImageError as BedrockImageError,
        ClientConfigError as ClientConfigError,
        ConnectionFailed as ConnectionFailed,
        ContentFiltered as ContentFiltered,
        ContractDrift as ContractDrift,
        CredentialsMissing as CredentialsMissing,
        GenerationFailed as GenerationFailed,
        InvalidRequest as InvalidRequest,
        ModelEndOfLife as ModelEndOfLife,
        OnDemandUnsupported as OnDemandUnsupported,
        SDXLError as SDXLError,
    )
    from sdxl_adapter.fit import (
        FitError as FitError,
        Fitted as Fitted,
        fit_image as fit_image,
    )
    from sdxl_adapter.migration import (
        Migration as Migration,
        migrate as migrate,
    )
    from sdxl_adapter.models import UnknownModel as UnknownModel
    from sdxl_adapter.pngtext import read_png_text as read_png_text
    from sdxl_adapter.request import (
        NEGATIVE_PROMPT_WEIGHT as NEGATIVE_PROMPT_WEIGHT,
        ModelRequest as ModelRequest,
        SDXLRequest as SDXLRequest,
        TextPrompt as TextPrompt,
    )
    from sdxl_adapter.result import (
        GenerationResult as GenerationResult,
        read_parameters as read_parameters,
    )

_HOMES = {
    "__version__": "bedrock_contract.version",
    "errors": "sdxl_adapter.errors",
    "DEFAULT_MODEL_ID": "sdxl_adapter.client",
    "BedrockImageClient": "sdxl_adapter.client",
    "SDXLClient": "sdxl_adapter.client",
    "BedrockError": "sdxl_adapter.errors",
    "BedrockImageError": "sdxl_adapter.errors",
    "ClientConfigError": "sdxl_adapter.errors",
    "ConnectionFailed": "sdxl_adapter.errors",
    "ContentFiltered": "sdxl_adapter.errors",
    "ContractDrift": "sdxl_adapter.errors",
    "CredentialsMissing": "sdxl_adapter.errors",
    "GenerationFailed": "sdxl_adapter.errors",
    "InvalidRequest": "sdxl_adapter.errors",
    "ModelEndOfLife": "sdxl_adapter.errors",
    "OnDemandUnsupported": "sdxl_adapter.errors",
    "SDXLError": "sdxl_adapter.errors",  # BedrockImageError's first name
    "FitError": "sdxl_adapter.fit",
    "Fitted": "sdxl_adapter.fit",
    "fit_image": "sdxl_adapter.fit",
    "Migration": "sdxl_adapter.migration",
    "migrate": "sdxl_adapter.migration",
    "UnknownModel": "sdxl_adapter.models",
    "read_png_text": "sdxl_adapter.pngtext",
    "NEGATIVE_PROMPT_WEIGHT": "sdxl_adapter.request",
    "ModelRequest": "sdxl_adapter.request",
    "SDXLRequest": "sdxl_adapter.request",
    "TextPrompt": "sdxl_adapter.request",
    "GenerationResult": "sdxl_adapter.result",
    "read_parameters": "sdxl_adapter.result",
}
__all__ = sorted(name for name in _HOMES if not name.startswith("__"))


def __getattr__(name: str) -> Any:
    return export(__name__, _HOMES, name, modules=("errors",))
