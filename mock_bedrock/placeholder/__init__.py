"""Deterministic placeholder images: what the mock answers instead of a diffusion model.

:func:`render` draws a picture whose colours and layout come from the seed, prompts and
style, captions it with what was asked, lets the engine start it from an input image or
finish it (a mask, say), and encodes it in the requested format with the request's
parameters embedded, where :func:`read_parameters` finds them. Same inputs, same bytes, in
every process.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from PIL import Image, ImageFilter

from bedrock_contract import ModelContract
from bedrock_contract.canonical import canonical_json
from mock_bedrock.placeholder.formats import PARAMETERS_KEY, encode, read_parameters
from mock_bedrock.placeholder.params import describe
from mock_bedrock.placeholder.png import encode_rows, runs_of
from mock_bedrock.placeholder.scene import Bands, HashStream, background
from mock_bedrock.placeholder.text import Caption, caption, clear_text_cache

__all__ = ["NO_IMAGES", "PARAMETERS_KEY", "Step", "clear_cache", "read_parameters", "render"]

NO_IMAGES: Mapping[str, Image.Image] = MappingProxyType({})
# An engine's own step on the picture: before the caption is drawn, or after.
Step = Callable[[Image.Image], Image.Image]


@dataclass(frozen=True)
class Look:
    """What besides the parameters shapes the picture: the style (palette) and the prompt
    weight a prompt without one has (the caption marks negative prompts)."""

    style: str | None
    default_weight: float


def clear_cache() -> None:
    """Forget every cached piece of a picture (drawn text, caption panels), so the next
    render draws from scratch: for tests of determinism and cold measurements."""
    clear_text_cache()


def _caption(params: Mapping[str, Any], look: Look) -> Caption:
    return caption(
        tuple((p["text"], p["weight"]) for p in params["prompts"]),
        look.style,
        params["model_id"],
        params["seed"],
        (params["size"][0], params["size"][1]),
        look.default_weight,
    )


def _background(params: Mapping[str, Any], look: Look) -> Bands:
    rng = HashStream(params["seed"], canonical_json(params["prompts"]), look.style)
    return background((params["size"][0], params["size"][1]), look.style, rng)


def _rows_png(params: Mapping[str, Any], look: Look, text: str) -> bytes:
    """The common case, drawn as rows: only the caption's rows become an image; the bands
    above and below go to the PNG writer as runs of repeated rows."""
    bands, label = _background(params, look), _caption(params, look)
    runs = [
        *bands.runs(0, label.top),
        *runs_of(label.drawn_over(bands.rows_between(label.top, label.bottom))),
        *bands.runs(label.bottom, bands.size[1]),
    ]
    return encode_rows(bands.size, runs, {PARAMETERS_KEY: text})


def picture(
    params: Mapping[str, Any],
    look: Look,
    *,
    start: Step | None = None,
    finish: Step | None = None,
) -> Image.Image:
    """The whole picture as an image: background, ``start``, caption, ``finish``, blur."""
    bands, label = _background(params, look), _caption(params, look)
    image = bands.image()
    if start is not None:
        image = start(image)
    label.draw(image, label.top)
    if finish is not None:
        image = finish(image)
    if params["blurred"]:
        image = image.filter(ImageFilter.GaussianBlur(radius=max(image.size) / 40))
    return image


def render(
    contract: ModelContract,
    body: Mapping[str, Any],
    *,
    seed: int,
    model_id: str,
    images: Mapping[str, Image.Image] = NO_IMAGES,
    blurred: bool = False,
    start: Step | None = None,
    finish: Step | None = None,
) -> bytes:
    """A placeholder for a request ``body`` that passed ``check_request``, at the size and in
    the format the contract gives for it. ``seed`` is the seed actually used, ``images`` the
    decoded input images, ``blurred`` asks for the blurred image a filtered answer carries.
    """
    size = contract.output_size(body, images)
    params = describe(
        contract, body, seed=seed, model_id=model_id, size=size, images=images, blurred=blurred
    )
    style = contract.style_field.get(body) if contract.style_field else None
    look = Look(style, contract.prompts.weight_default)
    output_format = contract.output_format(body)
    text = canonical_json(params)
    if start is None and finish is None and not blurred and output_format == "png":
        return _rows_png(params, look, text)
    return encode(picture(params, look, start=start, finish=finish), output_format, text)
