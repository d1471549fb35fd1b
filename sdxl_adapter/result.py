"""What one call produced, and saving it with its parameters embedded."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from PIL import Image

from bedrock_contract import ModelContract, PairsRule, Prompt, format_size
from bedrock_contract.paths import FieldPath
from bedrock_contract.sizes import DimensionsRule
from sdxl_adapter.embedded import PREFIX, read_embedded, with_parameters
from sdxl_adapter.models import contract_of
from sdxl_adapter.pngtext import write_atomically
from sdxl_adapter.request import AnyRequest

# The prefix of the keys save() embeds (PNG text chunk keywords ``sdxl:<name>``), so they
# never collide with what the service (or the mock) already put into the file.
PARAMETER_PREFIX = PREFIX
# The file extension for each output format.
EXTENSIONS = {"png": ".png", "jpeg": ".jpg", "webp": ".webp"}
FORMATS_BY_EXTENSION = {".png": "png", ".jpg": "jpeg", ".jpeg": "jpeg", ".webp": "webp"}


@dataclass(frozen=True)
class GenerationResult:
    """What one call produced. Each image is exactly as the service sent it, in
    ``output_format``; a generation answered without an image (filtered) has ``b""``.
    Bedrock's image models answer one image a call, so the singular properties
    (:attr:`data`, :attr:`seed`, :attr:`finish_reason`) read the first."""

    images: tuple[bytes, ...] = field(repr=False)
    seeds: tuple[int | None, ...]
    finish_reasons: tuple[str | None, ...]
    model_id: str
    request_id: str | None
    body: dict[str, Any] = field(repr=False)
    """The request body that was sent."""
    request: AnyRequest | None = field(default=None, repr=False)
    """The typed request, unless a raw body was sent unchecked."""
    output_format: str = "png"
    served: dict[str, str] = field(default_factory=dict)
    """How the service says it served the call, by botocore's member names (e.g.
    ``{"serviceTier": "default", "performanceConfigLatency": "standard"}``); empty when
    it says nothing."""
    mask: bytes = field(default=b"", repr=False)
    """The mask the model used, where the request asked for it back (Nova Canvas's
    ``returnMask``), as the service sent it (PNG); empty otherwise."""

    @property
    def data(self) -> bytes:
        """The (first) image file's bytes, in :attr:`output_format`."""
        return self.images[0] if self.images else b""

    @property
    def png(self) -> bytes:
        """The image bytes of a PNG result (SDXL's only format); use :attr:`data` for any."""
        if self.output_format != "png":
            raise ValueError(f"this result is {self.output_format}, not png: read .data")
        return self.data

    @property
    def seed(self) -> int | None:
        return self.seeds[0] if self.seeds else None

    @property
    def seed_of_record(self) -> int | None:
        """The seed that made the image: the answer's, else the request's (Titan's and
        Nova Canvas's answers carry none), else None."""
        if self.seed is not None:
            return self.seed
        field_ = self.contract.seed_field
        asked = field_.get(self.body) if field_ is not None else None
        return asked if isinstance(asked, int) and not isinstance(asked, bool) else None

    @property
    def finish_reason(self) -> str | None:
        return self.finish_reasons[0] if self.finish_reasons else None

    @property
    def has_image(self) -> bool:
        return bool(self.data)

    @property
    def extension(self) -> str:
        return EXTENSIONS.get(self.output_format, "." + self.output_format)

    @cached_property
    def contract(self) -> ModelContract:
        return contract_of(self.model_id)

    @cached_property
    def image(self) -> Image.Image:
        """The image decoded by Pillow (on first access)."""
        image = Image.open(io.BytesIO(self.data))
        image.load()
        return image

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) of the image, read from its header."""
        with Image.open(io.BytesIO(self.data)) as image:
            return image.size

    def parameters(self) -> dict[str, str]:
        """The generation parameters save() records, name -> text: the prompts, the seed
        and size the image has, every other plain value the body set, and the model id."""
        contract = self.contract
        prompts = contract.prompts.of(self.body)
        params = {"prompt": "\n".join(p.text for p in prompts if not _is_negative(p))}
        negative = [p.text for p in prompts if _is_negative(p)]
        if negative:
            params["negative_prompt"] = "\n".join(negative)
        if self.seed_of_record is not None:
            params["seed"] = str(self.seed_of_record)
        if self.has_image:
            params["size"] = format_size(self.size)
        skip = {*contract.prompts.fields, *contract.image_fields}
        if isinstance(contract.size, PairsRule | DimensionsRule):
            skip.update(contract.size.fields)  # "size" says it (an aspect ratio is kept)
        if contract.seed_field is not None:
            skip.add(contract.seed_field)
        # Each plain value at any depth, named by its location (a nested one by its key,
        # ``imageGenerationConfig/cfgScale``).
        for path, value in plain_values(self.body):
            if path not in skip:
                params[path.key] = str(value)
        params["model_id"] = self.model_id
        return params

    def with_parameters(self) -> bytes:
        """The image file with :meth:`parameters` embedded (PNG text chunks, a JPEG comment,
        WebP XMP: see :mod:`sdxl_adapter.embedded`), keeping what the file already carries
        and every byte of its image data."""
        return with_parameters(self.data, self.parameters())

    def other_files(self) -> list[tuple[str, str, bytes]]:
        """What the call returned beyond its first image, so that none of it is lost: each
        as the tag its file name takes after the first image's, the extension, and the
        bytes: ``-2``, ``-3``... for more images (Titan's and Canvas's numberOfImages, with
        :meth:`parameters` embedded), ``-mask`` for the mask."""
        params = self.parameters()
        found = [(f"-{number}", self.extension, with_parameters(data, params))
                 for number, data in enumerate(self.images[1:], start=2) if data]
        if self.mask:
            found.append(("-mask", ".png", self.mask))
        return found

    def save_others(self, path: str | os.PathLike[str]) -> list[Path]:
        """Write :meth:`other_files` beside the image at ``path`` (``NAME-2.png``,
        ``NAME-mask.png``), each under a free name, never over a file; returns their paths."""
        from sdxl_adapter.output_names import free_name

        first = Path(path)
        return [write_atomically(free_name(first.parent, f"{first.stem}{tag}", suffix), data)
                for tag, suffix, data in self.other_files()]

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write :meth:`with_parameters` to ``path``. Atomic: an interrupted save leaves no
        partial file."""
        return write_atomically(path, self.with_parameters())


def plain_values(body: Mapping[str, Any], under: FieldPath | None = None) -> Iterator[
        tuple[FieldPath, str | int | float | bool]]:
    """Every string, number and boolean of a body's objects, with its location."""
    for name, value in body.items():
        path = under.child(name) if under is not None else FieldPath((name,))
        if isinstance(value, Mapping):
            yield from plain_values(value, path)
        elif isinstance(value, str | int | float | bool):
            yield path, value


def _is_negative(prompt: Prompt) -> bool:
    # The contract's definition: a weight below 0 makes a negative prompt.
    return prompt.weight < 0


def read_parameters(source: str | os.PathLike[str] | bytes) -> dict[str, str]:
    """The generation parameters a saved PNG, JPEG or WebP records (as
    :meth:`GenerationResult.parameters` returned them); other metadata is left out."""
    return read_embedded(source)


def output_format_of(path: str | os.PathLike[str]) -> str | None:
    """The output format a file name's extension names, if any."""
    return FORMATS_BY_EXTENSION.get(Path(path).suffix.lower())
