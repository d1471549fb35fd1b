"""Which model an id names, as the client sees it: its contract, its lifecycle, what it
takes, and what to move to when it is retired. Everything here is read from the catalogue
(:mod:`bedrock_contract`); nothing names a model's fields.
"""

from __future__ import annotations

from dataclasses import dataclass

from bedrock_contract import ModelContract, ModelVersion, Resolved, default_catalogue
from bedrock_contract.lifecycle import EOL
from bedrock_contract.retired import replacement_for as replacement_for

# The family this library was first written for (the one the ``sdxl`` command is named
# after, and the source ``sdxl migrate`` moves bodies from).
SDXL_FAMILY = "stable-diffusion-xl-v1"


def sdxl_contract() -> ModelContract:
    return default_catalogue().family(SDXL_FAMILY)


SDXL_MODEL_ID = sdxl_contract().primary.id


def _default_model_id() -> str:
    # SDXL's stated replacement (its profile's "replacement": Stable Image Core v1:1), so
    # that a call naming no model goes to a live one; SDXL is past its end of life.
    replacement = sdxl_contract().replacement
    if replacement is None or default_catalogue().find(replacement) is None:
        raise ValueError(f"{SDXL_FAMILY}: its profile names no replacement in the catalogue")
    return replacement


DEFAULT_MODEL_ID = _default_model_id()


class UnknownModel(ValueError):
    """A model id, profile id or ARN that names no model of the catalogue."""

    def __init__(self, model_id: str) -> None:
        from bedrock_contract.suggest import closest

        ids = [c.id_to_call(v) for c, v in default_catalogue().versions() if v.described]
        near = closest(model_id, ids)
        if near:
            text = f"unknown model id {model_id!r}; did you mean {near!r}?"
        else:
            text = f"unknown model id {model_id!r}; known models: {', '.join(sorted(ids))}"
        super().__init__(f"{text} (see `sdxl models`)")
        self.model_id = model_id


def find_model(model_id: str) -> Resolved:
    """The family and version ``model_id`` names (plain id, ``us.`` profile id or ARN),
    whatever its lifecycle; :class:`UnknownModel` otherwise."""
    found = default_catalogue().find(model_id)
    if found is None:
        raise UnknownModel(model_id)
    return found


def contract_of(model_id: str) -> ModelContract:
    return find_model(model_id).contract


def is_sdxl(contract: ModelContract) -> bool:
    return contract.family == SDXL_FAMILY


def is_end_of_life(version: ModelVersion) -> bool:
    return version.lifecycle.state == EOL


@dataclass(frozen=True)
class Capabilities:
    """What a model takes and answers, for ``sdxl models``."""

    text_to_image: bool
    image_fields: tuple[str, ...]
    output_formats: tuple[str, ...]
    streaming: bool

    @property
    def takes(self) -> tuple[str, ...]:
        found = ("text to image",) if self.text_to_image else ()
        return found + (("image to image",) if self.image_fields else ())


def capabilities(contract: ModelContract) -> Capabilities:
    # Text to image: a body without an image field is valid (none is required).
    fields = tuple(p.key for p in contract.image_fields)
    text = not {p.top for p in contract.image_fields} & set(contract.required)
    return Capabilities(text, fields, contract.output_formats, contract.streaming)
