"""The project's pieces under measurement, each imported only when its row runs, so a
module another helper has not landed yet turns into a "not available" row."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any

from bench import clients
from bench.bodies import MODEL_ID
from bench.timing import NotAvailable


def _module(name: str) -> ModuleType:
    try:
        return importlib.import_module(name)
    except ImportError as err:
        raise NotAvailable(f"{name} not importable ({err})") from err


@contextmanager
def inprocess_mock() -> Iterator[tuple[Any, Any]]:
    """``(client, handle)``: a bedrock-runtime client answered by the in-process mock, and
    the mock's handle (its journal)."""
    inprocess = _module("mock_bedrock.doors.inprocess")
    with inprocess.mock_sdxl() as handle:
        client = clients.bedrock_runtime()
        try:
            yield client, handle
        finally:
            client.close()


@contextmanager
def inprocess_client() -> Iterator[Any]:
    with inprocess_mock() as (client, _):
        yield client


@contextmanager
def mock_server() -> Iterator[Any]:
    """The server mock on an ephemeral 127.0.0.1 port; yields the running server."""
    server_module = _module("mock_bedrock.doors.server")
    with server_module.MockServer(host="127.0.0.1", port=0) as server:
        yield server


def uncached_render() -> Callable[[dict[str, Any], int], bytes]:
    """``render(body, seed)``: the placeholder PNG as a first request would get it. The
    placeholder keeps no whole-picture cache (the engine caches finished answers), and the
    bench varies seed and prompt on every call; what stays warm is what a new request shares
    with earlier ones in the process (fonts, words already drawn, PNG pieces)."""
    placeholder = _module("mock_bedrock.placeholder")
    render_png = placeholder.render_png

    def render(body: dict[str, Any], seed: int) -> bytes:
        png: bytes = render_png(body, seed=seed, model_id=MODEL_ID, images={}, blurred=False)
        return png

    return render
