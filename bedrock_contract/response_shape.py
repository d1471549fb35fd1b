"""Where a response body carries seeds, images and finish reasons, as a profile says: read
back from an answer (the client, the contract suite), and written for one (the mock)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ResponseShape:
    """Where a response body carries seeds, images and finish reasons: in objects of one
    list (``list_field``), or in parallel lists at the top."""

    seed: str
    image: str
    finish_reason: str
    success: str | None
    blurred: tuple[str | None, ...]
    list_field: str | None = None
    constants: Mapping[str, Any] = field(default_factory=dict)
    fixed_format: str | None = None
    format_field: str | None = None
    order: tuple[str, ...] = ()  # of "seed", "image", "finish_reason", as the body has them

    @classmethod
    def from_profile(cls, spec: Mapping[str, Any]) -> ResponseShape:
        fmt = spec["output_format"]
        return cls(
            seed=spec["seed"],
            image=spec["image"],
            finish_reason=spec["finish_reason"],
            success=spec["success"],
            blurred=tuple(spec.get("blurred", ())),
            list_field=spec.get("list"),
            constants=dict(spec.get("constants", {})),
            fixed_format=fmt if isinstance(fmt, str) else None,
            format_field=fmt.get("field") if isinstance(fmt, Mapping) else None,
            order=tuple(k for k in spec if k in ("seed", "image", "finish_reason")),
        )

    def artifacts(self, body: Mapping[str, Any]) -> list[Artifact]:
        """Each generated image's seed, base64 and finish reason (a filtered answer may
        have no image or no seed)."""
        if self.list_field is not None:
            return [
                Artifact(a.get(self.seed), a.get(self.image), a.get(self.finish_reason))
                for a in body[self.list_field]
            ]
        reasons = body[self.finish_reason]
        seeds, images = body.get(self.seed, []), body.get(self.image, [])
        return [
            Artifact(
                seeds[i] if i < len(seeds) else None,
                images[i] if i < len(images) else None,
                reason,
            )
            for i, reason in enumerate(reasons)
        ]

    def envelope(self, seed: int, image: str | None, finish_reason: str | None) -> dict[str, Any]:
        """The body of one generation (``image`` None: an answer without an image)."""
        values = {"seed": seed, "image": image, "finish_reason": finish_reason}
        names = {"seed": self.seed, "image": self.image, "finish_reason": self.finish_reason}
        body: dict[str, Any] = dict(self.constants)
        if self.list_field is not None:
            body[self.list_field] = [
                {names[k]: values[k] for k in self.order if values[k] is not None or k != "image"}
            ]
        else:
            for k in self.order:
                if values[k] is not None or k != "image":
                    body[names[k]] = [values[k]]
        return body


@dataclass(frozen=True)
class Artifact:
    seed: int | None
    image: str | None
    finish_reason: str | None
