"""The boto3 client every contender is called through, configured the same way for all."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

REGION = "us-east-1"

# One attempt: a failed call must show up as a failure, not as a slow retried sample.
_CONFIG = Config(region_name=REGION, retries={"total_max_attempts": 1, "mode": "standard"})


def bedrock_runtime(endpoint_url: str | None = None, config: Config | None = None) -> Any:
    """A real bedrock-runtime client with fake credentials (no credential lookup, which
    could otherwise reach instance metadata); ``config`` adds to the one-attempt config
    (timeouts, say). With no ``endpoint_url``, boto3 finds it as a user's client would
    (``AWS_ENDPOINT_URL_BEDROCK_RUNTIME``)."""
    return boto3.session.Session().client(
        "bedrock-runtime",
        endpoint_url=endpoint_url,
        aws_access_key_id="bench",
        aws_secret_access_key="bench",
        config=_CONFIG.merge(config) if config is not None else _CONFIG,
    )
