"""Fit an input image to a model's limits: the helper a person asks for, never applied
unasked.

Every limit is the field's :class:`~bedrock_contract.contract.ImageRule` (its formats, sides,
pixel counts and aspect ratios), read from the model's contract, and the pixels the
contract decodes whole (:data:`bedrock_contract.images.MAX_DECODED_PIXELS`). An
image that already fits is returned byte for byte. Otherwise, in this order:

- an aspect ratio outside the rule's range is padded, centred, to the nearest allowed
  ratio; the new border repeats the image's edge pixels (so no colour is invented, and a
  mask's border keeps its edge's meaning);
- an image above the largest side or pixel count is downsized, and one below the smallest
  upsized, keeping its shape (Lanczos);
- the result keeps the input's format where the model takes it, else becomes PNG.

Each change is said in a note: ``resized 4000x3000 -> 3547x2660 to fit 9,437,184 pixels``.

    fitted = fit_image(contract_for("stability.stable-image-inpaint-v1:0"), "image",
                       Path("photo.jpg"))
    for note in fitted.notes:
        print(note)
    ModelRequest(model_id, prompt="a red door", image=fitted.data)
"""

from __future__ import annotations

import base64
import dataclasses
import io
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from PIL import Image, UnidentifiedImageError

from bedrock_contract import ModelContract, Size, format_size, images as contract_images
from bedrock_contract.images import (
    decode_image,
    decoding_problem,
    file_format,
    has_alpha,
    without_png_text,
)
from bedrock_contract.request_fields import ImageRule
from sdxl_adapter.errors import BedrockImageError
from sdxl_adapter.images import ImageInput, image_bytes

# The format an image becomes when the model does not take its own (the first of the
# rule's formats if it does not take this one either).
FALLBACK_FORMAT = "PNG"
# Modes Pillow resamples and every output format stores as they are; others are
# converted first (to RGBA when the image has transparency, else RGB).
_RESAMPLED_MODES = ("L", "LA", "RGB", "RGBA")
_SAVE_OPTIONS = {"JPEG": {"quality": 95}, "WEBP": {"quality": 95}}


class FitError(BedrockImageError, ValueError):
    """The image cannot be fitted: not an image Pillow reads, too large to decode safely,
    or limits no resize or pad can meet."""


@dataclass(frozen=True)
class Fitted:
    """A fitted image: its encoded bytes, its size, and what was done (empty: nothing,
    ``data`` is the input's bytes)."""

    data: bytes
    size: Size
    notes: list[str]

    @property
    def changed(self) -> bool:
        return bool(self.notes)


@dataclass(frozen=True)
class _Plan:
    """What fitting does to an image of a given size and format."""

    padded: Size
    resized: Size
    limit: str  # the limit the resize meets, for its note
    pad_limit: str
    output_format: str


def fit_image(contract: ModelContract, field: str, image: ImageInput) -> Fitted:
    """``image`` fitted to the limits of ``contract``'s image field ``field``."""
    rule = _fit_rule(contract, field)
    data = image_bytes(image)
    opened = _open(data)
    problems = _violations(contract, field, data)
    if not problems:
        return Fitted(data, opened.size, [])
    fmt = file_format(opened)
    plan = _plan(opened.size, fmt, rule)
    notes = _notes(opened.size, fmt, plan, rule)
    if not notes:
        # What the contract refuses is nothing a resize or pad mends (a size that must be
        # one of a list, a corrupt file): say the contract's own words.
        raise FitError(f"cannot fit {field}: {'; '.join(problems)}")
    fitted = _encode(_apply(opened, plan), plan.output_format, opened)
    problems = _violations(contract, field, fitted)
    if problems:
        raise FitError(f"cannot fit {field}: {'; '.join(problems)}")
    return Fitted(fitted, plan.resized, notes)


def needs_fit(contract: ModelContract, field: str, image: ImageInput) -> bool:
    """Whether the contract refuses ``image`` for ``field`` and :func:`fit_image` would
    mend it (without resampling a pixel)."""
    try:
        data = image_bytes(image)
        if not _violations(contract, field, data):
            return False
        opened = _open(data)
    except (FitError, OSError):
        return False
    rule, fmt = _fit_rule(contract, field), file_format(opened)
    plan = _plan(opened.size, fmt, rule)
    return bool(_notes(opened.size, fmt, plan, rule)) and not _breaks(plan.resized, rule)


def unfitted(contract: ModelContract, body: Mapping[str, Any]) -> list[str]:
    """The image fields of a request body (base64, as sent) that the contract refuses and
    :func:`fit_image` would mend: what to suggest it for after a refusal."""
    found = []
    for name, value in contract.body_images(body):
        try:
            data = base64.b64decode(value, validate=True)
        except ValueError:  # binascii.Error: not base64, nothing to fit
            continue
        if needs_fit(contract, name, data):
            found.append(name)
    return found


def _violations(contract: ModelContract, field: str, data: bytes) -> list[str]:
    encoded = base64.b64encode(data).decode("ascii")
    _, problems = decode_image(field, encoded, contract.image_rule(field), contract)
    return [p.text for p in problems]


def _fit_rule(contract: ModelContract, field: str) -> ImageRule:
    """The field's rule, its pixels bounded by what the contract decodes at full size (a
    fitted image must be one the mock decodes, whatever its format)."""
    rule, bound = contract.image_rule(field), contract_images.MAX_DECODED_PIXELS
    return dataclasses.replace(rule, max_pixels=min(rule.max_pixels or bound, bound))


def _open(data: bytes) -> Image.Image:
    """The image, opened (not decoded); FitError for what the contract would not decode at
    any size (a JPEG of too many scans, a PNG of too many chunks) or Pillow cannot read."""
    costly = decoding_problem(data)
    if costly is not None:
        raise FitError(f"the image cannot be fitted: it {costly}")
    try:
        return Image.open(io.BytesIO(without_png_text(data)))  # text chunks are not kept
    except Image.DecompressionBombError as err:  # the guard stays on
        raise FitError(f"the image is too large to decode safely ({err})") from err
    except (UnidentifiedImageError, OSError) as err:
        raise FitError("not an image Pillow can read") from err


# --- the sizes: pure arithmetic on the rule ------------------------------------------------


def _aspect_bounds(rule: ImageRule) -> tuple[float, float]:
    """The aspect ratios (width / height) an image can have and still meet every limit
    after a resize: the rule's own, narrowed by what its sides and pixel counts allow."""
    low, high = rule.min_aspect or 0.0, rule.max_aspect or math.inf
    if rule.min_side and rule.max_side:
        widest = rule.max_side / rule.min_side
        low, high = max(low, 1 / widest), min(high, widest)
    if rule.min_side and rule.max_pixels:
        narrowest = rule.min_side**2 / rule.max_pixels
        low, high = max(low, narrowest), min(high, 1 / narrowest)
    if rule.max_side and rule.min_pixels:
        widest = rule.max_side**2 / rule.min_pixels
        low, high = max(low, 1 / widest), min(high, widest)
    return low, high


def _breaks(size: Size, rule: ImageRule) -> bool:
    width, height = size
    pixels, aspect = width * height, width / height
    return any((
        rule.min_side is not None and min(size) < rule.min_side,
        rule.max_side is not None and max(size) > rule.max_side,
        rule.min_pixels is not None and pixels < rule.min_pixels,
        rule.max_pixels is not None and pixels > rule.max_pixels,
        rule.min_aspect is not None and aspect < rule.min_aspect,
        rule.max_aspect is not None and aspect > rule.max_aspect,
    ))


def _padded(size: Size, rule: ImageRule) -> tuple[Size, str]:
    """The canvas that brings ``size`` to the nearest allowed aspect ratio, and why."""
    width, height = size
    low, high = _aspect_bounds(rule)
    if width / height < low:
        width = math.ceil(height * low)
        while width / height < low:
            width += 1
        return (width, height), f"an aspect ratio of at least {_ratio(low)}"
    if width / height > high:
        height = math.ceil(width / high)
        while width / height > high:
            height += 1
        return (width, height), f"an aspect ratio of at most {_ratio(high)}"
    return size, ""


def _resized(size: Size, rule: ImageRule) -> tuple[Size, str]:
    """``size`` scaled, keeping its shape, into the rule's sides and pixel counts."""
    width, height = size
    pixels = width * height
    down = [(math.sqrt(rule.max_pixels / pixels), f"{rule.max_pixels:,} pixels")
            if rule.max_pixels else None,
            (rule.max_side / max(size), f"{rule.max_side:,} px a side")
            if rule.max_side else None]
    up = [(math.sqrt(rule.min_pixels / pixels), f"at least {rule.min_pixels:,} pixels")
          if rule.min_pixels else None,
          (rule.min_side / min(size), f"at least {rule.min_side:,} px a side")
          if rule.min_side else None]
    shrink = min((d for d in down if d), default=(1.0, ""))
    grow = max((u for u in up if u), default=(1.0, ""))
    if shrink[0] < 1:
        scaled = (max(1, math.floor(width * shrink[0])), max(1, math.floor(height * shrink[0])))
        return _nudged(scaled, rule, shrinking=True), shrink[1]
    if grow[0] > 1:
        scaled = (math.ceil(width * grow[0]), math.ceil(height * grow[0]))
        return _nudged(scaled, rule, shrinking=False), grow[1]
    return size, ""


def _nudged(size: Size, rule: ImageRule, *, shrinking: bool) -> Size:
    # Rounding a scaled size may tip its aspect ratio just past a bound the padding met
    # exactly; trimming (or growing) the other side a pixel brings it back.
    width, height = size
    for _ in range(max(size)):
        if rule.min_aspect is not None and width / height < rule.min_aspect:
            height, width = (height - 1, width) if shrinking else (height, width + 1)
        elif rule.max_aspect is not None and width / height > rule.max_aspect:
            height, width = (height, width - 1) if shrinking else (height + 1, width)
        else:
            break
    return width, height


def _plan(size: Size, fmt: str, rule: ImageRule) -> _Plan:
    padded, pad_limit = _padded(size, rule)
    resized, limit = _resized(padded, rule)
    formats = rule.formats
    output = fmt if fmt in formats else (FALLBACK_FORMAT if FALLBACK_FORMAT in formats
                                         else formats[0])
    return _Plan(padded, resized, limit, pad_limit, output)


def _pixels(size: Size) -> int:
    return size[0] * size[1]


def _ratio(aspect: float) -> str:
    return f"{aspect:g}:1"


def _notes(size: Size, fmt: str, plan: _Plan, rule: ImageRule) -> list[str]:
    notes = []
    if plan.padded != size:
        notes.append(f"padded {format_size(size)} -> {format_size(plan.padded)} to "
                     f"{plan.pad_limit} (width / height), repeating its edge pixels")
    if plan.resized != plan.padded:
        verb = "fit" if _pixels(plan.resized) < _pixels(plan.padded) else "reach"
        notes.append(f"resized {format_size(plan.padded)} -> {format_size(plan.resized)} to "
                     f"{verb} {plan.limit}")
    if plan.output_format != fmt:
        notes.append(f"converted {fmt or 'the image'} to {plan.output_format} (the model "
                     f"takes {', '.join(rule.formats)})")
    return notes


# --- the pixels ----------------------------------------------------------------------------


def _apply(image: Image.Image, plan: _Plan) -> Image.Image:
    """The planned pad and resize, done as resize then pad: the same pixels as padding
    first, without ever holding the padded full-size canvas."""
    if plan.padded == image.size and plan.resized == image.size:
        return image
    (width, height), (padded_w, padded_h) = image.size, plan.padded
    content = (
        min(plan.resized[0], max(1, round(width * plan.resized[0] / padded_w))),
        min(plan.resized[1], max(1, round(height * plan.resized[1] / padded_h))),
    )
    if content[0] < width and content[1] < height:
        # A JPEG shrunk is decoded at a reduced scale (1/2 to 1/8) still larger than the
        # content: a 48-megapixel photo need not be decoded whole.
        image.draft(None, content)
    if image.mode not in _RESAMPLED_MODES:
        image = image.convert("RGBA" if has_alpha(image) else "RGB")
    if content != image.size:
        image = image.resize(content, Image.Resampling.LANCZOS)
    return _pad(image, plan.resized) if content != plan.resized else image


def _pad(image: Image.Image, size: Size) -> Image.Image:
    """``image`` centred on a ``size`` canvas whose border repeats the image's edge pixels
    (each border column copies the edge column beside it, then each row the edge row)."""
    width, height = image.size
    left, top = (size[0] - width) // 2, (size[1] - height) // 2
    right, bottom = size[0] - width - left, size[1] - height - top
    nearest = Image.Resampling.NEAREST
    canvas = Image.new(image.mode, size)
    canvas.paste(image, (left, top))
    if left:
        canvas.paste(image.crop((0, 0, 1, height)).resize((left, height), nearest), (0, top))
    if right:
        edge = image.crop((width - 1, 0, width, height))
        canvas.paste(edge.resize((right, height), nearest), (left + width, top))
    if top:
        edge = canvas.crop((0, top, size[0], top + 1))
        canvas.paste(edge.resize((size[0], top), nearest), (0, 0))
    if bottom:
        edge = canvas.crop((0, top + height - 1, size[0], top + height))
        canvas.paste(edge.resize((size[0], bottom), nearest), (0, top + height))
    return canvas


def _encode(image: Image.Image, fmt: str, source: Image.Image) -> bytes:
    if fmt == "JPEG" and image.mode not in ("L", "RGB", "CMYK"):
        image = image.convert("RGB")  # JPEG stores no alpha
    elif image.mode not in (*_RESAMPLED_MODES, "1", "P", "I", "I;16"):
        image = image.convert("RGBA" if has_alpha(image) else "RGB")
    out = io.BytesIO()
    kept = {k: source.info[k] for k in ("icc_profile", "exif") if source.info.get(k)}
    image.save(out, format=fmt, **kept, **_SAVE_OPTIONS.get(fmt, {}))
    return out.getvalue()
