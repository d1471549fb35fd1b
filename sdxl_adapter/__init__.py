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
"""

from sdxl_adapter import errors
from sdxl_adapter.client import DEFAULT_MODEL_ID, BedrockImageClient, SDXLClient
from sdxl_adapter.errors import (
    BedrockError,
    ClientConfigError,
    ConnectionFailed,
    ContentFiltered,
    ContractDrift,
    CredentialsMissing,
    GenerationFailed,
    InvalidRequest,
    ModelEndOfLife,
    SDXLError,
)
from sdxl_adapter.migrate import Migration, migrate
from sdxl_adapter.models import UnknownModel
from sdxl_adapter.pngtext import read_png_text
from sdxl_adapter.request import NEGATIVE_PROMPT_WEIGHT, ModelRequest, SDXLRequest, TextPrompt
from sdxl_adapter.result import GenerationResult, read_parameters

__all__ = [
    "DEFAULT_MODEL_ID",
    "NEGATIVE_PROMPT_WEIGHT",
    "BedrockError",
    "BedrockImageClient",
    "ClientConfigError",
    "ConnectionFailed",
    "ContentFiltered",
    "ContractDrift",
    "CredentialsMissing",
    "GenerationFailed",
    "GenerationResult",
    "InvalidRequest",
    "Migration",
    "ModelEndOfLife",
    "ModelRequest",
    "SDXLClient",
    "SDXLError",
    "SDXLRequest",
    "TextPrompt",
    "UnknownModel",
    "errors",
    "migrate",
    "read_parameters",
    "read_png_text",
]
