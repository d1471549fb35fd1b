"""The project's pieces under measurement, each imported only when its row runs, so a
module another helper has not landed yet turns into a "not available" row."""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from types import ModuleType
from typing import Any

from PIL import Image

from bedrock_contract import ModelContract
from bench import clients
from bench.bodies import SDXL_ID
from bench.timing import NotAvailable

# ``render(body, seed)``: one placeholder image, as the engine draws it for a request.
Render = Callable[[dict[str, Any], int], bytes]


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


def _first_renders(draw: Callable[..., bytes], model_id: str,
                   images: Mapping[str, Image.Image] | None = None) -> Render:
    """``draw`` as a first request meets it. The placeholder keeps no whole-picture cache
    (the engine caches finished answers), and the bench varies seed and prompt on every
    call; what stays warm is what a new request shares with earlier ones in the process
    (fonts, words already drawn, PNG pieces). ``images`` are the body's input images,
    decoded (as ``check_request`` hands them on)."""
    inputs = images or {}

    def render(body: dict[str, Any], seed: int) -> bytes:
        image: bytes = draw(body, seed=seed, model_id=model_id, images=inputs, blurred=False)
        return image

    return render


def uncached_sdxl_render() -> Render:
    """SDXL's placeholder PNG through the SDXL engine's renderer (the generic one plus
    SDXL's init-image steps, which a text-to-image body skips)."""
    _module("mock_bedrock.placeholder")
    sdxl = _module("mock_bedrock.engines.sdxl")
    return _first_renders(sdxl.render_png, SDXL_ID)


def uncached_render(contract: ModelContract, model_id: str) -> Render:
    """``contract``'s placeholder through the generic renderer (the one the Stability
    engine draws with), in the format and at the size the body asks for."""
    placeholder = _module("mock_bedrock.placeholder")
    return _first_renders(functools.partial(placeholder.render, contract), model_id)


def uncached_services_render(contract: ModelContract, model_id: str,
                             images: Mapping[str, Image.Image]) -> Render:
    """An Image Service's placeholder through ``ServicesEngine.draw``: the operation's
    steps (upscale, mask) around the generic renderer, for a body whose input ``images``
    were decoded once by the caller. ``draw`` is below the engine's response cache, so
    no call is answered from it."""
    services = _module("mock_bedrock.engines.services")
    return _first_renders(functools.partial(services.ServicesEngine().draw, contract),
                          model_id, images)
