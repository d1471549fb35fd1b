"""One generated image with what produced it, and saving it with its parameters embedded."""

from __future__ import annotations

import io
import os
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from PIL import Image

from sdxl_adapter.pngtext import png_with_text, read_png_text, write_atomically
from sdxl_adapter.request import SDXLRequest

# Keywords of the text chunks save() writes are namespaced so they never collide with the
# chunks the service (or the mock) already put into the PNG.
PARAMETER_PREFIX = "sdxl:"
# Request fields recorded in the PNG when the request set them (seed and size are always
# recorded, from the result, as are the model id and the prompts).
RECORDED_FIELDS = ("steps", "cfg_scale", "style_preset", "sampler")


@dataclass(frozen=True)
class GenerationResult:
    """What one call produced. ``png`` is the image exactly as the service sent it."""

    png: bytes = field(repr=False)
    seed: int
    finish_reason: str
    model_id: str
    request_id: str | None
    body: dict[str, Any] = field(repr=False)
    """The request body that was sent."""
    request: SDXLRequest | None = field(default=None, repr=False)
    """The typed request, unless a raw body was sent unchecked."""

    @cached_property
    def image(self) -> Image.Image:
        """The PNG decoded by Pillow (on first access)."""
        image = Image.open(io.BytesIO(self.png))
        image.load()
        return image

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) of the image, read from the PNG header."""
        with Image.open(io.BytesIO(self.png)) as image:
            return image.size

    def parameters(self) -> dict[str, str]:
        """The generation parameters save() records, keyword (unprefixed) -> text."""
        prompts = self.body.get("text_prompts", [])
        negative = [p["text"] for p in prompts if _is_negative(p)]
        positive = [p["text"] for p in prompts if not _is_negative(p)]
        params = {"prompt": "\n".join(positive)}
        if negative:
            params["negative_prompt"] = "\n".join(negative)
        params["seed"] = str(self.seed)
        width, height = self.size
        params["size"] = f"{width}x{height}"
        for name in RECORDED_FIELDS:
            if name in self.body:
                params[name] = str(self.body[name])
        params["model_id"] = self.model_id
        return params

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the PNG to ``path`` with :meth:`parameters` added as text chunks, keeping the
        chunks it already has. Atomic: an interrupted save leaves no partial file."""
        texts = {PARAMETER_PREFIX + k: v for k, v in self.parameters().items()}
        return write_atomically(path, png_with_text(self.png, texts))


def _is_negative(prompt: dict[str, Any]) -> bool:
    # The contract's definition: a weight below 0 makes a negative prompt.
    weight = prompt.get("weight")
    return weight is not None and weight < 0


def read_parameters(source: str | os.PathLike[str] | bytes) -> dict[str, str]:
    """The generation parameters a saved PNG records (as :meth:`GenerationResult.parameters`
    returned them); other text chunks are left out, see :func:`read_png_text`."""
    return {
        key.removeprefix(PARAMETER_PREFIX): value
        for key, value in read_png_text(source).items()
        if key.startswith(PARAMETER_PREFIX)
    }
