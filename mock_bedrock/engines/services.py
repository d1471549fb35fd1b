"""The engine of Stability's Image Services: placeholders that show what the operation did,
so a test can check its own code used it rightly.

- upscale: the input enlarged to the size the contract gives (4x, or about 4 megapixels);
- outpaint: the canvas grown by the margins, the input's pixels in place, untouched;
- inpaint and erase: only the masked pixels change (the ``mask`` image's white, or where
  the profile says so the input's transparent pixels), grown by ``grow_mask``;
- search-and-replace and recolor: a region chosen by the selecting prompt changes, marked
  with that prompt; every other pixel is the input's;
- remove background: the input with an alpha channel (an elliptical subject kept);
- control and style guide: a new picture of the output size, weighted towards the input by
  the strength field; style transfer: the init image restyled towards the style image.

Which fields drive each operation is the profile's ``request.operation``; sizes are the
contract's (:meth:`ModelContract.output_size`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from typing import Any

from PIL import Image, ImageChops, ImageDraw

from bedrock_contract import ModelContract, Operation
from mock_bedrock.engines.generation import Engine, Steps
from mock_bedrock.placeholder import Step
from mock_bedrock.placeholder.text import PANEL_COLOUR, TEXT_COLOUR, draw_lines, font, tinted

# Mask pixels at or above this (luminance) are replaced; alpha below it counts as clear.
THRESHOLD = 128


def _rgb(image: Image.Image) -> Image.Image:
    return image if image.mode == "RGB" else image.convert("RGB")


def _strength(contract: ModelContract, op: Operation, body: Mapping[str, Any]) -> float:
    path = op.path("strength")
    if path is None:
        return 0.5
    return float(path.get(body, contract.field(path).get("default", 0.5)))


def _changed_pixels(
    contract: ModelContract, op: Operation, body: Mapping[str, Any], source: Image.Image,
    mask: Image.Image | None,
) -> Image.Image:
    """Mode L, 255 where the output changes: the mask's white (black where the profile's
    ``mask_marks`` says so: Titan's and Canvas's masks), else the region a mask prompt
    selects, else (where the profile allows it) the input's transparent pixels; grown by
    the grow field's pixels. Where the operation ``keeps`` the mask (Canvas's and Titan's
    outpainting: the masked subject stays, the rest is redrawn) the rest changes instead."""
    marked = (lambda v: 255 if v < THRESHOLD else 0) if op.spec.get("mask_marks") == "black" \
        else (lambda v: 255 if v >= THRESHOLD else 0)
    prompt = op.value("mask_prompt", body)
    if mask is not None:
        changed = mask.convert("L").resize(source.size).point(marked)
    elif isinstance(prompt, str):
        changed = Image.new("L", source.size, 0)
        box = _selected_region(source.size, prompt)
        ImageDraw.Draw(changed).rectangle((box[0], box[1], box[2] - 1, box[3] - 1), fill=255)
    elif op.spec.get("alpha_mask") and "A" in source.getbands():
        changed = source.getchannel("A").point(lambda a: 255 if a < THRESHOLD else 0)
    else:
        changed = Image.new("L", source.size, 0)
    grow_field = op.path("grow")
    grow = 0
    if grow_field is not None:
        grow = int(grow_field.get(body, contract.field(grow_field).get("default", 0)))
    if grow > 0 and changed.getbbox() is not None:
        changed = dilated(changed, grow)
    if op.spec.get("keeps") == "mask":
        changed = ImageChops.invert(changed)
    return changed


def dilated(mask: Image.Image, radius: int) -> Image.Image:
    """``mask`` grown by ``radius`` pixels each way (a square neighbourhood), one axis at a
    time as the lighter of shifted copies: exact, and ~15 ms a megapixel at radius 5 where
    Pillow's MaxFilter, whose cost grows with the square of its size, took ~320 ms."""
    for axis in (0, 1):
        grown = mask
        for step in range(1, radius + 1):
            for sign in (-1, 1):
                shifted = Image.new("L", mask.size, 0)
                shifted.paste(mask, (sign * step, 0) if axis == 0 else (0, sign * step))
                grown = ImageChops.lighter(grown, shifted)
        mask = grown
    return mask


def _selected_region(size: tuple[int, int], prompt: str) -> tuple[int, int, int, int]:
    """A box a third to a half of each side, placed by the selecting prompt's hash."""
    # surrogatepass: a prompt may hold a lone surrogate ("\ud800" is valid JSON), which
    # strict UTF-8 cannot encode; every other prompt hashes as its UTF-8.
    digest = hashlib.sha256(prompt.encode("utf-8", "surrogatepass")).digest()
    width, height = size
    box_w = width // 3 + digest[0] * (width // 6) // 255
    box_h = height // 3 + digest[1] * (height // 6) // 255
    left = digest[2] * (width - box_w) // 255
    top = digest[3] * (height - box_h) // 255
    return (left, top, left + box_w, top + box_h)


def _label(canvas: Image.Image, text: str, at: tuple[int, int], width: int) -> None:
    face = font(max(12, min(canvas.size) // 40))
    canvas.paste(tinted(draw_lines([text], face, max(1, width)), TEXT_COLOUR, PANEL_COLOUR),
                 at)


def _upscale(source: Image.Image, size: tuple[int, int]) -> Steps:
    return (lambda picture: _rgb(source).resize(size, Image.Resampling.BICUBIC)), None


def _outpaint(op: Operation, body: Mapping[str, Any], source: Image.Image) -> Steps:
    grow = op.margins(body)

    def keep_original(picture: Image.Image) -> Image.Image:
        picture.paste(_rgb(source), (grow["left"], grow["up"]))  # after the caption: untouched
        return picture

    return None, keep_original


def _masked(changed: Image.Image, source: Image.Image) -> Step:
    def finish(picture: Image.Image) -> Image.Image:
        # The placeholder where the mask says, the input's own pixels everywhere else.
        return Image.composite(picture, _rgb(source), changed)

    return finish


def _search(op: Operation, body: Mapping[str, Any], source: Image.Image) -> Steps:
    select = op.path("select")
    prompt = str(select.get(body, "")) if select else ""
    box = _selected_region(source.size, prompt)
    changed = Image.new("L", source.size, 0)
    ImageDraw.Draw(changed).rectangle((box[0], box[1], box[2] - 1, box[3] - 1), fill=255)
    composite = _masked(changed, source)

    def finish(picture: Image.Image) -> Image.Image:
        out = composite(picture)
        _label(out, f"{select.name if select else ''}: {prompt}", (box[0], box[1]),
               box[2] - box[0])
        return out

    return None, finish


def _remove_background(source: Image.Image) -> Steps:
    def cut_out(picture: Image.Image) -> Image.Image:
        subject = Image.new("L", source.size, 0)
        width, height = source.size
        box = (width // 8, height // 8, width - width // 8 - 1, height - height // 8 - 1)
        ImageDraw.Draw(subject).ellipse(box, fill=255)
        out = _rgb(source).convert("RGBA")
        out.putalpha(subject)
        return out

    return None, cut_out


def _blend_towards(source: Image.Image, size: tuple[int, int], weight: float) -> Steps:
    def start(picture: Image.Image) -> Image.Image:
        return Image.blend(picture, _rgb(source).resize(size), max(0.0, min(1.0, weight)))

    return start, None


def _style_transfer(contract: ModelContract, body: Mapping[str, Any],
                    images: Mapping[str, Image.Image], op: Operation) -> Steps:
    init = images[op.field("image") or ""]
    style = images[op.field("style") or ""]
    strength = _strength(contract, op, body)

    def start(picture: Image.Image) -> Image.Image:
        # Both inputs show: the init image's layout, the style image's colours by strength.
        restyled = Image.blend(_rgb(init), _rgb(style).resize(init.size), 0.5 * strength)
        return Image.blend(picture, restyled, 0.85)

    return start, None


def _palette(op: Operation, body: Mapping[str, Any], source: Image.Image | None) -> Steps:
    colours = [c for c in op.value("colors", body, []) if isinstance(c, str)]

    def start(picture: Image.Image) -> Image.Image:
        # The palette as bands across the picture, so a test sees the colours it sent; a
        # reference image, where given, shows through.
        width, height = picture.size
        draw = ImageDraw.Draw(picture)
        for i, colour in enumerate(colours):
            left, right = i * width // len(colours), (i + 1) * width // len(colours)
            draw.rectangle((left, 0, right - 1, height - 1), fill=_hex_colour(colour))
        if source is not None:
            picture = Image.blend(picture, _rgb(source).resize(picture.size), 0.3)
        return picture

    return start, None


def _hex_colour(text: str) -> tuple[int, int, int]:
    digits = text.lstrip("#")
    try:
        value = int(digits, 16) if len(digits) == 6 else 0
    except ValueError:
        value = 0
    return (value >> 16, (value >> 8) & 255, value & 255)


def _try_on_label(op: Operation, body: Mapping[str, Any]) -> str:
    # What selects the region dressed: the garment's class, else the mask type.
    return str(op.value("label", body) or op.value("mask_type", body) or "")


def _try_on(op: Operation, body: Mapping[str, Any], source: Image.Image,
            garment: Image.Image | None) -> Steps:
    label = _try_on_label(op, body)
    box = _selected_region(source.size, label)

    def finish(picture: Image.Image) -> Image.Image:
        # The person's photo, the garment pasted into the region its class selects, named.
        out = _rgb(source).copy()
        if garment is not None:
            out.paste(_rgb(garment).resize((box[2] - box[0], box[3] - box[1])), box[:2])
        _label(out, label, (box[0], box[1]), box[2] - box[0])
        return out

    return None, finish


def operation_steps(
    contract: ModelContract, body: Mapping[str, Any], images: Mapping[str, Image.Image]
) -> Steps:
    """The engine's steps around the placeholder's caption, for the operation the profile
    gives the body (a model of several tasks: the body's task's)."""
    op = contract.operation_for(body)
    if op is None:
        return None, None
    if op.kind == "palette":
        return _palette(op, body, images.get(op.field("image") or ""))
    if op.kind == "style_transfer":
        return _style_transfer(contract, body, images, op)
    source = images.get(op.field("image") or "image")
    if source is None:
        return None, None
    size = contract.output_size(body, images)
    kinds: dict[str, Callable[[], Steps]] = {
        "upscale": lambda: _upscale(source, size),
        "outpaint": lambda: _outpaint(op, body, source),
        "inpaint": lambda: (None, _masked(
            _changed_pixels(contract, op, body, source, images.get(op.field("mask") or "")),
            source)),
        "search": lambda: _search(op, body, source),
        "remove_background": lambda: _remove_background(source),
        "try_on": lambda: _try_on(op, body, source, images.get(op.field("garment") or "")),
        "control": lambda: _blend_towards(source, size, _strength(contract, op, body)),
        "style_guide": lambda: _blend_towards(source, size, _strength(contract, op, body)),
    }
    return kinds[op.kind]()


def returned_mask(
    contract: ModelContract, body: Mapping[str, Any], images: Mapping[str, Image.Image]
) -> Image.Image | None:
    """The mask a virtual try-on used (the region its placeholder dressed), as the answer
    returns it: that region in the colour the task's masks mark an edit with (the
    operation's ``mask_marks``: Canvas's black), the rest in the other. None for another
    operation: only the try-on returns its mask."""
    op = contract.operation_for(body)
    if op is None or op.kind != "try_on":
        return None
    source = images.get(op.field("image") or "")
    if source is None:
        return None
    changed = Image.new("L", source.size, 0)
    box = _selected_region(source.size, _try_on_label(op, body))
    ImageDraw.Draw(changed).rectangle((box[0], box[1], box[2] - 1, box[3] - 1), fill=255)
    return ImageChops.invert(changed) if op.spec.get("mask_marks") == "black" else changed


class ServicesEngine(Engine):
    def steps(
        self, contract: ModelContract, body: Mapping[str, Any], images: Mapping[str, Image.Image]
    ) -> Steps:
        return operation_steps(contract, body, images)

    def returned_mask(
        self, contract: ModelContract, body: Mapping[str, Any], images: Mapping[str, Image.Image]
    ) -> Image.Image | None:
        return returned_mask(contract, body, images)
