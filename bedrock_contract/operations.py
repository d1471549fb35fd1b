"""What an Image Service does to its input, as far as the contract can say: the output size
(an upscale's, an outpaint's grown canvas) and which fields drive it. The mock's services
engine draws the pixels; the contract suite expects the size."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bedrock_contract.paths import FieldPath
from bedrock_contract.sizes import Size

KINDS = ("upscale", "outpaint", "inpaint", "search", "remove_background", "control",
         "style_guide", "style_transfer", "palette", "try_on")
DIRECTIONS = ("left", "right", "up", "down")


@dataclass(frozen=True)
class Operation:
    """The profile's ``request.operation``: ``kind`` and its fields (locations in the body,
    or numbers such as an upscale's ``factor``). A model of several tasks names the field
    that picks one (``by``) and each task's operation (``each``): a body's operation is
    :meth:`for_body`'s."""

    kind: str
    spec: Mapping[str, Any] = field(default_factory=dict)
    by: FieldPath | None = None
    tasks: Mapping[str, Operation] = field(default_factory=dict)

    @classmethod
    def from_profile(cls, spec: Mapping[str, Any] | None) -> Operation | None:
        if spec is None:
            return None
        if "by" in spec:
            tasks = {task: cls.from_profile(each) for task, each in spec["each"].items()}
            return cls("tasks", {}, FieldPath.parse(spec["by"]),
                       {task: op for task, op in tasks.items() if op is not None})
        if spec.get("kind") not in KINDS:
            raise ValueError(f"operation kind must be one of {', '.join(KINDS)}")
        return cls(spec["kind"], {k: v for k, v in spec.items() if k != "kind"})

    def for_body(self, body: Mapping[str, Any]) -> Operation | None:
        """The operation a body asks for: this one, or its task's (None: a task that only
        generates)."""
        if self.by is None:
            return self
        return self.tasks.get(str(self.by.get(body)))

    def path(self, name: str) -> FieldPath | None:
        value = self.spec.get(name)
        return FieldPath.parse(value) if isinstance(value, str) else None

    def field(self, name: str) -> str | None:
        """The key (:attr:`FieldPath.key`) of the field the operation's ``name`` is: what
        a body's decoded images are keyed by."""
        path = self.path(name)
        return path.key if path is not None else None

    def value(self, name: str, body: Mapping[str, Any], default: Any = None) -> Any:
        path = self.path(name)
        return path.get(body, default) if path is not None else default

    def margins(self, body: Mapping[str, Any]) -> dict[str, int]:
        """An outpaint's pixels added on each side (0 where the body leaves one out)."""
        return {d: int(FieldPath.parse(self.spec.get(d, d)).get(body, 0)) for d in DIRECTIONS}

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
