"""A model's size rule: how a request names its output size in pixels.

Three kinds, as the profile says: allowed (width, height) pairs read from the request schema
(SDXL), an aspect ratio with the pixels each one gives (the Stability models), or an input
image's size (the Image Services). An input image named by ``from_image`` sets the size
where the body names none.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # only named in annotations: reading the catalogue needs no Pillow
    from PIL import Image

Size = tuple[int, int]  # (width, height)


def format_size(size: Size) -> str:
    return f"{size[0]}x{size[1]}"


@dataclass(frozen=True)
class PairsRule:
    """Width and height fields whose pair must be one of ``allowed``."""

    width_field: str
    height_field: str
    allowed: tuple[Size, ...]
    default: Size
    schema: Mapping[str, Any]  # the schema object stating the rule (its anyOf lists pairs)
    from_image: str | None = None

    @classmethod
    def from_schema(
        cls, spec: Mapping[str, Any], request_schema: Mapping[str, Any], from_image: str | None
    ) -> PairsRule:
        width, height = spec["width"], spec["height"]
        rule = request_schema["definitions"][spec["rule"]]
        allowed = tuple(
            (b["properties"][width]["const"], b["properties"][height]["const"])
            for b in rule["anyOf"]
        )
        props = request_schema["properties"]
        default = (props[width]["default"], props[height]["default"])
        return cls(width, height, allowed, default, rule, from_image)

    @property
    def fields(self) -> tuple[str, ...]:
        return (self.width_field, self.height_field)

    def choices(self) -> tuple[str, ...]:
        return tuple(format_size(s) for s in self.allowed)

    def asked(self, body: Mapping[str, Any]) -> Size:
        """The pair a body asks for, defaults filled in."""
        return (
            body.get(self.width_field, self.default[0]),
            body.get(self.height_field, self.default[1]),
        )

    def body_fields(self, size: Size) -> dict[str, int]:
        return {self.width_field: size[0], self.height_field: size[1]}

    def output_size(self, body: Mapping[str, Any], images: Mapping[str, Image.Image]) -> Size:
        image = images.get(self.from_image) if self.from_image else None
        return image.size if image is not None else self.asked(body)


@dataclass(frozen=True)
class AspectRatioRule:
    """One field naming an aspect ratio; ``pixels`` gives each ratio's output size."""

    field: str
    pixels: Mapping[str, Size]
    default: str
    from_image: str | None = None

    @classmethod
    def from_schema(
        cls, spec: Mapping[str, Any], request_schema: Mapping[str, Any], from_image: str | None
    ) -> AspectRatioRule:
        name = spec["field"]
        field_schema = request_schema["properties"][name]
        pixels = {ratio: (wh[0], wh[1]) for ratio, wh in spec["pixels"].items()}
        missing = set(field_schema["enum"]) - set(pixels)
        if missing:
            raise ValueError(f"size rule: no pixels given for {', '.join(sorted(missing))}")
        return cls(name, pixels, field_schema.get("default", field_schema["enum"][0]), from_image)

    @property
    def fields(self) -> tuple[str, ...]:
        return (self.field,)

    def choices(self) -> tuple[str, ...]:
        return tuple(self.pixels)

    def asked(self, body: Mapping[str, Any]) -> Size:
        return self.pixels[body.get(self.field, self.default)]

    def output_size(self, body: Mapping[str, Any], images: Mapping[str, Image.Image]) -> Size:
        # A ratio the body names wins; else an input image gives the size (SD3.5's image to
        # image refuses a ratio with an image; a style guide takes either).
        image = images.get(self.from_image) if self.from_image else None
        if image is not None and self.field not in body:
            return image.size
        return self.asked(body)

    def nearest(self, size: Size) -> str:
        """The ratio closest to ``size``'s shape (for moving a width x height request)."""
        shape = size[0] / size[1]
        return min(self.pixels, key=lambda r: abs(self.pixels[r][0] / self.pixels[r][1] - shape))


@dataclass(frozen=True)
class InputSizeRule:
    """The output has an input image's size (before the model's operation changes it: an
    upscale, an outpaint)."""

    from_image: str
    # An input size the rules of most models accept, for building examples (the contract
    # suite's bodies): not square, so a swapped width and height would show.
    example: Size = (768, 512)

    @property
    def fields(self) -> tuple[str, ...]:
        return ()

    def choices(self) -> tuple[str, ...]:
        return ()

    def asked(self, body: Mapping[str, Any]) -> Size:
        return self.example

    def output_size(self, body: Mapping[str, Any], images: Mapping[str, Image.Image]) -> Size:
        image = images.get(self.from_image)
        return image.size if image is not None else self.example


SizeRule = PairsRule | AspectRatioRule | InputSizeRule


def size_rule(
    spec: Mapping[str, Any], request_schema: Mapping[str, Any]
) -> SizeRule:
    """The size rule a profile's ``request.size`` states."""
    from_image = spec.get("from_image")
    if "pairs" in spec:
        return PairsRule.from_schema(spec["pairs"], request_schema, from_image)
    if "aspect_ratio" in spec:
        return AspectRatioRule.from_schema(spec["aspect_ratio"], request_schema, from_image)
    if from_image is not None:
        return InputSizeRule(from_image)
    raise ValueError("size rule: give 'pairs', 'aspect_ratio' or 'from_image'")
