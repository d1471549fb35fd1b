"""A typed SDXL request: text to image, image to image or masking, by which fields are set.

Every field is optional except the prompt, and a field left as ``None`` is left out of the
body so the service applies its own default (the schema documents the defaults; nothing here
fills them in). Ranges, enums and sizes are checked by :meth:`SDXLRequest.validate`, which
runs the shared contract (:func:`bedrock_contract.check_request`).

    SDXLRequest(prompt="a lighthouse", negative_prompt="fog", size=(1152, 896), steps=40)
    SDXLRequest(prompt="in watercolour", init_image=Path("photo.png"), image_strength=0.4)
    SDXLRequest(prompt="a red door", init_image=img, mask_source="MASK_IMAGE_WHITE",
                mask_image=mask)
"""

from __future__ import annotations

import base64
import copy
import dataclasses
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import bedrock_contract
from bedrock_contract import ModelContract
from bedrock_contract.paths import FieldPath, merged
from sdxl_adapter.errors import InvalidRequest
from sdxl_adapter.images import ImageInput, image_bytes
from sdxl_adapter.models import contract_of, sdxl_contract

# A negative prompt given as plain text gets this weight; AWS's examples use -1. The contract
# only says that a weight below 0 makes a prompt negative.
NEGATIVE_PROMPT_WEIGHT = -1

Size = tuple[int, int]  # (width, height)

# Body fields the typed request holds under another shape than the wire's.
_PROMPTS = "text_prompts"
_SIZE_FIELDS = ("width", "height")
_IMAGE_FIELDS = ("init_image", "mask_image")


@dataclass(frozen=True)
class TextPrompt:
    """One prompt; ``weight`` None leaves the weight to the service."""

    text: str
    weight: float | None = None

    def to_json(self) -> dict[str, Any]:
        if self.weight is None:
            return {"text": self.text}
        return {"text": self.text, "weight": self.weight}


PromptInput = str | TextPrompt | Sequence[str | TextPrompt]


def _prompts(value: PromptInput | None, default_weight: float | None) -> tuple[TextPrompt, ...]:
    if value is None:
        return ()
    items = [value] if isinstance(value, (str, TextPrompt)) else list(value)
    prompts = []
    for item in items:
        if isinstance(item, str):
            item = TextPrompt(item)
        elif not isinstance(item, TextPrompt):
            raise TypeError(f"a prompt must be str or TextPrompt, not {type(item).__name__}")
        if item.weight is None and default_weight is not None:
            item = TextPrompt(item.text, default_weight)
        prompts.append(item)
    return tuple(prompts)


@dataclass(frozen=True, kw_only=True)
class SDXLRequest:
    """One SDXL request. Field names are the body's, except ``prompt``/``negative_prompt``
    (which make ``text_prompts``) and ``size`` (which makes ``width``/``height``).

    Inputs are normalised on construction: prompts become tuples of :class:`TextPrompt`,
    images become their encoded bytes.
    """

    prompt: PromptInput
    negative_prompt: PromptInput | None = None
    size: Size | None = None
    cfg_scale: float | None = None
    clip_guidance_preset: str | None = None
    sampler: str | None = None
    samples: int | None = None
    seed: int | None = None
    steps: int | None = None
    style_preset: str | None = None
    extras: Mapping[str, Any] | None = None
    init_image: ImageInput | None = None
    init_image_mode: str | None = None
    image_strength: float | None = None
    step_schedule_start: float | None = None
    step_schedule_end: float | None = None
    mask_source: str | None = None
    mask_image: ImageInput | None = None

    def __post_init__(self) -> None:
        # Frozen: normalised values are written once, here, through object.__setattr__.
        set_ = object.__setattr__
        set_(self, "prompt", _prompts(self.prompt, None))
        set_(self, "negative_prompt", _prompts(self.negative_prompt, NEGATIVE_PROMPT_WEIGHT))
        if self.size is not None:
            width, height = self.size
            set_(self, "size", (width, height))
        if self.extras is not None:
            set_(self, "extras", dict(self.extras))
        for name in _IMAGE_FIELDS:
            value = getattr(self, name)
            if value is not None:
                set_(self, name, image_bytes(value))

    @property
    def text_prompts(self) -> tuple[TextPrompt, ...]:
        """The prompts as sent: the prompt(s), then the negative prompt(s)."""
        return _prompts(self.prompt, None) + _prompts(self.negative_prompt, None)

    @property
    def mode(self) -> str:
        """Which request shape this is: text-to-image, image-to-image or masking."""
        if self.mask_source is not None:
            return "masking"
        return "image-to-image" if self.init_image is not None else "text-to-image"

    def to_body(self) -> dict[str, Any]:
        """The InvokeModel body: only the fields that were set, in the schema's order."""
        body: dict[str, Any] = {}
        for name in sdxl_contract().properties:
            if name == _PROMPTS:
                body[name] = [p.to_json() for p in self.text_prompts]
            elif name in _SIZE_FIELDS:
                if self.size is not None:
                    body[name] = self.size[_SIZE_FIELDS.index(name)]
            elif name in _IMAGE_FIELDS:
                if (image := getattr(self, name)) is not None:
                    body[name] = base64.b64encode(image).decode("ascii")
            elif (value := getattr(self, name)) is not None:
                body[name] = value
        return body

    def to_json(self) -> str:
        return json.dumps(self.to_body())

    @property
    def output_format(self) -> str:
        """The image format the answer comes in (SDXL's only one)."""
        return sdxl_contract().output_format(self.to_body())

    def validate(self) -> SDXLRequest:
        """Check against the contract; return self, or raise :class:`InvalidRequest` worded
        as Bedrock would word the refusal."""
        check(self.to_body())
        return self

    @classmethod
    def from_body(cls, raw: bytes | str | Mapping[str, Any]) -> SDXLRequest:
        """A request from a ready-made body (a dict, or JSON text or bytes), checked against
        the contract first. A body giving only one of width/height gets both (the missing
        one is the default, as the service reads it)."""
        body = check(raw).body
        fields: dict[str, Any] = {
            "prompt": tuple(TextPrompt(p["text"], p.get("weight")) for p in body[_PROMPTS])
        }
        if any(name in body for name in _SIZE_FIELDS):
            size = sdxl_contract().size
            assert isinstance(size, bedrock_contract.PairsRule)  # SDXL's rule: width x height
            fields["size"] = size.asked(body)
        for name, value in body.items():
            if name in _IMAGE_FIELDS:
                fields[name] = base64.b64decode(value)
            elif name != _PROMPTS and name not in _SIZE_FIELDS:
                fields[name] = value
        return cls(**fields)


def check(
    raw: bytes | str | Mapping[str, Any], contract: ModelContract | None = None
) -> bedrock_contract.ValidRequest:
    """:func:`bedrock_contract.check_request` (SDXL's contract unless another is given),
    raising this library's :class:`InvalidRequest`."""
    try:
        return bedrock_contract.check_request(contract or sdxl_contract(), raw)
    except bedrock_contract.InvalidRequestBody as err:
        raise InvalidRequest(err.message, err.violations) from err


def _check_fields_cover_schema() -> None:
    # A field added to the schema must get a home here, or to_body would silently drop it.
    held = {f.name for f in dataclasses.fields(SDXLRequest)} | {_PROMPTS, *_SIZE_FIELDS}
    missing = set(sdxl_contract().properties) - held
    if missing:
        raise ImportError(f"SDXLRequest has no field for request schema properties {missing}")


_check_fields_cover_schema()


# Keywords ModelRequest takes for a model whose prompts are not plain body fields (SDXL's
# weighted list): they go through the contract's prompt fields.
_PROMPT_KEYWORD, _NEGATIVE_KEYWORD = "prompt", "negative_prompt"


class ModelRequest:
    """A request for any model of the catalogue, built from its schema: fields are named as
    the model's body names them, and checked by the model's contract.

        ModelRequest("stability.stable-image-core-v1:1", prompt="a lighthouse",
                     aspect_ratio="16:9", output_format="jpeg", seed=7)
        ModelRequest("stability.sd3-5-large-v1:0", prompt="in watercolour",
                     image=Path("photo.png"), strength=0.6)

    An image field (one the schema encodes as base64) takes bytes, a path or a Pillow
    image. ``prompt`` and ``negative_prompt`` also work for a model whose prompts live
    elsewhere in the body (SDXL's ``text_prompts``). A field left out, or given as None, is
    left to the service's default.
    """

    def __init__(
        self, model_id: str, fields: Mapping[str, Any] | None = None, /, **more: Any
    ) -> None:
        self.model_id = model_id
        self.contract = contract_of(model_id)
        given = {k: v for k, v in {**(fields or {}), **more}.items() if v is not None}
        self._body = self._normalised(given)

    def _normalised(self, given: dict[str, Any]) -> dict[str, Any]:
        contract = self.contract
        prompts = contract.prompts
        positive, negative = given.get(_PROMPT_KEYWORD), given.get(_NEGATIVE_KEYWORD)
        if _PROMPT_KEYWORD not in contract.properties and positive is not None:
            del given[_PROMPT_KEYWORD]
            if negative is not None and _NEGATIVE_KEYWORD not in contract.properties:
                del given[_NEGATIVE_KEYWORD]
            given = merged(given, prompts.body_fields(_texts(positive), _texts(negative), given))
        for path in contract.image_fields:
            value = path.get(given)
            if value is not None and not isinstance(value, str | list):
                path.put(given, base64.b64encode(image_bytes(value)).decode("ascii"))
            elif isinstance(value, list):  # a list of images (Canvas's image variation)
                path.put(given, [v if isinstance(v, str)
                                 else base64.b64encode(image_bytes(v)).decode("ascii")
                                 for v in value])
        # The schema's order, then any key it does not know (which the check refuses).
        order = {name: i for i, name in enumerate(contract.properties)}
        return dict(sorted(given.items(), key=lambda kv: order.get(kv[0], len(order))))

    @classmethod
    def from_body(cls, model_id: str, raw: bytes | str | Mapping[str, Any]) -> ModelRequest:
        """A request from a ready-made body, checked against the model's contract first."""
        return cls(model_id, check(raw, contract_of(model_id)).body)

    def to_body(self) -> dict[str, Any]:
        """The InvokeModel body (a copy)."""
        return dict(self._body)

    def to_json(self) -> str:
        return json.dumps(self._body)

    @property
    def output_format(self) -> str:
        """The image format the body asks for (the model's default when it names none)."""
        return self.contract.output_format(self._body)

    def validate(self) -> ModelRequest:
        """Check against the model's contract; return self, or raise :class:`InvalidRequest`
        worded as Bedrock would word the refusal."""
        check(self._body, self.contract)
        return self

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ModelRequest):
            return NotImplemented
        return (self.model_id, self._body) == (other.model_id, other._body)

    def __hash__(self) -> int:
        return hash((self.model_id, self.to_json()))

    def __repr__(self) -> str:
        return f"ModelRequest({self.model_id!r}, {elided(self.contract, self._body)!r})"


def _texts(value: Any) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else [str(v) for v in value]


def elided(contract: ModelContract, body: Mapping[str, Any]) -> dict[str, Any]:
    """The body with each image (the contract's image fields, at any depth) replaced by a
    note of its size, for printing."""
    shown = copy.deepcopy(dict(body))
    for key, data in contract.body_images(body):
        FieldPath.of_key(key).put(shown, f"<base64 image, {len(data)} characters elided>")
    return shown


AnyRequest = SDXLRequest | ModelRequest
