"""Moves a body of a model of several tasks (Titan Image Generator, Nova Canvas, both retired)
to the live model that does its task, as the source's profile says (its ``migration``).

The profile lists rules, the first that fits the body wins: the task (``task``), the fields
the body must have (``has``) or a value one must hold (``when``), the model to move to
(``to``), and where each of the source's own fields goes in the target (``moves``; a value
may be ``{"to": ..., "complement": true}`` for a strength read the other way round, or
``"invert": true`` for a mask whose black and white mean the opposite). What every model has
(prompts, seed, size) moves as the two contracts place it; every other field of the body is
listed as dropped, with why (``reasons``). With ``--to`` the target is the caller's, and the
moves of the first rule for the task that names that target are used.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bedrock_contract import AspectRatioRule, ModelContract
from bedrock_contract.paths import FieldPath, merged
from sdxl_adapter.migration import Migration, Move, inverted_mask
from sdxl_adapter.models import contract_of
from sdxl_adapter.request import check

# Why a source field has no counterpart, by its own name (a profile may add its own).
NO_COUNTERPART = {
    "cfgScale": "{target} has no guidance scale (how strictly the image follows the prompt)",
    "quality": "{target} has no quality setting",
    "numberOfImages": "{target} makes one image a call: call it again for more",
    "colors": "{target} takes no colour palette (name the colours in the prompt)",
    "style": "{target} has no such visual style (describe the style in the prompt)",
    "controlMode": "{target} chooses its own way of reading the input's layout",
    "outPaintingMode": "{target} has no outpainting mode",
    "returnMask": "{target} does not return the mask it used",
}


class NoTarget(ValueError):
    """A body no live model can take, with why."""


def rules_of(contract: ModelContract) -> list[Mapping[str, Any]]:
    from bedrock_contract.loader import PROFILE, read_json

    rules: list[Mapping[str, Any]] = read_json(contract.folder / PROFILE).get(
        "migration", {}).get("rules", [])
    return rules


def has_task_migration(contract: ModelContract) -> bool:
    return bool(rules_of(contract))


def _fits(rule: Mapping[str, Any], task: Any, body: Mapping[str, Any]) -> bool:
    return (rule.get("task") == task
            and all(FieldPath.parse(p).has(body) for p in rule.get("has", ()))
            and all(FieldPath.parse(p).get(body) == v for p, v in rule.get("when", {}).items()))


def choose(src: ModelContract, body: Mapping[str, Any], to: str | None) -> Mapping[str, Any]:
    """The profile's rule for ``body`` (and ``to``, where the caller names the target)."""
    by = src.operation.by if src.operation else None
    task = by.get(body) if by is not None else None
    rules = [r for r in rules_of(src) if _fits(r, task, body)]
    if to is not None:
        wanted = contract_of(to).family
        named = [r for r in rules if r.get("to") and contract_of(r["to"]).family == wanted]
        return named[0] if named else {"task": task, "to": to, "moves": {}}
    if not rules:
        raise NoTarget(f"no rule for task {task!r}")
    if rules[0].get("to") is None:
        raise NoTarget(str(rules[0].get("why", f"no live model does {task}")))
    return rules[0]


def migrate_task(raw: Mapping[str, Any] | bytes | str, source: str,
                 to: str | None) -> Migration:
    src = contract_of(source)
    body = check(raw, src).body
    rule = choose(src, body, to)
    target_id = str(rule["to"])
    target = contract_of(target_id)
    move = _Move(src, target, body)
    move.prompts()
    move.fields(rule)
    move.seed()
    move.size()
    move.the_rest()
    check(move.out, target)  # a migration that breaks the target's contract is a bug here
    return Migration(move.out, target_id, move.dropped, move.changed)


class _Move(Move[FieldPath]):
    def where(self, path: FieldPath) -> FieldPath:
        return path

    def drop(self, path: FieldPath, reason: str) -> None:
        self.dropped.append((path.key, reason.format(target=self.target.name)))

    def prompts(self) -> None:
        self.handled.update(self.src.prompts.fields)
        found = self.src.prompts.of(self.body)
        positive = [p.text for p in found if p.weight >= 0]
        negative = [p.text for p in found if p.weight < 0]
        takes = self.target.prompts
        if not takes.fields:
            for path in self.src.prompts.fields:
                if path.has(self.body):
                    self.drop(path, "{target} takes no prompt")
            return
        if negative and not takes.negative_field:
            where = next(p for p in self.src.prompts.negative_fields if p.has(self.body))
            self.drop(where, "{target} takes no negative prompt")
            negative = []
        self.out = merged(self.out, takes.body_fields(positive or [""], negative))

    def fields(self, rule: Mapping[str, Any]) -> None:
        for where, value in rule.get("sets", {}).items():
            FieldPath.parse(where).put(self.out, value)
        for source, spec in rule.get("moves", {}).items():
            path = FieldPath.parse(source)
            self.handled.add(path)
            if not path.has(self.body):
                continue
            self._rest_of_list(path)
            spec = {"to": spec} if isinstance(spec, str) else spec
            dest, value = FieldPath.parse(spec["to"]), path.get(self.body)
            if spec.get("complement"):
                value = round(1 - float(value), 6)
                self.changed.append((path.key, f"became {dest.key} {value:g} (1 - {1 - value:g}"
                                               f": {self.target.name} reads it the other way)"))
            elif spec.get("invert"):
                value = inverted_mask(value)
                self.changed.append((path.key, f"became {dest.key}, black and white swapped "
                                               f"({self.target.name} redraws the white)"))
            else:
                self.changed.append((path.key, f"became {dest.key}"))
            dest.put(self.out, value)
        for source, why in rule.get("drops", {}).items():
            path = FieldPath.parse(source)
            self.handled.add(path)
            if path.has(self.body):
                self.drop(path, why)

    def _rest_of_list(self, path: FieldPath) -> None:
        # A list's first item moved (Canvas's images to vary): the others cannot follow.
        listed = path.parent.get(self.body) if path.parent and path.name == "0" else None
        if isinstance(listed, list) and path.parent is not None:
            self.handled.add(path.parent)
            for index in range(1, len(listed)):
                self.drop(path.parent.child(index), "{target} takes one input image")

    def size(self) -> None:
        fields = self.src.size.fields
        self.handled.update(fields)
        given = [f for f in fields if f.has(self.body)]
        if not given:
            return
        names = ", ".join(f.key for f in given)
        rule = self.target.size
        asked = self.src.size.asked(self.body)
        if isinstance(rule, AspectRatioRule) and not any(
                FieldPath.of_key(k).has(self.out) for k in rule.from_image):
            ratio = rule.nearest(asked)
            rule.field.put(self.out, ratio)
            self.changed.append((names, f"{asked[0]}x{asked[1]} became {rule.field.key} "
                                        f"{ratio} ({'x'.join(map(str, rule.pixels[ratio]))} px)"))
            return
        for path in given:
            self.drop(path, "{target} takes its output's size from its input image")

    def the_rest(self) -> None:
        by = self.src.operation.by if self.src.operation else None
        for path in _leaves(self.body):
            if path == by or any(_within(path, h) for h in self.handled):
                continue
            self.drop(path, NO_COUNTERPART.get(path.name, "{target} has no counterpart of "
                                               + path.name))


def _within(path: FieldPath, outer: FieldPath) -> bool:
    return path.steps[:len(outer.steps)] == outer.steps


def _leaves(body: Mapping[str, Any], under: FieldPath | None = None) -> list[FieldPath]:
    """Where each value of a body is (objects descended into, a list one value)."""
    found: list[FieldPath] = []
    for name, value in body.items():
        path = under.child(name) if under else FieldPath((name,))
        found += _leaves(value, path) if isinstance(value, Mapping) and value else [path]
    return found
