"""Client side of SDXL 1.0 on Amazon Bedrock: requests checked against the contract before
they leave the machine, calls through boto3, responses checked and decoded.

    from sdxl_adapter import SDXLClient, SDXLRequest

    with SDXLClient("mock") as client:          # or "aws", or "http://127.0.0.1:8787"
        result = client.generate(SDXLRequest(prompt="a lighthouse", seed=7))
        result.save("lighthouse.png")
"""

from sdxl_adapter import errors
from sdxl_adapter.client import DEFAULT_MODEL_ID, SDXLClient
from sdxl_adapter.errors import (
    BedrockError,
    ClientConfigError,
    ConnectionFailed,
    ContentFiltered,
    ContractDrift,
    CredentialsMissing,
    GenerationFailed,
    InvalidRequest,
    SDXLError,
)
from sdxl_adapter.pngtext import read_png_text
from sdxl_adapter.request import NEGATIVE_PROMPT_WEIGHT, SDXLRequest, TextPrompt
from sdxl_adapter.result import GenerationResult, read_parameters

__all__ = [
    "DEFAULT_MODEL_ID",
    "NEGATIVE_PROMPT_WEIGHT",
    "BedrockError",
    "ClientConfigError",
    "ConnectionFailed",
    "ContentFiltered",
    "ContractDrift",
    "CredentialsMissing",
    "GenerationFailed",
    "GenerationResult",
    "InvalidRequest",
    "SDXLClient",
    "SDXLError",
    "SDXLRequest",
    "TextPrompt",
    "errors",
    "read_parameters",
    "read_png_text",
]
