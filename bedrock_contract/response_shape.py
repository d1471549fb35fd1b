"""Where a response body carries seeds, images and finish reasons, as a profile says: read
back from an answer (the client, the contract suite), and written for one (the mock).

A profile names its envelope from :data:`ENVELOPES`, as botocore keys its protocol parsers
by a service model's ``protocol``, and locates each part by JSON Pointer:

- ``artifacts``: one list of objects, each with a seed, an image and a finish reason
  (SDXL: ``{"artifacts": [{"seed", "base64", "finishReason"}]}``);
- ``parallel``: parallel lists at the top or anywhere (Stability's ``seeds``, ``images``,
  ``finish_reasons``);
- ``images``: a list of images and, when something was filtered, an error text in place of
  a finish reason, no seeds (Titan Image Generator, Nova Canvas:
  ``{"images": [...], "error": "..."}``; the error is left out on success).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bedrock_contract.paths import FieldPath

PARTS = ("seed", "image", "finish_reason")


@dataclass(frozen=True)
class Artifact:
    seed: int | None
    image: str | None
    finish_reason: str | None


@dataclass(frozen=True)
class ResponseShape:
    """Where a response body carries seeds, images and finish reasons (the paths of the
    ``artifacts`` envelope are inside each object of ``list_field``)."""

    envelope: str
    seed: FieldPath | None
    image: FieldPath
    finish_reason: FieldPath
    success: str | None
    blurred: tuple[str | None, ...]
    list_field: FieldPath | None = None
    constants: Mapping[str, Any] = field(default_factory=dict)
    fixed_format: str | None = None
    format_field: FieldPath | None = None
    order: tuple[str, ...] = ()  # of "seed", "image", "finish_reason", as the body has them
    # Where the request asks for several images (Titan's and Canvas's numberOfImages).
    count_field: FieldPath | None = None
    # Where the answer returns the mask the model used, and the request's flag asking for
    # it (Canvas's virtual try-on: returnMask); the profile's ``mask``.
    mask: FieldPath | None = None
    mask_asked_by: FieldPath | None = None

    @classmethod
    def from_profile(cls, spec: Mapping[str, Any]) -> ResponseShape:
        fmt = spec["output_format"]
        envelope = spec.get("envelope", "artifacts" if "list" in spec else "parallel")
        if envelope not in ENVELOPES:
            raise ValueError(f"response envelope must be one of {', '.join(ENVELOPES)}")
        return cls(
            envelope=envelope,
            seed=FieldPath.optional(spec.get("seed")),
            image=FieldPath.parse(spec["image"]),
            finish_reason=FieldPath.parse(spec["finish_reason"]),
            success=spec["success"],
            blurred=tuple(spec.get("blurred", ())),
            list_field=FieldPath.optional(spec.get("list")),
            constants=dict(spec.get("constants", {})),
            fixed_format=fmt if isinstance(fmt, str) else None,
            format_field=FieldPath.parse(fmt["field"]) if isinstance(fmt, Mapping) else None,
            order=tuple(k for k in spec if k in PARTS),
            count_field=FieldPath.optional(spec.get("count")),
            mask=FieldPath.optional(spec.get("mask", {}).get("image")),
            mask_asked_by=FieldPath.optional(spec.get("mask", {}).get("asked_by")),
        )

    def artifacts(self, body: Mapping[str, Any]) -> list[Artifact]:
        """Each generated image's seed, base64 and finish reason (a filtered answer may
        have no image or no seed)."""
        return ENVELOPES[self.envelope].read(self, body)

    def mask_asked(self, body: Mapping[str, Any]) -> bool:
        """Whether a request asks for the mask to come back with its images."""
        return (self.mask is not None and self.mask_asked_by is not None
                and self.mask_asked_by.get(body, False) is True)

    def envelope_body(self, seeds: Sequence[int], images: Sequence[str | None],
                      finish_reason: str | None, mask: str | None = None) -> dict[str, Any]:
        """The body of a generation of one image per seed (an image None: an answer
        without it), with the ``mask`` it used where the request asked for it."""
        body: dict[str, Any] = dict(self.constants)
        ENVELOPES[self.envelope].write(self, body, seeds, images, finish_reason)
        if mask is not None and self.mask is not None:
            self.mask.put(body, mask)
        return body

    def finish_reason_schema(self, response_schema: Mapping[str, Any]) -> Mapping[str, Any]:
        """The schema of one finish reason (its ``enum`` lists them)."""
        if self.list_field is not None:
            items = self.list_field.schema(response_schema)["items"]
            return self.finish_reason.schema(items)
        spec = self.finish_reason.schema(response_schema)
        found: Mapping[str, Any] = spec["items"] if spec.get("type") == "array" else spec
        return found


def _at(items: Any, i: int) -> Any:
    return items[i] if isinstance(items, list) and i < len(items) else None


def _read_artifacts(shape: ResponseShape, body: Mapping[str, Any]) -> list[Artifact]:
    assert shape.list_field is not None
    parts = [shape.seed, shape.image, shape.finish_reason]
    return [Artifact(*(p.get(a) if p else None for p in parts))
            for a in shape.list_field.get(body, [])]


def _write_artifacts(shape: ResponseShape, body: dict[str, Any], seeds: Sequence[int],
                     images: Sequence[str | None], finish_reason: str | None) -> None:
    assert shape.list_field is not None
    paths = {"seed": shape.seed, "image": shape.image, "finish_reason": shape.finish_reason}
    items = []
    for seed, image in zip(seeds, images, strict=True):
        item: dict[str, Any] = {}
        values = {"seed": seed, "image": image, "finish_reason": finish_reason}
        for k in shape.order:
            path = paths[k]
            if path is not None and (values[k] is not None or k != "image"):
                path.put(item, values[k])
        items.append(item)
    shape.list_field.put(body, items)


def _read_parallel(shape: ResponseShape, body: Mapping[str, Any]) -> list[Artifact]:
    reasons = shape.finish_reason.get(body)
    seeds = shape.seed.get(body, []) if shape.seed else []
    images = shape.image.get(body, [])
    return [Artifact(_at(seeds, i), _at(images, i), reason)
            for i, reason in enumerate(reasons)]


def _write_parallel(shape: ResponseShape, body: dict[str, Any], seeds: Sequence[int],
                    images: Sequence[str | None], finish_reason: str | None) -> None:
    values = {"seed": list(seeds), "image": [i for i in images if i is not None],
              "finish_reason": [finish_reason] * len(seeds)}
    paths = {"seed": shape.seed, "image": shape.image, "finish_reason": shape.finish_reason}
    for k in shape.order:
        path = paths[k]
        if path is not None and (values[k] or k != "image"):
            path.put(body, values[k])


def _read_images(shape: ResponseShape, body: Mapping[str, Any]) -> list[Artifact]:
    images = shape.image.get(body)
    error = shape.finish_reason.get(body)
    if not isinstance(images, list):
        return [] if error is None else [Artifact(None, None, error)]
    if not images and error is not None:
        return [Artifact(None, None, error)]  # every image filtered
    return [Artifact(None, image, error) for image in images]


def _write_images(shape: ResponseShape, body: dict[str, Any], seeds: Sequence[int],
                  images: Sequence[str | None], finish_reason: str | None) -> None:
    shape.image.put(body, [i for i in images if i is not None])
    if finish_reason != shape.success:
        shape.finish_reason.put(body, finish_reason)


@dataclass(frozen=True)
class Envelope:
    read: Callable[[ResponseShape, Mapping[str, Any]], list[Artifact]]
    write: Callable[[ResponseShape, dict[str, Any], Sequence[int], Sequence[str | None],
                     str | None], None]


# The envelopes a profile may name (its response's ``envelope``).
ENVELOPES: dict[str, Envelope] = {
    "artifacts": Envelope(_read_artifacts, _write_artifacts),
    "parallel": Envelope(_read_parallel, _write_parallel),
    "images": Envelope(_read_images, _write_images),
}
