"""The contract suite's checks, as data: a model id, a request body, and what the contract
says the service does with it.

Checks are built from each family's folder alone, so a new folder is covered with no code
change: bodies come from the request schema (a range's bound plus one, a value outside an
enum, a required field left out, a size the rule does not give), and the expected outcome is
computed by :mod:`bedrock_contract` itself: the size and format an accepted body gets, the
seed rule, and for a refused body the exact Bedrock-worded message of ``check_request``;
model-id checks read the profile (ids, retired versions, inference profiles, streaming).
Checks marked ``live`` make the small subset run against the real service.
:mod:`sdxl_adapter.contract.runner` runs them.
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import io
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from PIL import Image

from bedrock_contract import (
    AspectRatioRule,
    InvalidRequestBody,
    InvalidResponseBody,
    ModelContract,
    PairsRule,
    Size,
    check_request,
    check_response,
    default_catalogue,
    format_size,
    request_violations,
)
from bedrock_contract.dialect import required_with
from bedrock_contract.lifecycle import EOL
from bedrock_contract.paths import FieldPath, leaves, merged
from bedrock_contract.service import INVOKE, INVOKE_STREAM, error_statuses
from bedrock_contract.sizes import DimensionsRule
from bedrock_contract.violation import pointer_token

PROMPT = "a lighthouse at dusk, contract check"
EXPLICIT_SEED = 42  # any non-zero seed: the service must echo it
REFUSAL_CODE = "ValidationException"
# Foundation-model ARNs name a region; the mock accepts any, the real service its own.
ARN_REGION = "us-east-1"
PILLOW_FORMATS = {"png": "PNG", "jpeg": "JPEG", "webp": "WEBP"}


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
    """The body is accepted: one image of ``size`` in ``output_format``, the model's success
    finish reason, and ``seed`` echoed (or, when ``seed`` is None, a non-zero seed the
    service picked)."""

    contract: ModelContract
    size: Size
    output_format: str
    seed: int | None

    def describe(self) -> str:
        if self.contract.response.seed is None:  # an answer that names no seed
            return f"generates a {format_size(self.size)} {self.output_format}"
        seed = f"seed {self.seed} echoed" if self.seed else "a non-zero seed picked"
        return f"generates a {format_size(self.size)} {self.output_format}, {seed}"

    def compare(self, answer: Answer) -> list[Difference]:
        if answer.code is not None:
            return [Difference("outcome", "success", answer.describe())]
        try:
            body = check_response(self.contract, answer.body, self.output_format)
        except InvalidResponseBody as err:
            return [Difference("response body", "satisfies the response schema", err.message)]
        shape = self.contract.response
        artifacts = shape.artifacts(body)
        if len(artifacts) != 1:
            return [Difference("images", "1", str(len(artifacts)))]
        artifact, found = artifacts[0], []
        if artifact.finish_reason != shape.success:
            found.append(
                Difference("finish reason", str(shape.success), str(artifact.finish_reason))
            )
        if artifact.image is None:
            return [*found, Difference("image", "one image", "none")]
        found += _image_differences(artifact.image, self.size)
        if shape.seed is None:
            return found  # Titan's and Canvas's answers name no seed
        if self.seed and artifact.seed != self.seed:
            found.append(Difference("seed", f"{self.seed} (echoed)", str(artifact.seed)))
        if not self.seed and not artifact.seed:
            found.append(
                Difference("seed", "non-zero (the service picks one for 0)", str(artifact.seed))
            )
        return found


def _image_differences(data: str, size: Size) -> list[Difference]:
    # check_response has made sure the image is base64 of the format; what is left is its size.
    with Image.open(io.BytesIO(base64.b64decode(data))) as image:
        got = image.size
    if got != size:
        return [Difference("image size", format_size(size), format_size(got))]
    return []


@dataclass(frozen=True)
class Refused:
    """The call is refused with ``code``, HTTP ``status`` and exactly ``message``."""

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
    family: str
    name: str
    model_id: str
    body: dict[str, Any]
    expect: Expectation
    live: bool = False  # in the small subset run against the real service
    operation: str = INVOKE
    live_only: bool = False  # what the service does today, not what the mock does by default


def _check(contract: ModelContract, name: str, model_id: str, body: dict[str, Any],
           expect: Expectation, live: bool = False, **more: Any) -> Check:
    return Check(contract.family, f"{contract.family}: {name}", model_id, body, expect, live,
                 **more)


def refusal(code: str, message: str) -> Refused:
    return Refused(code, error_statuses()[code], message)


# --- bodies from the schema -----------------------------------------------------------------


@cache
def png_base64(size: Size) -> str:
    """A PNG with an alpha channel (masks read it; other models take any PNG)."""
    image = Image.new("RGBA", size, (60, 110, 170, 255))
    image.paste((0, 0, 0, 0), (size[0] // 2, 0, size[0], size[1]))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return base64.b64encode(out.getvalue()).decode("ascii")


def image_size(contract: ModelContract) -> Size:
    """An input image size the family's rules accept, and not its default output size, so
    an answer that ignored the input image would show: the size rule's last choice."""
    rule = contract.size
    if isinstance(rule, PairsRule):
        return rule.allowed[-1]
    if isinstance(rule, AspectRatioRule):
        return rule.pixels[rule.choices()[-1]]
    if isinstance(rule, DimensionsRule):
        return (rule.default[0] // 2, rule.default[1] * 5 // 16)
    return rule.example


def valid_value(contract: ModelContract, name: str | FieldPath) -> Any:
    """A value the schema allows for field ``name`` (a top-level name, or a location) on its
    own."""
    path = name if isinstance(name, FieldPath) else FieldPath((name,))
    spec = contract.field(path)
    if path in contract.image_fields:
        image = png_base64(image_size(contract))
        return [image] if spec.get("type") == "array" else image
    if path in contract.prompts.fields:
        return PROMPT
    if "enum" in spec:
        return spec["enum"][0]
    if "default" in spec:
        return spec["default"]
    if spec.get("type") in ("number", "integer"):
        return spec.get("minimum", spec.get("maximum", 1))
    if spec.get("type") == "array" and path == contract.prompts.list_field:
        return [{contract.prompts.text_key: PROMPT}]
    if spec.get("type") == "object":
        return {}  # its required fields are filled in as the refusals name them
    if spec.get("type") == "array":
        item = spec.get("items", {})
        return [item["enum"][0] if "enum" in item else "#" + "0" * 6] * spec.get("minItems", 1)
    return "x" * max(1, spec.get("minLength", 1))


def put(body: Mapping[str, Any], path: str | FieldPath, value: Any) -> dict[str, Any]:
    """A copy of ``body`` with ``value`` at ``path`` (a top-level name, or a location)."""
    found = copy.deepcopy(dict(body))
    (path if isinstance(path, FieldPath) else FieldPath((path,))).put(found, value)
    return found


def without(body: Mapping[str, Any], path: str | FieldPath) -> dict[str, Any]:
    return (path if isinstance(path, FieldPath) else FieldPath((path,))).without(body)


# What a refusal says is missing: a required key, or one a present field requires, in the
# object the violation's pointer names.
_MISSING = re.compile(r"^#(?P<at>[^:]*): (?:required key \[(?P<a>[^\]]+)\] not found|"
                      r"property \[(?P<b>[^\]]+)\] is required)")


def _missing(violation: object) -> FieldPath | None:
    found = _MISSING.match(str(violation))
    if found is None:
        return None
    name = found["a"] or found["b"]
    at = found["at"].removeprefix("/")
    return FieldPath.of_key(f"{at}/{pointer_token(name)}" if at else pointer_token(name))


def completed(contract: ModelContract, body: dict[str, Any]) -> dict[str, Any] | None:
    """``body`` with every field it still needs (as the refusals name them, or as a
    top-level "one of these" rule asks), or None if it cannot be made valid that way."""
    body = copy.deepcopy(body)
    for _ in range(len(contract.properties) + 8):  # a nested field is a step of its own
        # The schema alone first: the whole check decodes every image, each time.
        problems = request_violations(contract, body)
        if not problems:
            try:
                check_request(contract, body)
            except InvalidRequestBody as err:
                problems = err.violations
            else:
                return body
        if _fill_first_branch(contract, body):
            continue
        missing = [p for p in map(_missing, problems) if p is not None]
        missing = [p for p in missing if _described(contract, p)]
        if not missing or any(p.has(body) for p in missing):
            return None
        for path in missing:
            path.put(body, valid_value(contract, path))
    return None


def _described(contract: ModelContract, path: FieldPath) -> bool:
    try:
        contract.field(path)
    except KeyError:
        return False
    return True


def _fill_first_branch(contract: ModelContract, body: dict[str, Any]) -> bool:
    """A top-level anyOf of "one of these fields" branches (outpaint's "at least one
    direction"): sets the first unmet branch's fields at their minimum; False if none."""
    branches = contract.request_schema.get("anyOf", ())
    if any(all(n in body for n in b.get("required", ())) for b in branches):
        return False
    for branch in branches:
        needed = [n for n in branch.get("required", ()) if n not in body]
        if needed:
            for name in needed:
                low = branch.get("properties", {}).get(name, {}).get("minimum")
                body[name] = low if low is not None else valid_value(contract, name)
            return True
    return False


def minimal_body(contract: ModelContract, **fields: Any) -> dict[str, Any]:
    """The required fields (and those they need) with valid values, plus ``fields``."""
    body = {name: valid_value(contract, name) for name in contract.required}
    if contract.prompts.list_field is not None:
        body = put(body, contract.prompts.list_field, [{contract.prompts.text_key: PROMPT}])
    found = completed(contract, merged(body, fields))
    # A model whose body is chosen by a field's value (Canvas's taskType): its first value.
    choices = ((name, spec["enum"][0]) for name, spec in contract.properties.items()
               if "enum" in spec and name not in body)
    while found is None and (choice := next(choices, None)) is not None:
        found = completed(contract, merged(put(body, choice[0], choice[1]), fields))
    if found is None:
        raise ValueError(f"{contract.family}: no valid body with {fields} (a suite bug)")
    return found


def with_cheapest(contract: ModelContract, body: dict[str, Any]) -> dict[str, Any]:
    """``body`` with the profile's ``cheapest`` fields at their minimum (SDXL: the fewest
    steps): the cheapest, fastest generation."""
    for name in contract.cheapest:
        body = put(body, FieldPath.parse(name), contract.field(FieldPath.parse(name))["minimum"])
    return body


# --- checks ---------------------------------------------------------------------------------


def generates(contract: ModelContract, name: str, body: dict[str, Any], *,
              model_id: str | None = None, live: bool = False) -> Check:
    """A check that ``body`` is accepted; what comes back is worked out by the contract."""
    valid = check_request(contract, body)  # a refusal here is a bug in the suite
    size = contract.output_size(valid.body, valid.images)
    seed = contract.seed_of(valid.body)
    expect = Generates(contract, size, contract.output_format(valid.body), seed or None)
    return _check(contract, name, model_id or contract.invocation_id, body, expect, live)


def refused(contract: ModelContract, name: str, body: dict[str, Any], *,
            live: bool = False) -> Check | None:
    """A check that ``body`` is refused with the message the contract words for it; None
    when it breaks no rule or several (the order of several is not this suite's to pin)."""
    try:
        check_request(contract, body)
    except InvalidRequestBody as err:
        if len(err.violations) != 1:
            return None
        return _check(contract, name, contract.invocation_id, body,
                      refusal(REFUSAL_CODE, err.message), live)
    return None


def accepted_checks(contract: ModelContract) -> Iterator[Check]:
    base = minimal_body(contract)
    yield generates(contract, "the required fields only", base,
                    live=contract.seed_field is None)
    if contract.seed_field is not None and contract.response.seed is not None:
        seed = contract.seed_field
        yield generates(contract, "an explicit seed is echoed",
                        with_cheapest(contract, put(base, seed, EXPLICIT_SEED)), live=True)
        yield generates(contract, "seed 0 picks a non-zero seed",
                        with_cheapest(contract, put(base, seed, 0)), live=True)
        yield generates(contract, "the largest seed is echoed",
                        put(base, seed, contract.seed_range()[1]))
    yield from size_checks(contract, base)
    if contract.response.format_field is not None:
        for fmt in contract.output_formats:
            yield generates(contract, f"output_format {fmt}",
                            put(base, contract.response.format_field, fmt))
    yield from enum_value_checks(contract, base)


def size_checks(contract: ModelContract, base: dict[str, Any]) -> Iterator[Check]:
    rule = contract.size
    if isinstance(rule, PairsRule):
        for size in rule.allowed:
            yield generates(contract, f"size {format_size(size)}",
                            merged(base, rule.body_fields(size)))
    elif isinstance(rule, AspectRatioRule):
        for ratio in rule.choices():
            yield generates(contract, f"aspect ratio {ratio}", put(base, rule.field, ratio))


def enum_value_checks(contract: ModelContract, base: dict[str, Any]) -> Iterator[Check]:
    """Every value of every other enum field, with what it needs (image to image, masks;
    another task's own fields)."""
    covered = {*contract.size.fields, contract.response.format_field}
    for path, spec in leaves(contract.request_schema):
        if path in covered or "enum" not in spec:
            continue
        for value in spec["enum"]:
            body = completed(contract, put(base, path, value))
            if body is None and path.parent is None:
                # Another task's (Canvas's taskType): the value alone, and what it needs.
                body = completed(contract, {path.name: value})
            if body is not None:
                yield generates(contract, f"{path.key} {value}", body)


def refused_checks(contract: ModelContract) -> Iterator[Check | None]:
    base = minimal_body(contract)
    for name in contract.required:
        yield refused(contract, f"no {name}", without(base, name),
                      live=name == contract.required[0])
    yield refused(contract, "an unknown key", {**base, "no_such_field": 1})
    for path, spec in leaves(contract.request_schema):
        yield from _field_refusals(contract, base, path, spec)
    for name, needed in required_with(contract.request_schema).items():
        body = put(base, name, valid_value(contract, name))
        yield refused(contract, f"{name} without {', '.join(needed)}",
                      {k: v for k, v in body.items() if k not in needed})
    if isinstance(contract.size, PairsRule):
        pair = not_a_pair(contract.size)
        yield refused(contract, "a size that is not an allowed pair",
                      merged(base, contract.size.body_fields(pair)))
    for path in contract.image_fields:
        rule = contract.image_rule(path)
        if contract.field(path).get("type") == "array":
            continue  # a list of images: its items' rule is checked with the list's tasks
        with_image = completed(contract, put(base, path, valid_value(contract, path)))
        if with_image is None:
            continue
        if rule.min_side is not None:
            small = (rule.min_side - 1, image_size(contract)[1])
            yield refused(contract, f"{path.key} below its smallest side",
                          put(with_image, path, png_base64(small)))
        if rule.allowed_sizes and isinstance(contract.size, PairsRule):
            yield refused(contract, f"{path.key} of a size that is not allowed",
                          put(with_image, path, png_base64(not_a_pair(contract.size))))


def _field_refusals(contract: ModelContract, base: dict[str, Any], path: FieldPath,
                    spec: Mapping[str, Any]) -> Iterator[Check | None]:
    # The field set, with whatever it needs (an init image for image_strength, say), so the
    # only rule the body breaks is the one under test.
    context = completed(contract, put(base, path, valid_value(contract, path)))
    if context is None and path.parent is not None:
        # Another task's field (Canvas's /inPaintingParams/...): that task's body.
        context = _task_body(contract, path)
    context = context or base
    name = path.key

    def with_value(value: Any) -> dict[str, Any]:
        return put(context, path, value)

    if "maximum" in spec:
        # Live: the seed's bound (the AWS pages disagree on it) and its wording.
        yield refused(contract, f"{name} above its maximum", with_value(spec["maximum"] + 1),
                      live=path == contract.seed_field)
    if "minimum" in spec:
        yield refused(contract, f"{name} below its minimum", with_value(spec["minimum"] - 1))
    if "enum" in spec:
        yield refused(contract, f"{name} outside its enum", with_value(f"not-a-{name}"))
    if "maxLength" in spec:
        yield refused(contract, f"{name} too long", with_value("x" * (spec["maxLength"] + 1)))
    if spec.get("type") in ("integer", "number"):
        wrong = str(valid_value(contract, path))
        yield refused(contract, f"{name} of the wrong type", with_value(wrong))
    if "multipleOf" in spec and "minimum" in spec:
        yield refused(contract, f"{name} not a multiple of {spec['multipleOf']}",
                      with_value(spec["minimum"] + 1))
    if spec.get("type") == "string" and path not in contract.image_fields:
        yield refused(contract, f"{name} of the wrong type", with_value(7))


def _task_body(contract: ModelContract, path: FieldPath) -> dict[str, Any] | None:
    """A valid body that has ``path``, for a model whose fields depend on another's value
    (Canvas's taskType): the body of the value whose body holds the field's object."""
    for body in _task_bodies(contract):
        if path.top in body:
            found = completed(contract, put(body, path, valid_value(contract, path)))
            if found is not None:
                return found
    return None


@cache
def _task_bodies(contract: ModelContract) -> tuple[dict[str, Any], ...]:
    """A valid body for each value of each top-level enum that makes one alone."""
    found = (completed(contract, {name: value}) for name, spec in contract.properties.items()
             for value in spec.get("enum", ()))
    return tuple(body for body in found if body is not None)


def not_a_pair(rule: PairsRule) -> Size:
    """A (width, height) made of allowed sides that is not itself an allowed pair."""
    sizes = rule.allowed
    return next((w, h) for w, _ in sizes for _, h in sizes if (w, h) not in sizes)


def model_id_checks(contract: ModelContract) -> Iterator[Check]:
    """Each described id (and its ARN, and each inference profile) served; older ids
    refused as retired; an unknown id and streaming (where the model lacks it) refused."""
    words = default_catalogue().words
    body = with_cheapest(contract, minimal_body(contract))
    for version in contract.models:
        if not version.described:
            yield _check(contract, f"retired model id {version.id}", version.id, body,
                         refusal(*words.end_of_life), live=version is _first_retired(contract))
            continue
        arn = f"arn:aws:bedrock:{ARN_REGION}::foundation-model/{version.id}"
        if contract.in_region:
            yield generates(contract, f"{version.id} as its ARN", body, model_id=arn)
        else:
            for named in (version.id, arn):
                on_demand = words.on_demand_unsupported
                yield _check(contract, f"{named} called on demand is refused", named, body,
                             refusal(on_demand.error, on_demand.message.format(model_id=named)),
                             live=named == version.id)
        for geography in contract.inference_profiles:
            yield generates(contract, f"{version.id} through the {geography}. profile", body,
                            model_id=f"{geography}.{version.id}")
    primary = contract.invocation_id
    yield _check(contract, "unknown model id", f"{primary}-no-such-version", body,
                 refusal(*words.unknown_model))
    if not contract.streaming:
        yield _check(contract, "response streaming is refused", primary, body,
                     refusal(*words.streaming_unsupported), operation=INVOKE_STREAM)


def _first_retired(contract: ModelContract) -> Any:
    return next((m for m in contract.models if not m.described), None)


def end_of_life_checks(contract: ModelContract) -> Iterator[Check]:
    """Described versions past their end of life today: the live service refuses them (the
    mock serves them unless told the date, so these run live only)."""
    words = default_catalogue().words
    body = with_cheapest(contract, minimal_body(contract))
    today = dt.date.today()
    for version in contract.models:
        if version.described and version.lifecycle.state_on(today) == EOL:
            yield _check(contract, f"{version.id} is past its end of life", version.id,
                         body, refusal(*words.end_of_life), live=True, live_only=True)


def retired_today(contract: ModelContract) -> bool:
    return contract.primary.lifecycle.state_on(dt.date.today()) == EOL


def family_checks(contract: ModelContract) -> tuple[Check, ...]:
    found = [*accepted_checks(contract), *refused_checks(contract), *model_id_checks(contract),
             *end_of_life_checks(contract)]
    unique: dict[str, Check] = {}
    for check in found:
        if check is not None and check.name not in unique:
            unique[check.name] = check
    return tuple(unique.values())


@cache
def _cached_family_checks(family: str) -> tuple[Check, ...]:
    return family_checks(default_catalogue().family(family))


def _selected(families: Iterable[str] | None) -> Iterator[Check]:
    names = [c.family for c in default_catalogue()] if families is None else list(families)
    for name in names:
        yield from _cached_family_checks(name)


def checks(families: Iterable[str] | None = None) -> tuple[Check, ...]:
    """Every check of the suite for ``families`` (default: the whole catalogue), the
    accepted bodies of each family first: what the mock, serving every model, must pass."""
    return tuple(check for check in _selected(families) if not check.live_only)


def live_checks(families: Iterable[str] | None = None) -> tuple[Check, ...]:
    """The small subset for the real service: the cheapest generations that still show the
    seed rule, and refusals (which generate nothing). A family past its end of life today
    is checked for the service's refusal alone: its generations would all be refused."""
    found = []
    for check in _selected(families):
        if not check.live:
            continue
        if retired_today(default_catalogue().family(check.family)) and not check.live_only:
            continue
        found.append(check)
    return tuple(found)


def billed_calls(selected: Iterable[Check]) -> int:
    """How many of ``selected`` generate an image (the calls the service bills)."""
    return sum(isinstance(check.expect, Generates) for check in selected)


def cost_warning(selected: tuple[Check, ...]) -> str:
    """What a live run of ``selected`` will cost, said before it runs."""
    billed = billed_calls(selected)
    models = sorted({c.model_id for c in selected if isinstance(c.expect, Generates)})
    return (
        f"Live mode: {len(selected)} calls to Amazon Bedrock, {billed} of them generate an "
        f"image and are billed at each model's per-image price ({', '.join(models)}); the "
        f"other {len(selected) - billed} send calls the service refuses."
    )
