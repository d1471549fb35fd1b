"""The one call every latency and throughput figure is made of."""

from __future__ import annotations

from typing import Any

from bench.bodies import Request


def invoke(client: Any, request: Request) -> bytes:
    """``invoke_model`` with the body read to the end, as a caller must to use it."""
    response = client.invoke_model(
        modelId=request.model_id, body=request.body,
        contentType="application/json", accept="application/json",
    )
    data: bytes = response["body"].read()
    return data
