"""A model's size rule: how a request names its output size in pixels.

Three kinds, as the profile says: allowed (width, height) pairs read from the request schema
(SDXL), an aspect ratio with the pixels each one gives (the Stability models), or an input
image's size (the Image Services). An input image named by ``from_image`` sets the size
where the body names none: as it is, or where the profile gives an ``image_scale``, scaled
to about so many pixels in its shape (SD3.5 Large's and Ultra's image to image).

No picture the contract gives is larger than :data:`MAX_OUTPUT_SIDE` a side or
:data:`MAX_OUTPUT_PIXELS` (:func:`bounded`), and a profile naming a larger size is refused
when its folder loads (:func:`check_size`).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bedrock_contract.paths import FieldPath

if TYPE_CHECKING:  # only named in annotations: reading the catalogue needs no Pillow
    from PIL import Image

Size = tuple[int, int]  # (width, height)

# The largest picture the contract gives (ours: the service states none). A side: WebP's
# own limit (libwebp's WEBP_MAX_DIMENSION), the smallest of the three output formats' (JPEG
# holds 65,535, PNG 2**31 - 1), so every size is one each format can hold. Pixels: above
# the largest output a model's own limits allow, outpaint's (a 4,857x1,943 input, the
# most its 9,437,184 pixels and 2.5:1 allow, grown 2,000 px each way: 52,626,914 pixels).
MAX_OUTPUT_SIDE = 16_383
MAX_OUTPUT_PIXELS = 64 * 1024 * 1024
# Where an input image's size is kept when the image is held at another (a large input
# decoded at the size its scaled output needs): Pillow copies ``info`` to derived images.
SENT_SIZE = "bedrock_contract.sent_size"


def format_size(size: Size) -> str:
    return f"{size[0]}x{size[1]}"


def sent_size(image: Image.Image) -> Size:
    """The size ``image`` was sent at (its own, unless it is held at a reduced size)."""
    found = image.info.get(SENT_SIZE)
    return found if isinstance(found, tuple) else image.size


def bounded(size: Size) -> Size:
    """``size``, scaled down in its shape where a side or the pixel count passes the
    contract's largest picture (an upscale of a very long strip, a custom model's)."""
    width, height = size
    scale = min(1.0, MAX_OUTPUT_SIDE / max(size), math.sqrt(MAX_OUTPUT_PIXELS / (width * height)))
    if scale >= 1.0:
        return size
    return (max(1, math.floor(width * scale)), max(1, math.floor(height * scale)))


def check_size(size: Any, what: str) -> Size:
    """``size`` as a (width, height) pair, or ValueError: each side a whole number from 1,
    none past :data:`MAX_OUTPUT_SIDE`, the pixels within :data:`MAX_OUTPUT_PIXELS` (a
    profile's size no model has is refused when its folder loads, not drawn)."""
    if (not isinstance(size, list | tuple) or len(size) != 2
            or not all(isinstance(side, int) and not isinstance(side, bool) for side in size)):
        raise ValueError(f"{what}: a size is [width, height], two whole numbers, not {size!r}")
    width, height = size
    if min(width, height) < 1 or max(width, height) > MAX_OUTPUT_SIDE \
            or width * height > MAX_OUTPUT_PIXELS:
        raise ValueError(
            f"{what}: size {format_size((width, height))} is outside what any model draws "
            f"(1 to {MAX_OUTPUT_SIDE:,} px a side, at most {MAX_OUTPUT_PIXELS:,} pixels)")
    return (width, height)


def _check_sizes(sizes: Iterable[Any], what: str) -> None:
    for size in sizes:
        check_size(size, what)


@dataclass(frozen=True)
class ImageScale:
    """An output drawn from an input image at about ``pixels`` pixels in the image's shape,
    each side rounded to a multiple of ``multiple`` and kept within ``min_side`` to
    ``max_side`` (the profile's ``request.size.image_scale``)."""

    pixels: int
    multiple: int
    min_side: int
    max_side: int

    @classmethod
    def from_profile(cls, spec: Mapping[str, Any] | None) -> ImageScale | None:
        if spec is None:
            return None
        pixels, multiple = spec["pixels"], spec["multiple"]
        low, high = check_size([spec["min_side"], spec["max_side"]], "image_scale sides")
        # Its largest output, max_side both ways, must be a size the contract draws.
        check_size([high, high], "image_scale max_side")
        if not (isinstance(pixels, int) and isinstance(multiple, int) and low <= high
                and 1 <= pixels <= MAX_OUTPUT_PIXELS and 1 <= multiple <= high):
            raise ValueError("image_scale: pixels from 1 to the largest picture, a multiple "
                             "from 1 to max_side, min_side up to max_side")
        return cls(pixels, multiple, low, high)

    def of(self, size: Size) -> Size:
        """The output size for an input of ``size``."""
        shape = size[0] / size[1]
        return (self._side(math.sqrt(self.pixels * shape)),
                self._side(math.sqrt(self.pixels / shape)))

    def _side(self, ideal: float) -> int:
        rounded = max(1, math.floor(ideal / self.multiple + 0.5)) * self.multiple
        return min(self.max_side, max(self.min_side, rounded))


FromImage = tuple[str, ...]  # the keys (FieldPath.key) of images that give the size


def from_images(spec: str | list[str] | None) -> FromImage:
    """The profile's ``from_image``: one location or several (a model whose input image
    sits in another object per task: the first the body has gives the size)."""
    if spec is None:
        return ()
    return tuple(FieldPath.parse(p).key for p in ([spec] if isinstance(spec, str) else spec))


def _image_size(images: Mapping[str, Image.Image], names: FromImage,
                scale: ImageScale | None) -> Size | None:
    """The size the first of the input images ``names`` the body has gives the output."""
    image = next((images[n] for n in names if n in images), None)
    if image is None:
        return None
    size = sent_size(image)
    return scale.of(size) if scale is not None else size


@dataclass(frozen=True)
class _WidthAndHeight:
    """A width field and a height field, each with its default: what the rules that take
    the size as two numbers (:class:`PairsRule`, :class:`DimensionsRule`) share. An input
    image named by ``from_image`` gives the size instead, scaled where ``scale`` says."""

    width_field: FieldPath
    height_field: FieldPath
    default: Size
    # Keyword-only: each rule's own fields, which have no default, follow these.
    from_image: FromImage = dataclasses.field(default=(), kw_only=True)
    scale: ImageScale | None = dataclasses.field(default=None, kw_only=True)

    @staticmethod
    def read(spec: Mapping[str, Any], request_schema: Mapping[str, Any]
             ) -> tuple[FieldPath, FieldPath, Size]:
        """The profile's width and height fields, and their schema defaults (checked)."""
        width, height = FieldPath.parse(spec["width"]), FieldPath.parse(spec["height"])
        default = check_size([width.schema(request_schema)["default"],
                              height.schema(request_schema)["default"]],
                             "the default width and height")
        return width, height, default

    @property
    def fields(self) -> tuple[FieldPath, ...]:
        return (self.width_field, self.height_field)

    def asked(self, body: Mapping[str, Any]) -> Size:
        """The size a body asks for, defaults filled in."""
        return (self.width_field.get(body, self.default[0]),
                self.height_field.get(body, self.default[1]))

    def body_fields(self, size: Size) -> dict[str, Any]:
        found: dict[str, Any] = {}
        self.width_field.put(found, size[0])
        self.height_field.put(found, size[1])
        return found

    def output_size(self, body: Mapping[str, Any], images: Mapping[str, Image.Image]) -> Size:
        return _image_size(images, self.from_image, self.scale) or self.asked(body)


@dataclass(frozen=True)
class PairsRule(_WidthAndHeight):
    """Width and height fields whose pair must be one of ``allowed``."""

    allowed: tuple[Size, ...]
    schema: Mapping[str, Any]  # the schema object stating the rule (its anyOf lists pairs)

    @classmethod
    def from_schema(
        cls, spec: Mapping[str, Any], request_schema: Mapping[str, Any], from_image: FromImage,
        scale: ImageScale | None = None,
    ) -> PairsRule:
        width, height, default = cls.read(spec, request_schema)
        # The rule applies to the object holding both fields: its pairs name them as that
        # object's own properties.
        rule = request_schema["definitions"][spec["rule"]]
        allowed = tuple(
            (b["properties"][width.name]["const"], b["properties"][height.name]["const"])
            for b in rule["anyOf"]
        )
        _check_sizes(allowed, f"request.json's {spec['rule']} pairs")
        return cls(width, height, default, allowed, rule, from_image=from_image, scale=scale)

    def choices(self) -> tuple[str, ...]:
        return tuple(format_size(s) for s in self.allowed)


@dataclass(frozen=True)
class AspectRatioRule:
    """One field naming an aspect ratio; ``pixels`` gives each ratio's output size."""

    field: FieldPath
    pixels: Mapping[str, Size]
    default: str
    from_image: FromImage = ()
    scale: ImageScale | None = None

    @classmethod
    def from_schema(
        cls, spec: Mapping[str, Any], request_schema: Mapping[str, Any], from_image: FromImage,
        scale: ImageScale | None = None,
    ) -> AspectRatioRule:
        name = FieldPath.parse(spec["field"])
        field_schema = name.schema(request_schema)
        pixels = {ratio: check_size(wh, f"size rule {ratio}")
                  for ratio, wh in spec["pixels"].items()}
        missing = set(field_schema["enum"]) - set(pixels)
        if missing:
            raise ValueError(f"size rule: no pixels given for {', '.join(sorted(missing))}")
        return cls(name, pixels, field_schema.get("default", field_schema["enum"][0]), from_image,
                   scale)

    @property
    def fields(self) -> tuple[FieldPath, ...]:
        return (self.field,)

    def choices(self) -> tuple[str, ...]:
        return tuple(self.pixels)

    def asked(self, body: Mapping[str, Any]) -> Size:
        return self.pixels[self.field.get(body, self.default)]

    def output_size(self, body: Mapping[str, Any], images: Mapping[str, Image.Image]) -> Size:
        # A ratio the body names wins; else an input image gives the size (SD3.5's image to
        # image refuses a ratio with an image; a style guide takes either).
        from_image = () if self.field.has(body) else self.from_image
        return _image_size(images, from_image, self.scale) or self.asked(body)

    def nearest(self, size: Size) -> str:
        """The ratio closest to ``size``'s shape (for moving a width x height request)."""
        shape = size[0] / size[1]
        return min(self.pixels, key=lambda r: abs(self.pixels[r][0] / self.pixels[r][1] - shape))


@dataclass(frozen=True)
class InputSizeRule:
    """The output has an input image's size, or with a ``scale`` about so many pixels in its
    shape (before the model's operation changes it: an upscale, an outpaint)."""

    from_image: FromImage
    # An input size the rules of most models accept, for building examples (the contract
    # suite's bodies): not square, so a swapped width and height would show.
    example: Size = (768, 512)
    scale: ImageScale | None = None

    @property
    def fields(self) -> tuple[FieldPath, ...]:
        return ()

    def choices(self) -> tuple[str, ...]:
        return ()

    def asked(self, body: Mapping[str, Any]) -> Size:
        return self.example

    def output_size(self, body: Mapping[str, Any], images: Mapping[str, Image.Image]) -> Size:
        return _image_size(images, self.from_image, self.scale) or self.example


@dataclass(frozen=True)
class DimensionsRule(_WidthAndHeight):
    """Width and height fields each within the range its schema gives (Nova Canvas: 320 to
    4,096 px, a multiple of 16), with the whole picture's limits the schema cannot state:
    its aspect ratio and pixel count (:meth:`problem`)."""

    max_pixels: int | None = None
    max_aspect: float | None = None  # the longer side over the shorter, at most

    @classmethod
    def from_schema(
        cls, spec: Mapping[str, Any], request_schema: Mapping[str, Any], from_image: FromImage,
        scale: ImageScale | None = None,
    ) -> DimensionsRule:
        width, height, default = cls.read(spec, request_schema)
        return cls(width, height, default, spec.get("max_pixels"), spec.get("max_aspect"),
                   from_image=from_image, scale=scale)

    def choices(self) -> tuple[str, ...]:
        return ()

    def problem(self, body: Mapping[str, Any]) -> str | None:
        """What the asked size breaks of the whole picture's limits, or None."""
        if not any(f.has(body) for f in self.fields):
            return None
        width, height = self.asked(body)
        if not (isinstance(width, int) and isinstance(height, int)) or min(width, height) < 1:
            return None  # the schema refuses it
        if self.max_pixels is not None and width * height > self.max_pixels:
            return (f"size {format_size((width, height))} has {width * height} pixels; at "
                    f"most {self.max_pixels} are allowed")
        if self.max_aspect is not None and max(width, height) > self.max_aspect * min(
                width, height):
            return (f"size {format_size((width, height))}: one side may be at most "
                    f"{self.max_aspect:g} times the other")
        return None


SizeRule = PairsRule | AspectRatioRule | InputSizeRule | DimensionsRule


def size_rule(
    spec: Mapping[str, Any], request_schema: Mapping[str, Any]
) -> SizeRule:
    """The size rule a profile's ``request.size`` states: the first of its kinds
    (:data:`SIZE_RULES`) it names."""
    from_image = from_images(spec.get("from_image"))
    scale = ImageScale.from_profile(spec.get("image_scale"))
    if scale is not None and not from_image:
        raise ValueError("size rule: image_scale scales the image from_image names; name one")
    for kind, rule in SIZE_RULES.items():
        if kind in spec:
            return rule.from_schema(spec[kind], request_schema, from_image, scale)
    if from_image:
        return InputSizeRule(from_image, scale=scale)
    raise ValueError(f"size rule: give one of {', '.join(SIZE_RULES)} or 'from_image'")


# The kinds of size rule a profile may name, by the key it names them with.
SIZE_RULES: dict[str, type[PairsRule] | type[AspectRatioRule] | type[DimensionsRule]] = {
    "pairs": PairsRule, "aspect_ratio": AspectRatioRule, "dimensions": DimensionsRule,
}


def scaled_input(rule: SizeRule, field: str, size: Size) -> Size | None:
    """The size an input image of ``size`` in ``field`` (its key) is needed at, where the
    rule scales it (its output is drawn from it at that size); None where it is needed
    whole."""
    if rule.scale is None or field not in rule.from_image:
        return None
    return rule.scale.of(size)
