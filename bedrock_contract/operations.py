"""What an Image Service does to its input, as far as the contract can say: the output size
(an upscale's, an outpaint's grown canvas) and which fields drive it. The mock's services
engine draws the pixels; the contract suite expects the size."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bedrock_contract.sizes import Size

KINDS = ("upscale", "outpaint", "inpaint", "search", "remove_background", "control",
         "style_guide", "style_transfer")
DIRECTIONS = ("left", "right", "up", "down")


@dataclass(frozen=True)
class Operation:
    """The profile's ``request.operation``: ``kind`` and its fields (field names of the body,
    or numbers such as an upscale's ``factor``)."""

    kind: str
    spec: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_profile(cls, spec: Mapping[str, Any] | None) -> Operation | None:
        if spec is None:
            return None
        if spec.get("kind") not in KINDS:
            raise ValueError(f"operation kind must be one of {', '.join(KINDS)}")
        return cls(spec["kind"], {k: v for k, v in spec.items() if k != "kind"})

    def field(self, name: str) -> str | None:
        value = self.spec.get(name)
        return value if isinstance(value, str) else None

    def margins(self, body: Mapping[str, Any]) -> dict[str, int]:
        """An outpaint's pixels added on each side (0 where the body leaves one out)."""
        return {d: int(body.get(self.spec.get(d, d), 0)) for d in DIRECTIONS}

    def output_size(self, size: Size, body: Mapping[str, Any]) -> Size:
        """The output size for an input (or requested) ``size``."""
        width, height = size
        if self.kind == "upscale" and "factor" in self.spec:
            factor = int(self.spec["factor"])
            return (width * factor, height * factor)
        if self.kind == "upscale" and "megapixels" in self.spec:
            # About that many megapixels, the input's shape (Stability: "up to 4 megapixels").
            # Never smaller than the input.
            wanted = float(self.spec["megapixels"]) * 1_000_000
            scale = max(1.0, math.sqrt(wanted / (width * height)))
            return (round(width * scale), round(height * scale))
        if self.kind == "outpaint":
            grow = self.margins(body)
            return (width + grow["left"] + grow["right"], height + grow["up"] + grow["down"])
        return size
