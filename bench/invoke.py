"""The one call every latency and throughput figure is made of."""

from __future__ import annotations

from typing import Any

from bench.bodies import MODEL_ID


def invoke(client: Any, body: bytes) -> bytes:
    """``invoke_model`` with the body read to the end, as a caller must to use it."""
    response = client.invoke_model(
        modelId=MODEL_ID, body=body, contentType="application/json", accept="application/json"
    )
    data: bytes = response["body"].read()
    return data
