"""Where a request body keeps what every model has in some form, as a profile names it:
its prompts, and the rules of its input images beyond JSON Schema's ``contentEncoding``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bedrock_contract.paths import FieldPath


@dataclass(frozen=True)
class Prompt:
    text: str
    weight: float  # below 0: a negative prompt


@dataclass(frozen=True)
class PromptFields:
    """Where a body's prompts are: a list of weighted prompt objects (``list``, ``text``,
    ``weight``), or one text field and an optional negative one. A model whose prompt sits
    in another object per task (Nova Canvas's ``/textToImageParams/text``,
    ``/inPaintingParams/text``) lists each location: a body's prompt is in the first it
    has, and a body built here puts it in the object the rest of the body already uses
    (``inPaintingParams`` beside an inpainting image), else in the first."""

    list_field: FieldPath | None = None
    text_key: str = "text"
    weight_key: str = "weight"
    weight_default: float = 1
    text_fields: tuple[FieldPath, ...] = ()
    negative_fields: tuple[FieldPath, ...] = ()
    # What a body built around a prompt also says, e.g. Canvas's {"/taskType": "TEXT_IMAGE"}:
    # its first prompt location belongs to that task.
    companions: tuple[tuple[FieldPath, Any], ...] = ()

    @classmethod
    def from_profile(cls, spec: Mapping[str, Any], schema: Mapping[str, Any]) -> PromptFields:
        if "list" in spec:
            listed = FieldPath.parse(spec["list"])
            items = listed.schema(schema)["items"]["properties"]
            weight = items.get(spec["weight"], {}).get("default", 1)
            return cls(listed, spec["text"], spec["weight"], weight)
        # A model may take no prompt at all (background removal, fast upscale): {}.
        return cls(text_fields=_paths(spec.get("text")),
                   negative_fields=_paths(spec.get("negative")),
                   companions=tuple((FieldPath.parse(k), v)
                                    for k, v in spec.get("with", {}).items()))

    @property
    def text_field(self) -> FieldPath | None:
        """Where a body built here puts its prompt."""
        return self.text_fields[0] if self.text_fields else None

    @property
    def negative_field(self) -> FieldPath | None:
        return self.negative_fields[0] if self.negative_fields else None

    @property
    def fields(self) -> tuple[FieldPath, ...]:
        listed = (self.list_field,) if self.list_field else ()
        return (*listed, *self.text_fields, *self.negative_fields)

    def of(self, body: Mapping[str, Any]) -> list[Prompt]:
        """The prompts in a body, in order, each with its weight."""
        if self.list_field is not None:
            items = self.list_field.get(body, [])
            return [
                Prompt(str(p.get(self.text_key, "")), p.get(self.weight_key, self.weight_default))
                for p in (items if isinstance(items, list) else [])
                if isinstance(p, Mapping)
            ]
        found = []
        text = _first_text(self.text_fields, body)
        if text is not None:
            found.append(Prompt(text, 1.0))
        negative = _first_text(self.negative_fields, body)
        if negative is not None:
            found.append(Prompt(negative, -1.0))
        return found

    def body_fields(self, positive: list[str], negative: list[str],
                    beside: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The body fields that carry these prompts (the inverse of :meth:`of`), for a body
        whose other fields are ``beside``."""
        found: dict[str, Any] = {}
        if self.list_field is not None:
            items: list[dict[str, Any]] = [{self.text_key: t} for t in positive]
            items += [{self.text_key: t, self.weight_key: -1} for t in negative]
            self.list_field.put(found, items)
            return found
        text, negative_text, companions = self._placed(beside or {})
        if positive and text:
            text.put(found, " ".join(positive))
        if negative and negative_text:
            negative_text.put(found, " ".join(negative))
        for path, value in companions if found else ():
            path.put(found, value)
        return found

    def _placed(self, beside: Mapping[str, Any]) -> tuple[
            FieldPath | None, FieldPath | None, tuple[tuple[FieldPath, Any], ...]]:
        """Where the prompts go beside a body: in the first object the body already has that
        holds a prompt (a task's own parameters, set by its task), with that object's
        negative field; else in the first location, with what it implies."""
        for text in self.text_fields:
            parent = text.parent
            if parent is not None and isinstance(parent.get(beside), Mapping):
                negative = next((n for n in self.negative_fields if n.parent == parent), None)
                return text, negative, ()
        return self.text_field, self.negative_field, self.companions


def _paths(spec: str | list[str] | None) -> tuple[FieldPath, ...]:
    if spec is None:
        return ()
    return tuple(FieldPath.parse(p) for p in ([spec] if isinstance(spec, str) else spec))


def _first_text(paths: tuple[FieldPath, ...], body: Mapping[str, Any]) -> str | None:
    for path in paths:
        value = path.get(body)
        if isinstance(value, str):
            return value
    return None


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
    same_size_as: str | None = None  # the other image's key (FieldPath.key)

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
            same_size_as=FieldPath.parse(spec["same_size_as"]).key
            if "same_size_as" in spec else None,
        )


@dataclass(frozen=True)
class AlphaRule:
    """An image that must have an alpha channel when the body says so."""

    image: str  # its key (FieldPath.key)
    when: Mapping[str, Any]  # location -> value

    def applies(self, body: Mapping[str, Any]) -> bool:
        return all(FieldPath.parse(k).get(body) == v for k, v in self.when.items())
