"""The contract suite's checks, as data: a name, a request body, and what the contract says
the service does with it.

Bodies are built from the request schema (a range's bound plus one, a value outside an enum,
a size that is not a pair) and the expected outcome is computed by :mod:`bedrock_contract`
itself: the size an accepted body gets, the seed rule, and for a refused body the exact
Bedrock-worded message of :func:`bedrock_contract.check_request`; model-id checks read
``schemas/sdxl-models.json``. Nothing here restates a rule. Checks marked ``live`` make the
small subset run against the real service. :mod:`sdxl_adapter.contract.runner` runs them.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

import botocore.session
from PIL import Image

import bedrock_contract
from bedrock_contract.loader import field as schema_field
from bedrock_contract.sizes import Size, format_size
from sdxl_adapter.client import SERVICE_NAME
from sdxl_adapter.response import SUCCESS

PROMPT = "a lighthouse at dusk, contract check"
NEGATIVE_PROMPT = {"text": "fog", "weight": -1}
EXPLICIT_SEED = 42  # any non-zero seed: the service must echo it
REFUSAL_CODE = "ValidationException"
# The range refusal in the live subset: the one whose wording the service is known to use
# for its own bound checks ("... is not less or equal to ...").
LIVE_RANGE_FIELD = "steps"
# Foundation-model ARNs name a region; the mock accepts any, the real service its own.
ARN_REGION = "us-east-1"


# --- expected outcomes --------------------------------------------------------------------


@dataclass(frozen=True)
class Difference:
    """One way the target's answer differs from the contract."""

    aspect: str
    expected: str
    got: str


@dataclass(frozen=True)
class Answer:
    """What the target answered: an error (code, message, status) or a response body."""

    status: int | None
    body: bytes = b""
    code: str | None = None
    message: str | None = None

    def describe(self) -> str:
        if self.code is None:
            return f"success (HTTP {self.status})"
        return f"{self.code} (HTTP {self.status}): {self.message}"


@dataclass(frozen=True)
class Generates:
    """The body is accepted: one schema-valid artifact per sample, a PNG of ``size``, and
    ``seed`` echoed (or, when ``seed`` is None, a non-zero seed the service picked)."""

    size: Size
    samples: int
    seed: int | None

    def describe(self) -> str:
        seed = f"seed {self.seed} echoed" if self.seed else "a non-zero seed picked"
        return f"generates {format_size(self.size)}, {seed}"

    def compare(self, answer: Answer) -> list[Difference]:
        if answer.code is not None:
            return [Difference("outcome", "success", answer.describe())]
        try:
            body = bedrock_contract.check_response(answer.body)
        except bedrock_contract.InvalidResponseBody as err:
            return [Difference("response body", "satisfies the response schema", err.message)]
        found: list[Difference] = []
        artifacts = body["artifacts"]
        if len(artifacts) != self.samples:
            found.append(Difference("artifacts", str(self.samples), str(len(artifacts))))
        artifact = artifacts[0]
        if artifact["finishReason"] != SUCCESS:
            found.append(Difference("finishReason", SUCCESS, artifact["finishReason"]))
        found += _image_differences(artifact["base64"], self.size)
        if self.seed and artifact["seed"] != self.seed:
            found.append(Difference("seed", f"{self.seed} (echoed)", str(artifact["seed"])))
        if not self.seed and artifact["seed"] == 0:
            found.append(Difference("seed", "non-zero (the service picks one for 0)", "0"))
        return found


def _image_differences(data: str, size: Size) -> list[Difference]:
    # check_response has made sure the image is a base64 PNG; what is left is its size.
    with Image.open(io.BytesIO(base64.b64decode(data))) as image:
        got = image.size
    if got != size:
        return [Difference("image size", format_size(size), format_size(got))]
    return []


@dataclass(frozen=True)
class Refused:
    """The body is refused with ``code``, HTTP ``status`` and exactly ``message``."""

    code: str
    status: int
    message: str

    def describe(self) -> str:
        return f"refused: {self.code}"

    def compare(self, answer: Answer) -> list[Difference]:
        if answer.code is None:
            return [Difference("outcome", f"{self.code}: {self.message}", answer.describe())]
        found = []
        if answer.code != self.code:
            found.append(Difference("error code", self.code, answer.code))
        if answer.status != self.status:
            found.append(Difference("HTTP status", str(self.status), str(answer.status)))
        if answer.message != self.message:
            found.append(Difference("message", self.message, str(answer.message)))
        return found


Expectation = Generates | Refused


@dataclass(frozen=True)
class Check:
    name: str
    body: dict[str, Any]
    expect: Expectation
    live: bool = False  # in the small subset run against the real service
    model_id: str | None = None  # the id to call instead of the run's model id


# --- building checks from the contract ----------------------------------------------------


def base_body(**fields: Any) -> dict[str, Any]:
    return {"text_prompts": [{"text": PROMPT}], **fields}


def cheapest() -> dict[str, Any]:
    """The fewest steps the contract allows: the cheapest and fastest generation."""
    return {"steps": schema_field("steps")["minimum"]}


@cache
def _status_of(code: str) -> int:
    model = botocore.session.get_session().get_service_model(SERVICE_NAME)
    status: int = model.shape_for(code).metadata["error"]["httpStatusCode"]
    return status


def generates(name: str, body: dict[str, Any], *, live: bool = False) -> Check:
    """A check that ``body`` is accepted; what comes back is worked out by the contract."""
    valid = bedrock_contract.check_request(body)  # a refusal here is a bug in the suite
    init = valid.images.get("init_image")
    size = init.size if init is not None else bedrock_contract.size_of(body)
    samples = body.get("samples", schema_field("samples")["default"])
    return Check(name, body, Generates(size, samples, body.get("seed") or None), live)


def refused(name: str, body: dict[str, Any], *, live: bool = False) -> Check:
    """A check that ``body`` is refused with the message the contract words for it."""
    try:
        bedrock_contract.check_request(body)
    except bedrock_contract.InvalidRequestBody as err:
        if len(err.violations) != 1:
            # Several broken rules would make the check depend on the order they are listed.
            raise ValueError(f"contract check {name!r} breaks more than one rule: {err}") from None
        return Check(name, body, Refused(REFUSAL_CODE, _status_of(REFUSAL_CODE), err.message),
                     live)
    raise ValueError(f"contract check {name!r}: the contract accepts this body")


@cache
def png_base64(size: Size, mode: str = "RGB", paint: Callable[[Image.Image], None] | None = None
               ) -> str:
    image = Image.new(mode, size, (60, 110, 170, 255)[: len(mode)] if mode != "L" else 0)
    if paint is not None:
        paint(image)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return base64.b64encode(out.getvalue()).decode("ascii")


def _paint_right_half(fill: Any) -> Callable[[Image.Image], None]:
    """Paints the right half of an image: the mask's white half, or the transparent half."""
    return lambda image: image.paste(fill, (image.width // 2, 0, image.width, image.height))


TRANSPARENT_RIGHT_HALF = _paint_right_half((0, 0, 0, 0))
WHITE_RIGHT_HALF = _paint_right_half(255)


def other_sizes() -> list[Size]:
    default = bedrock_contract.DEFAULT_SIZE
    return [size for size in bedrock_contract.allowed_sizes() if size != default]


def accepted_checks() -> list[Check]:
    default, first_other = bedrock_contract.DEFAULT_SIZE, other_sizes()[0]
    seed = schema_field("seed")
    checks = [
        generates(f"text-to-image {format_size(default)}, explicit seed echoed",
                  base_body(seed=EXPLICIT_SEED, **cheapest()), live=True),
        generates(f"text-to-image {format_size(first_other)}, seed 0 picks a non-zero seed",
                  base_body(width=first_other[0], height=first_other[1], seed=0, **cheapest()),
                  live=True),
        generates("text-to-image, no seed: the service picks a non-zero seed", base_body()),
        generates("text-to-image, the largest seed is echoed", base_body(seed=seed["maximum"])),
    ]
    checks += [
        generates(f"text-to-image {format_size(size)}", base_body(width=size[0], height=size[1]))
        for size in other_sizes()[1:]
    ]
    checks.append(generates("text-to-image, every optional field set", every_field_body()))
    init = png_base64(first_other)
    checks += [
        generates(f"image-to-image {mode}: the output has the init image's size",
                  base_body(init_image=init, init_image_mode=mode))
        for mode in schema_field("init_image_mode")["enum"]
    ]
    checks += [generates(f"masking {source}", masking_body(source))
               for source in schema_field("mask_source")["enum"]]
    return checks


def every_field_body() -> dict[str, Any]:
    """Each optional text-to-image field at a value the schema allows (its last enum value,
    its upper bound), and a negative prompt."""
    body = base_body(seed=EXPLICIT_SEED)
    body["text_prompts"].append(dict(NEGATIVE_PROMPT))
    for name in ("cfg_scale", "samples", "clip_guidance_preset", "sampler", "style_preset"):
        spec = schema_field(name)
        body[name] = spec["enum"][-1] if "enum" in spec else spec["maximum"]
    return {**body, **cheapest()}


def masking_body(source: str) -> dict[str, Any]:
    """A masking body for ``source``: an init image whose right half is transparent, and a
    mask image (white right half) only where the contract asks for one."""
    size = bedrock_contract.DEFAULT_SIZE
    body = base_body(init_image=png_base64(size, "RGBA", TRANSPARENT_RIGHT_HALF),
                     mask_source=source)
    try:
        bedrock_contract.check_request(body)
    except bedrock_contract.InvalidRequestBody:
        body["mask_image"] = png_base64(size, "L", WHITE_RIGHT_HALF)
    return body


def valid_value(name: str) -> Any:
    """A value the schema allows for field ``name`` on its own."""
    spec = schema_field(name)
    if spec.get("contentEncoding") == "base64":
        return png_base64(bedrock_contract.DEFAULT_SIZE)
    if "enum" in spec:
        return spec["enum"][0]
    if "default" in spec:
        return spec["default"]
    return spec.get("minimum", spec.get("maximum"))


def with_requirements(body: dict[str, Any], name: str) -> dict[str, Any]:
    """``body`` plus the fields ``name`` requires (the schema's ``dependentRequired``)."""
    needs = bedrock_contract.request_schema().get("dependentRequired", {})
    for needed in needs.get(name, ()):
        if needed not in body:
            body[needed] = valid_value(needed)
            body = with_requirements(body, needed)
    return body


def _with(name: str, value: Any) -> dict[str, Any]:
    return with_requirements(base_body(**{name: value}), name)


def refused_checks() -> list[Check]:
    properties = bedrock_contract.request_schema()["properties"]
    text = properties["text_prompts"]["items"]["properties"]["text"]
    steps = schema_field("steps")
    checks = [
        refused("no text_prompts", {}, live=True),
        refused("text_prompts empty", base_body(text_prompts=[])),
        refused("prompt text too long",
                base_body(text_prompts=[{"text": "x" * (text["maxLength"] + 1)}])),
        refused("unknown key", base_body(prompt=PROMPT)),
        refused("steps of the wrong type", base_body(steps=str(steps["default"]))),
        refused("a size that is not an allowed pair", base_body(width=not_a_pair()[0],
                                                                height=not_a_pair()[1])),
        refused("init_image with a width", _with("init_image", valid_value("init_image"))
                | {"width": bedrock_contract.DEFAULT_SIZE[0]}),
        refused("init_image of a size that is not allowed",
                base_body(init_image=png_base64(not_a_pair()))),
    ]
    for name, spec in properties.items():
        if "maximum" in spec:
            checks.append(refused(f"{name} above its maximum", _with(name, spec["maximum"] + 1),
                                  live=name == LIVE_RANGE_FIELD))
        if "minimum" in spec:
            checks.append(refused(f"{name} below its minimum", _with(name, spec["minimum"] - 1)))
        if "enum" in spec:
            checks.append(refused(f"{name} outside its enum", _with(name, f"not-a-{name}")))
    for name, needed in bedrock_contract.request_schema().get("dependentRequired", {}).items():
        checks.append(refused(f"{name} without {', '.join(needed)}", _missing_only(name)))
    return checks


def _missing_only(name: str) -> dict[str, Any]:
    """A body with ``name`` but not the fields it requires, and no other broken rule: some
    values of a field bring requirements of their own (mask_source WHITE wants a mask)."""
    spec = schema_field(name)
    values = spec["enum"] if "enum" in spec else [valid_value(name)]
    bodies = [base_body(**{name: value}) for value in values]
    return next(b for b in bodies if len(bedrock_contract.request_violations(b)) == 1)


def not_a_pair() -> Size:
    """A (width, height) made of allowed sides that is not itself an allowed pair."""
    sizes = bedrock_contract.allowed_sizes()
    return next((w, h) for w, _ in sizes for _, h in sizes if (w, h) not in sizes)


def model_id_checks() -> list[Check]:
    """The model named by its ARN is served; retired and unknown ids are refused as the
    contract's model file says (``schemas/sdxl-models.json``)."""
    body = base_body(**cheapest())
    arn = f"arn:aws:bedrock:{ARN_REGION}::foundation-model/{bedrock_contract.MODEL_ID}"
    found = [Check("model id as its ARN", body, generates("arn", body).expect, model_id=arn)]
    for index, retired in enumerate(bedrock_contract.RETIRED_MODEL_IDS):
        refusal = bedrock_contract.RETIRED
        found.append(Check(f"retired model id {retired}", body,
                           Refused(refusal.error, _status_of(refusal.error), refusal.message),
                           live=index == 0, model_id=retired))
    unknown = bedrock_contract.UNKNOWN_MODEL
    found.append(Check("unknown model id", body,
                       Refused(unknown.error, _status_of(unknown.error), unknown.message),
                       model_id=f"{bedrock_contract.MODEL_ID}-no-such-version"))
    return found


@cache
def checks() -> tuple[Check, ...]:
    """Every check of the suite, the accepted bodies first."""
    return (*accepted_checks(), *refused_checks(), *model_id_checks())


def live_checks() -> tuple[Check, ...]:
    """The small subset for the real service: the cheapest generations that still show the
    size and seed rules, and refusals (which generate nothing)."""
    return tuple(check for check in checks() if check.live)


def billed_calls(selected: Iterable[Check]) -> int:
    """How many of ``selected`` generate an image (the calls the service bills)."""
    return sum(isinstance(check.expect, Generates) for check in selected)


def cost_warning(selected: tuple[Check, ...]) -> str:
    """What a live run of ``selected`` will cost, said before it runs."""
    billed = billed_calls(selected)
    return (
        f"Live mode: {len(selected)} calls to Amazon Bedrock, {billed} of them generate an "
        f"image and are billed at the SDXL per-image price; the other {len(selected) - billed} "
        "send bodies the service refuses."
    )
