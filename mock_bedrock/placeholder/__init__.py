"""Deterministic placeholder PNGs: what the mock answers instead of a diffusion model.

``render_png`` draws a picture whose colours and layout come from the seed, prompts and
style, captions it with what was asked, starts from the init image and honours the mask when
the request has them, and stores the request's parameters in the PNG, where
``read_parameters`` finds them. Same inputs, same bytes, in every process.
"""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from PIL import Image, ImageFilter, UnidentifiedImageError

from bedrock_contract.sizes import size_of
from mock_bedrock.canonical import canonical_json
from mock_bedrock.placeholder import edit as edit
from mock_bedrock.placeholder.params import (
    IMAGE_FIELDS,
    describe,
    prompt_weight_default,
)
from mock_bedrock.placeholder.png import encode_png, encode_rows, runs_of
from mock_bedrock.placeholder.scene import Bands, HashStream, background
from mock_bedrock.placeholder.text import Caption, caption, clear_text_cache

__all__ = ["PARAMETERS_KEY", "clear_cache", "read_parameters", "render_png"]

PARAMETERS_KEY = "sdxl-mock"
NO_IMAGES: Mapping[str, Image.Image] = MappingProxyType({})


def clear_cache() -> None:
    """Forget every cached piece of a picture (drawn text, caption panels), so the next
    render draws from scratch: for tests of determinism and cold measurements."""
    clear_text_cache()


def _decoded_images(
    body: Mapping[str, Any], images: Mapping[str, Image.Image]
) -> dict[str, Image.Image]:
    # The engine hands over the images check_request decoded; a caller that passed only the
    # body gets them decoded here.
    found = dict(images)
    for name in IMAGE_FIELDS:
        if name not in found and isinstance(body.get(name), str):
            found[name] = Image.open(io.BytesIO(base64.b64decode(body[name])))
    return found


def _caption(params: Mapping[str, Any]) -> Caption:
    return caption(
        tuple((p["text"], p["weight"]) for p in params["prompts"]),
        params.get("style_preset"),
        params["model_id"],
        params["seed"],
        (params["size"][0], params["size"][1]),
        prompt_weight_default(),
    )


def _background(params: Mapping[str, Any]) -> Bands:
    rng = HashStream(params["seed"], canonical_json(params["prompts"]), params.get("style_preset"))
    return background((params["size"][0], params["size"][1]), params.get("style_preset"), rng)


def _text_to_image_png(params: Mapping[str, Any], text: dict[str, str]) -> bytes:
    """The common case, drawn as rows: only the caption's rows become an image; the bands
    above and below go to the PNG writer as runs of repeated rows."""
    bands, label = _background(params), _caption(params)
    runs = [
        *bands.runs(0, label.top),
        *runs_of(label.drawn_over(bands.rows_between(label.top, label.bottom))),
        *bands.runs(label.bottom, bands.size[1]),
    ]
    return encode_rows(bands.size, runs, text)


def render_image(
    params: Mapping[str, Any], body: Mapping[str, Any], images: Mapping[str, Image.Image]
) -> Image.Image:
    """The whole picture as an image: background, init image, caption, mask, blur."""
    bands, label = _background(params), _caption(params)
    picture = bands.image()
    init = images.get("init_image")
    if init is not None:
        picture = edit.start_from_init(picture, body, init)
    label.draw(picture, label.top)
    if init is not None:
        replace = edit.replaced_pixels(body, init, images.get("mask_image"))
        if replace is not None:
            picture = edit.apply_mask(picture, init, replace)
    if params["blurred"]:
        picture = picture.filter(ImageFilter.GaussianBlur(radius=max(picture.size) / 40))
    return picture


def render_png(
    body: Mapping[str, Any],
    *,
    seed: int,
    model_id: str,
    images: Mapping[str, Image.Image] = NO_IMAGES,
    blurred: bool = False,
) -> bytes:
    """A placeholder PNG for a request ``body`` that passed ``bedrock_contract.check_request``.

    ``seed`` is the seed actually used, ``images`` the decoded ``init_image`` and
    ``mask_image`` (decoded from the body when absent), ``blurred`` asks for the blurred
    image a CONTENT_FILTERED answer carries.
    """
    decoded = _decoded_images(body, images)
    init = decoded.get("init_image")
    size = init.size if init is not None else size_of(body)
    params = describe(
        body, seed=seed, model_id=model_id, size=size, images=decoded, blurred=blurred
    )
    text = {PARAMETERS_KEY: canonical_json(params)}
    if init is None and not blurred:
        png = _text_to_image_png(params, text)
    else:
        png = encode_png(render_image(params, body, decoded), text)
    return png


def read_parameters(png: bytes) -> dict[str, Any]:
    """The parameters a placeholder PNG carries; ValueError for any other data."""
    try:
        image = Image.open(io.BytesIO(png))
    except (UnidentifiedImageError, OSError) as err:
        raise ValueError(f"not a PNG image ({err})") from err
    text = image.info.get(PARAMETERS_KEY) if image.format == "PNG" else None
    if not isinstance(text, str):
        raise ValueError(
            f"not a mock Bedrock placeholder: the image has no {PARAMETERS_KEY!r} text chunk"
        )
    try:
        params: dict[str, Any] = json.loads(text)
    except ValueError as err:
        raise ValueError(f"the {PARAMETERS_KEY!r} text chunk is not JSON ({err})") from err
    return params
