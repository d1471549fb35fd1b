"""Moves a request body from one model to another: an SDXL 1.0 body (SDXL is past its end
of life) to a live model's, keeping what the target can say and listing what it cannot.

Where each model keeps its prompts, size, seed and input image is read from the two
contracts (prompt fields, size rule, seed field, image-to-image fields, masking and the
target's operation). What the contracts cannot say is here: for the fields no target has,
why they have no counterpart.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from bedrock_contract import AspectRatioRule, ModelContract, PairsRule, default_catalogue
from bedrock_contract.dialect import schema_validator
from bedrock_contract.paths import FieldPath, merged
from sdxl_adapter.errors import InvalidRequest
from sdxl_adapter.models import SDXL_MODEL_ID, capabilities, contract_of
from sdxl_adapter.request import check

# Why a source field has no counterpart in a target without a field of that name.
NO_COUNTERPART = {
    "cfg_scale": "{target} has no guidance scale (how strictly the image follows the prompt)",
    "sampler": "{target} chooses its own sampler",
    "steps": "{target} chooses its own number of diffusion steps",
    "clip_guidance_preset": "{target} has no CLIP guidance",
    "samples": "{target} makes one image a call",
    "extras": "{target} takes no experimental engine parameters",
    "style_preset": "{target} has no style presets (describe the style in the prompt)",
    "mask_source": "{target} takes no mask: masking has no counterpart",
    "mask_image": "{target} takes no mask: masking has no counterpart",
}


class MigrationRefused(InvalidRequest):
    """The source body was valid, but the body it became is not a valid request for the
    target: ``body`` is that migrated body, ``dropped`` what did not carry over (often the
    reason), and ``message``/``violations`` the target's refusal of it."""

    def __init__(self, err: InvalidRequest, body: dict[str, Any], target: str,
                 dropped: list[tuple[str, str]]) -> None:
        super().__init__(err.message, err.violations)
        self.body, self.target, self.dropped = body, target, dropped


@dataclass(frozen=True)
class Migration:
    """The target's body (valid by its contract), and what did not carry over or changed
    on the way, each as (source field, reason)."""

    body: dict[str, Any]
    to: str
    dropped: list[tuple[str, str]] = field(default_factory=list)
    changed: list[tuple[str, str]] = field(default_factory=list)


def migrate(body: Mapping[str, Any] | bytes | str, to: str | None, *,
            source: str = SDXL_MODEL_ID) -> Migration:
    """``body`` (a request for ``source``, SDXL 1.0 by default) as a request for ``to``; for
    a model of several tasks (Titan, Nova Canvas) ``to`` may be None: the live model its
    profile maps the body's task to (:mod:`sdxl_adapter.task_migration`).

    Raises :class:`~sdxl_adapter.errors.InvalidRequest` when ``body`` is not a valid
    request for ``source``, :class:`~sdxl_adapter.models.UnknownModel` for an unknown id,
    :class:`~sdxl_adapter.task_migration.NoTarget` where no live model does the task.
    """
    from sdxl_adapter.task_migration import NoTarget, has_task_migration, migrate_task

    if has_task_migration(contract_of(source)):
        return migrate_task(body, source, to)
    if to is None:
        raise NoTarget(f"give the model to move to (--to): {contract_of(source).name} "
                       "bodies have no default")
    src, target = contract_of(source), contract_of(to)
    valid = check(body, src).body
    move = _Move(src, target, valid)
    move.prompts()
    image_moved = move.mask() or move.image()
    move.size(image_moved)
    move.seed()
    move.the_rest()
    try:
        check(move.out, target)
    except InvalidRequest as err:
        # The source was valid: what is refused is the body it became (e.g. a target that
        # needs an input image the source did not have).
        raise MigrationRefused(err, move.out, target.name, move.dropped) from err
    return Migration(move.out, to, move.dropped, move.changed)


# How a move names a source field: by its name (SDXL's flat bodies, here) or by its path
# (the nested bodies of Titan and Nova Canvas, in sdxl_adapter.task_migration).
Where = TypeVar("Where", str, FieldPath)


class Move(Generic[Where]):
    """One body on its way from ``src`` to ``target``: the target's body as it is built
    (``out``), what did not carry over or changed, each as (source field, reason), and the
    source fields dealt with so far (``handled``). What every migration does alike (the seed)
    is here; each kind of source says how it names a field (:meth:`where`, :meth:`drop`)."""

    def __init__(self, src: ModelContract, target: ModelContract, body: dict[str, Any]) -> None:
        self.src, self.target, self.body = src, target, body
        self.out: dict[str, Any] = {}
        self.dropped: list[tuple[str, str]] = []
        self.changed: list[tuple[str, str]] = []
        self.handled: set[Where] = set()

    def where(self, path: FieldPath) -> Where:
        raise NotImplementedError

    def drop(self, where: Where, reason: str) -> None:
        raise NotImplementedError

    def seed(self) -> None:
        path = self.src.seed_field
        if path is None:
            return
        self.handled.add(self.where(path))
        if not path.has(self.body):
            return
        if self.target.seed_field is None:
            self.drop(self.where(path), f"{self.target.name} takes no seed")
            return
        low, high = self.target.seed_range()
        value = path.get(self.body)
        kept = min(max(value, low), high)
        if kept != value:
            self.changed.append((path.key, f"{value} is outside {self.target.name}'s range "
                                           f"{low}..{high}: clamped to {kept}"))
        self.target.seed_field.put(self.out, kept)


class _Move(Move[str]):
    def where(self, path: FieldPath) -> str:
        return path.key

    def drop(self, name: str, reason: str) -> None:
        self.dropped.append((name, reason))

    def prompts(self) -> None:
        fields = self.src.prompts.fields
        self.handled.update(f.key for f in fields)
        positive: list[str] = []
        negative: list[str] = []
        where = fields[0].key if fields else "prompt"
        for index, prompt in enumerate(self.src.prompts.of(self.body)):
            if prompt.weight == 0:
                self.drop(f"{where}/{index}", f"weight 0: {prompt.text!r} has no effect")
                continue
            (negative if prompt.weight < 0 else positive).append(prompt.text)
            if abs(prompt.weight) != 1 and self.src.prompts.list_field:
                self.drop(f"{where}/{index}/{self.src.prompts.weight_key}",
                          f"{self.target.name} takes no prompt weights: weight "
                          f"{prompt.weight:g} dropped, text kept")
        takes = self.target.prompts
        if negative and not takes.negative_field and not takes.list_field:
            self.drop(where, f"{self.target.name} takes no negative prompt: "
                             f"{' '.join(negative)!r} dropped")
        if positive and not takes.text_field and not takes.list_field:
            # Erase, remove background, fast upscale: the image alone says what to do.
            self.drop(where, f"{self.target.name} takes no prompt: "
                             f"{' '.join(positive)!r} dropped")
        # The target's prompt must be there even when every source prompt was negative.
        self.out = merged(self.out, self.target.prompts.body_fields(positive or [""], negative))

    def mask(self) -> bool:
        """A masking body to a target that repaints what a mask selects (inpaint, erase):
        its input image and its mask, as the target's mask (white: painted) or, for the
        init image's transparency, the image alone where the target reads its alpha."""
        masking: Mapping[str, Any] = self.src.masking
        op = self.target.operation
        source = masking.get("source")
        if not source or source not in self.body or op is None or not op.field("mask"):
            return False
        image_field, mask_field = masking["image"], masking.get("mask", "")
        self.handled.update({image_field, source, mask_field})
        painted = masking["painted"][self.body[source]]
        target_image, target_mask = op.field("image"), op.field("mask")
        assert target_image is not None and target_mask is not None
        self.out[target_image] = self.body[image_field]
        self.changed.append((image_field, f"became {target_image}"))
        how = f"{source} {self.body[source]}"
        if painted == "white":
            self.out[target_mask] = self.body[mask_field]
            self.changed.append((mask_field, f"became {target_mask} ({how}: white paints, "
                                             "as it does there)"))
        elif painted == "black":
            self.out[target_mask] = inverted_mask(self.body[mask_field])
            self.changed.append((mask_field, f"became {target_mask}, inverted ({how}: black "
                                             f"paints; in {target_mask}, white does)"))
        elif op.spec.get("alpha_mask"):
            self.changed.append((source, f"{how}: {self.target.name} paints the transparent "
                                         f"pixels of {target_image} when given no "
                                         f"{target_mask}"))
            if mask_field in self.body:
                self.drop(mask_field, f"unused by SDXL itself with {how}")
        else:
            self.drop(source, f"{self.target.name} takes no mask from an image's "
                              f"transparency: give it a {target_mask}")
        grow = op.field("grow")
        if grow and self.target.field(grow).get("default", 0) != 0:
            # The source painted exactly the masked pixels; the target grows its mask by default.
            self.out[grow] = 0
            self.changed.append((grow, f"set to 0: {self.src.name} painted exactly the "
                                       f"masked pixels, {self.target.name} grows its mask by "
                                       f"{self.target.field(grow)['default']} by default"))
        # The input weight has no counterpart: only the masked pixels change, wholly.
        for name in self.src.image_to_image.values():
            if isinstance(name, str) and name in self.body and name not in self.handled:
                self.handled.add(name)
                self.drop(name, f"{self.target.name} repaints the masked pixels wholly and "
                                "keeps the rest: no input weight or schedule")
        return True

    def image(self) -> bool:
        spec: Mapping[str, Any] = self.src.image_to_image
        names = [spec.get(k) for k in ("image", "strength", "mode", "schedule_start",
                                       "schedule_end")]
        self.handled.update(n for n in names if n)
        image_field = spec["image"]
        if image_field not in self.body:
            return False
        to = self.target.image_to_image
        if not to:
            able = [c.invocation_id for c in default_catalogue()
                    if c.image_to_image and capabilities(c).text_to_image]
            self.drop(image_field, f"{self.target.name} takes no input image (text to image "
                                   f"only); models that do: {', '.join(able) or 'none'}")
            for name in names[1:]:
                if name and name in self.body:
                    self.drop(name, f"{self.target.name} takes no input image")
            return False
        self.out[to["image"]] = self.body[image_field]
        keeps = self._input_weight(spec)
        strength = keeps if to.get("strength_keeps_input_at", 1) == 1 else round(1 - keeps, 6)
        self.out[to["strength"]] = strength
        self.changed.append((image_field, f"became {to['image']}, with {to['strength']} "
                                          f"{strength:g} (input weight {keeps:g} of 1)"))
        return True

    def _input_weight(self, spec: Mapping[str, Any]) -> float:
        # How much the source keeps of its input image, from 0 (ignored) to 1 (kept).
        mode = spec.get("mode")
        start = spec.get("schedule_start")
        if mode and start and self.body.get(mode) == spec.get("schedule_mode"):
            value = self.body.get(start, self.src.field(start).get("default", 0.65))
            self.drop(start, f"{self.target.name} has no step schedule: "
                             f"{start} {value:g} taken as an input weight of {1 - value:g}")
            if spec.get("schedule_end") in self.body:
                self.drop(spec["schedule_end"], f"{self.target.name} has no step schedule")
            return float(round(1 - value, 6))
        name = spec["strength"]
        value = self.body.get(name, self.src.field(name).get("default", 0.35))
        weight = float(value if spec.get("strength_keeps_input_at", 1) == 1 else 1 - value)
        if spec.get("schedule_end") in self.body:
            self.drop(spec["schedule_end"], f"{self.target.name} has no step schedule")
        return round(weight, 6)

    def size(self, image_moved: bool) -> None:
        fields = self.src.size.fields
        self.handled.update(f.key for f in fields)
        given = ", ".join(f.key for f in fields if f.has(self.body))
        if not given:
            return
        asked = self.src.size.asked(self.body)
        text = " x ".join(f"{f.key} {f.get(self.body, '(default)')}" for f in fields)
        rule = self.target.size
        if image_moved and rule.from_image:
            self.drop(given, f"{self.target.name} takes its output's size from "
                             "the input image when given one")
            return
        if isinstance(rule, AspectRatioRule):
            ratio = rule.nearest(asked)
            rule.field.put(self.out, ratio)
            width, height = rule.pixels[ratio]
            self.changed.append((given, f"{text} became {rule.field.key} {ratio} "
                                        f"({width}x{height} px)"))
        elif isinstance(rule, PairsRule) and asked in rule.allowed:
            self.out = merged(self.out, rule.body_fields(asked))
        else:
            self.drop(given, f"{self.target.name} does not make {text}")

    def the_rest(self) -> None:
        for name, value in self.body.items():
            if name in self.handled:
                continue
            spec = self.target.properties.get(name)
            if spec is not None and schema_validator(spec).is_valid(value):
                self.out[name] = value
            elif spec is not None:
                self.drop(name, f"{self.target.name} does not take {name} {value!r}")
            else:
                reason = NO_COUNTERPART.get(name, "{target} has no field " + name)
                self.drop(name, reason.format(target=self.target.name))


def inverted_mask(mask: str) -> str:
    """A base64 mask with white and black swapped (a PNG, whatever it was), with Pillow."""
    import base64
    import io

    from PIL import Image, ImageOps

    with Image.open(io.BytesIO(base64.b64decode(mask))) as image:
        out = ImageOps.invert(image.convert("L"))
    return _png(out)


def _png(image: Any) -> str:
    import base64
    import io

    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode("ascii")
