"""Where a request body keeps what every model has in some form, as a profile names it:
its prompts, and the rules of its input images beyond JSON Schema's ``contentEncoding``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Prompt:
    text: str
    weight: float  # below 0: a negative prompt


@dataclass(frozen=True)
class PromptFields:
    """Where a body's prompts are: a list of weighted prompt objects (``list``, ``text``,
    ``weight``), or one text field and an optional negative one."""

    list_field: str | None = None
    text_key: str = "text"
    weight_key: str = "weight"
    weight_default: float = 1
    text_field: str | None = None
    negative_field: str | None = None

    @classmethod
    def from_profile(cls, spec: Mapping[str, Any], schema: Mapping[str, Any]) -> PromptFields:
        if "list" in spec:
            items = schema["properties"][spec["list"]]["items"]["properties"]
            weight = items.get(spec["weight"], {}).get("default", 1)
            return cls(spec["list"], spec["text"], spec["weight"], weight)
        # A model may take no prompt at all (background removal, fast upscale): {}.
        return cls(text_field=spec.get("text"), negative_field=spec.get("negative"))

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(f for f in (self.list_field, self.text_field, self.negative_field) if f)

    def of(self, body: Mapping[str, Any]) -> list[Prompt]:
        """The prompts in a body, in order, each with its weight."""
        if self.list_field is not None:
            return [
                Prompt(str(p.get(self.text_key, "")), p.get(self.weight_key, self.weight_default))
                for p in body.get(self.list_field, [])
                if isinstance(p, Mapping)
            ]
        found = []
        if self.text_field and isinstance(body.get(self.text_field), str):
            found.append(Prompt(body[self.text_field], 1.0))
        if self.negative_field and isinstance(body.get(self.negative_field), str):
            found.append(Prompt(body[self.negative_field], -1.0))
        return found

    def body_fields(self, positive: list[str], negative: list[str]) -> dict[str, Any]:
        """The body fields that carry these prompts (the inverse of :meth:`of`)."""
        if self.list_field is not None:
            items: list[dict[str, Any]] = [{self.text_key: t} for t in positive]
            items += [{self.text_key: t, self.weight_key: -1} for t in negative]
            return {self.list_field: items}
        found: dict[str, Any] = {}
        if positive and self.text_field:
            found[self.text_field] = " ".join(positive)
        if negative and self.negative_field:
            found[self.negative_field] = " ".join(negative)
        return found


@dataclass(frozen=True)
class ImageRule:
    """What an input image field must hold, beyond JSON Schema's ``contentEncoding``."""

    formats: tuple[str, ...] = ("PNG", "JPEG", "WEBP")
    min_side: int | None = None
    max_side: int | None = None
    min_pixels: int | None = None
    max_pixels: int | None = None
    min_aspect: float | None = None  # width / height
    max_aspect: float | None = None
    allowed_sizes: bool = False  # must be one of the size rule's pairs
    same_size_as: str | None = None

    @property
    def formats_text(self) -> str:
        """The formats as a person reads them: ``PNG, JPEG or WEBP``."""
        return " or ".join(", ".join(self.formats).rsplit(", ", 1))

    @classmethod
    def from_profile(cls, spec: Mapping[str, Any]) -> ImageRule:
        return cls(
            formats=tuple(spec.get("formats", cls.formats)),
            min_side=spec.get("min_side"),
            max_side=spec.get("max_side"),
            min_pixels=spec.get("min_pixels"),
            max_pixels=spec.get("max_pixels"),
            min_aspect=spec.get("min_aspect"),
            max_aspect=spec.get("max_aspect"),
            allowed_sizes=spec.get("sizes") == "allowed",
            same_size_as=spec.get("same_size_as"),
        )


@dataclass(frozen=True)
class AlphaRule:
    """An image that must have an alpha channel when the body says so."""

    image: str
    when: Mapping[str, Any]

    def applies(self, body: Mapping[str, Any]) -> bool:
        return all(body.get(k) == v for k, v in self.when.items())
