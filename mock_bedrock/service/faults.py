"""Fault injection: rules that pick calls and say what goes wrong with them.

A :class:`FaultRule` is plain data (it round-trips through JSON, so the same rules come from
Python, a JSON file or the admin endpoint). The :class:`FaultSet` holds the rules (at most
:data:`MAX_RULES`) with their counters and decides, for each call, what happens; it is shared
by the server's threads. A call's prompts are matched against the rules outside its lock, and
``prompt_regex`` is matched by RE2, in time linear in the prompt, the patterns in force
bounded together (:mod:`mock_bedrock.service.fault_regex`): no pattern can hold up other
calls or the admin endpoints.

How a call meets the rules: the rules are walked in order. A rule *sees* a call when its
operation, model and prompt conditions hold; its call-count conditions (``nth``, ``calls``,
``every``) count the calls it has seen, from 1. A rule that sees a call fires when its count
conditions hold, it has firings left (``times``) and its seeded coin (``probability``) says
yes. Latencies of every firing rule add up (to at most :data:`MAX_LATENCY_MS`); the first
firing rule with an outcome (error, finish reason, dropped connection, stream error) decides
the call and later outcome rules do not fire.
"""

from __future__ import annotations

import base64
import json
import random
import threading
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, fields
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

from bedrock_contract import Catalogue, default_catalogue
from bedrock_contract.suggest import did_you_mean
from mock_bedrock.doors.allocator import return_freed_memory
from mock_bedrock.service.errors import (
    INVOKE_STREAM,
    OPERATIONS,
    error_statuses,
    operation_errors,
    stream_exception_members,
)
from mock_bedrock.service.fault_reach import finish_reasons, why_it_cannot_fire
from mock_bedrock.service.fault_regex import (
    PromptRegex,
    RegexBudget,
    RegexRefused,
    matched_texts,
)
from mock_bedrock.service.stubs import (
    IMAGE_AS,
    image_file_as_base64,
    picture_summary,
    stub_picture,
)


class FaultRuleError(ValueError):
    """A fault rule (or a file of them) that cannot be used; the message says why."""


# Each call walks every rule, so their number bounds what a call costs (1,000 rules: a few
# milliseconds; 10-20 if each has a prompt_regex). Latency is bounded so that a rule's wait
# stays a wait, not a hang.
MAX_RULES = 1000
MAX_LATENCY_MS = 600_000


def fault_finish_reasons() -> list[str]:
    """The finish reasons a fault may force: every one some model's response schema allows
    but its success value."""
    return finish_reasons(default_catalogue())


@lru_cache(maxsize=1024)  # asked per call and rule; the catalogue is read once
def plain_model_id(model_id: str) -> str:
    """The version id a rule's model id, profile id or ARN names (unchanged if unknown)."""
    found = default_catalogue().find(model_id)
    return found.version.id if found is not None else model_id


@dataclass(frozen=True)
class CallFacts:
    """What the rules may look at in a call."""

    operation: str
    model_id: str  # the served id, also when the call named the model by ARN
    prompts: tuple[str, ...]
    finish_reasons: tuple[str | None, ...] = ()  # the ones the model's answers may carry

    @cached_property
    def matched_prompts(self) -> tuple[str, ...]:
        """The prompts as a ``prompt_regex`` sees them (bounded: fault_regex)."""
        return tuple(matched_texts(self.prompts))


_OUTCOMES = ("error", "finish_reason", "drop_connection", "stream_error", "image")


@dataclass(frozen=True)
class FaultRule:
    """Which calls go wrong, and how. Unset conditions match every call."""

    # Conditions.
    prompt: str | None = None  # substring of any prompt text
    prompt_regex: str | None = None  # RE2 search over each prompt text
    model_id: str | None = None  # a model id or its ARN
    operation: str | None = None  # InvokeModel or InvokeModelWithResponseStream
    nth: int | None = None  # only the n-th call seen
    calls: tuple[int, int] | None = None  # calls first..last seen, inclusive
    every: int | None = None  # every k-th call seen
    probability: float | None = None  # fire with this chance, drawn from a seeded generator
    seed: int = 0
    times: int | None = None  # fire at most this many times
    # Actions: latency_ms may come alone or with one outcome.
    error: str | None = None  # a Bedrock error code, e.g. ThrottlingException
    message: str | None = None  # the error's message (a default is made up otherwise)
    latency_ms: int = 0
    finish_reason: str | None = None  # e.g. CONTENT_FILTERED (SDXL), "Filter reason: prompt"
    with_image: bool = True  # whether an answer with a finish_reason carries an image
    drop_connection: bool = False
    stream_error: str | None = None  # an exception the response stream may carry
    # A stub: answer with this picture (base64 PNG, JPEG or WebP) instead of the placeholder,
    # as the call asked for it (its size and format) or, image_as "given", as it is.
    image: str | None = None
    image_as: str = "requested"
    name: str | None = None  # free text, shown in the journal and admin listing

    def __post_init__(self) -> None:
        for f in fields(self):
            _check_type(f.name, getattr(self, f.name))
        if self.calls is not None and not isinstance(self.calls, tuple):
            object.__setattr__(self, "calls", tuple(self.calls))
        self._check_values()

    def _check_values(self) -> None:
        for name in ("nth", "every", "times"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise FaultRuleError(f"{name!r} must be at least 1, got {value}")
        if self.calls is not None:
            first, last = self.calls
            if not 1 <= first <= last:
                raise FaultRuleError(f"'calls' must be [first, last] with 1 <= first <= last, "
                                     f"got {list(self.calls)}")
        if self.probability is not None and not 0 <= self.probability <= 1:
            raise FaultRuleError(f"'probability' must be between 0 and 1, got {self.probability}")
        if self.latency_ms < 0:
            raise FaultRuleError(f"'latency_ms' must not be negative, got {self.latency_ms}")
        if self.latency_ms > MAX_LATENCY_MS:
            raise FaultRuleError(
                f"'latency_ms' must be at most {MAX_LATENCY_MS} (10 minutes), got {self.latency_ms}"
            )
        # Compiled once, owned by the rule (not a field: never copied, compared or listed),
        # so removing the rule frees it.
        regex = None
        if self.prompt_regex is not None:
            try:
                regex = PromptRegex(self.prompt_regex)
            except RegexRefused as err:
                raise FaultRuleError(str(err)) from None
        object.__setattr__(self, "_regex", regex)
        if self.operation is not None and self.operation not in OPERATIONS:
            raise FaultRuleError(_one_of("operation", self.operation, OPERATIONS))
        if self.error is not None and self.error not in error_statuses():
            raise FaultRuleError(_one_of("error", self.error, sorted(error_statuses())))
        if self.finish_reason is not None and self.finish_reason not in fault_finish_reasons():
            raise FaultRuleError(_one_of("finish_reason", self.finish_reason,
                                         fault_finish_reasons()))
        if self.stream_error is not None:
            self._normalise_stream_error()
        outcomes = [name for name in _OUTCOMES if getattr(self, name)]
        if len(outcomes) > 1:
            raise FaultRuleError(f"a rule has at most one outcome, got {', '.join(outcomes)}")
        if not outcomes and not self.latency_ms:
            raise FaultRuleError(
                "a rule needs an action: one of error, finish_reason, drop_connection, "
                "stream_error, and/or latency_ms"
            )
        if self.message is not None and not (self.error or self.stream_error):
            raise FaultRuleError("'message' only goes with 'error' or 'stream_error'")
        if not self.with_image and self.finish_reason is None:
            raise FaultRuleError("'with_image' only goes with 'finish_reason'")
        if self.image_as not in IMAGE_AS:
            raise FaultRuleError(_one_of("image_as", self.image_as, IMAGE_AS))
        if self.image_as != "requested" and self.image is None:
            raise FaultRuleError("'image_as' only goes with 'image'")
        try:
            picture = None if self.image is None else stub_picture(self.image)
        except ValueError as err:
            raise FaultRuleError(str(err)) from None
        object.__setattr__(self, "_picture", picture)

    def _normalise_stream_error(self) -> None:
        # Accept the error code (ModelStreamErrorException) or the union member's name.
        members = stream_exception_members()
        by_member = {member: code for code, member in members.items()}
        code = by_member.get(str(self.stream_error), self.stream_error)
        if code not in members:
            raise FaultRuleError(_one_of("stream_error", str(self.stream_error), sorted(members)))
        object.__setattr__(self, "stream_error", code)

    @property
    def outcome(self) -> str | None:
        """The outcome field this rule sets, if any."""
        return next((name for name in _OUTCOMES if getattr(self, name)), None)

    def applies_to(self, operation: str) -> bool:
        # A stream error can only happen in a stream; an error only where the model
        # declares it, so that clients get a code their SDK knows for that call.
        if self.stream_error is not None and operation != INVOKE_STREAM:
            return False
        if self.error is not None and self.error not in operation_errors(operation):
            return False
        return self.operation is None or self.operation == operation

    def sees(self, call: CallFacts) -> bool:
        """Whether the call meets the rule's operation, model and prompt conditions."""
        if not self.applies_to(call.operation):
            return False
        if self.model_id is not None and plain_model_id(self.model_id) != call.model_id:
            return False
        # A finish reason is forced only on models whose answers can carry it.
        if self.finish_reason is not None and self.finish_reason not in call.finish_reasons:
            return False
        if self.prompt is not None and not any(self.prompt in p for p in call.prompts):
            return False
        regex = self.compiled_regex
        return regex is None or regex.search(call.matched_prompts)

    @classmethod
    def stub(cls, picture: bytes | Path, *, as_given: bool = False, **conditions: Any
             ) -> FaultRule:
        """A rule answering the calls ``conditions`` pick with ``picture`` (the bytes of a
        PNG, JPEG or WebP file, or its path)."""
        data = picture.read_bytes() if isinstance(picture, Path) else picture
        return cls(image=base64.b64encode(data).decode("ascii"),
                   image_as="given" if as_given else "requested", **conditions)

    @property
    def picture(self) -> bytes | None:
        """The stub's image, decoded (None: the rule is no stub)."""
        picture: bytes | None = self.__dict__["_picture"]
        return picture

    def listed(self) -> dict[str, Any]:
        """:meth:`to_dict` for people: a stub's image as its format, size and digest."""
        data = self.to_dict()
        if self.picture is not None:
            data["image"] = picture_summary(self.picture)
        return data

    @property
    def compiled_regex(self) -> PromptRegex | None:
        """``prompt_regex`` compiled (None without one)."""
        regex: PromptRegex | None = self.__dict__["_regex"]
        return regex

    def counts(self, seen: int) -> bool:
        """Whether the ``seen``-th call the rule saw meets its call-count conditions."""
        if self.nth is not None and seen != self.nth:
            return False
        if self.calls is not None and not self.calls[0] <= seen <= self.calls[1]:
            return False
        return self.every is None or seen % self.every == 0

    def to_dict(self) -> dict[str, Any]:
        """The rule as JSON data, unset fields left out (``from_dict`` reads it back)."""
        return {
            key: list(value) if isinstance(value, tuple) else value
            for key, value in asdict(self).items()
            if value != _DEFAULTS[key]
        }

    @classmethod
    def from_dict(cls, data: object) -> FaultRule:
        if not isinstance(data, Mapping):
            raise FaultRuleError(f"a rule must be a JSON object, got {type(data).__name__}")
        unknown = sorted(set(data) - set(_DEFAULTS))
        if unknown:
            hint = did_you_mean(str(unknown[0]), _DEFAULTS) if len(unknown) == 1 else ""
            raise FaultRuleError(
                f"unknown field(s) {', '.join(map(repr, unknown))}{hint}; "
                f"known fields: {', '.join(_DEFAULTS)}"
            )
        values = dict(data)
        if isinstance(values.get("calls"), list):
            values["calls"] = tuple(values["calls"])
        return cls(**values)


_DEFAULTS: dict[str, Any] = {f.name: f.default for f in fields(FaultRule)}


# JSON types each field accepts (bool is excluded from the numbers: JSON true is not 1).
_KINDS: dict[str, tuple[type, ...]] = {
    "nth": (int,), "every": (int,), "times": (int,), "seed": (int,), "latency_ms": (int,),
    "probability": (int, float), "drop_connection": (bool,), "calls": (tuple, list),
    "with_image": (bool,),
}


def _check_type(name: str, value: object) -> None:
    if value is None and _DEFAULTS[name] is None:
        return
    kinds = _KINDS.get(name, (str,))
    wrong_bool = isinstance(value, bool) and bool not in kinds
    if wrong_bool or not isinstance(value, kinds):
        expected = " or ".join(k.__name__ for k in kinds)
        raise FaultRuleError(f"{name!r} must be {expected}, got {value!r}")
    if name == "calls":
        pair = list(value)  # type: ignore[call-overload]
        if len(pair) != 2 or not all(type(n) is int for n in pair):
            raise FaultRuleError(f"'calls' must be two integers [first, last], got {value!r}")


def _one_of(name: str, value: str, allowed: Iterable[str]) -> str:
    return f"{name!r} is {value!r}; expected one of: {', '.join(allowed)}"


def rules_from_json(data: object, *, source: str = "fault rules",
                    folder: Path | None = None) -> list[FaultRule]:
    """Rules from parsed JSON: one rule object or a list of them. A rule file's ``image_file``
    (a stub's picture, relative to ``folder``) is read into its ``image``; over HTTP
    (``folder`` None) the picture comes in the body, and no file of the server's is read."""
    items = data if isinstance(data, list) else [data]
    if len(items) > MAX_RULES:
        raise FaultRuleError(f"{source}: {len(items)} rules; at most {MAX_RULES} may be in force")
    rules = []
    budget = RegexBudget()  # the rules given alone: no more is compiled once they pass it
    for index, item in enumerate(items):
        try:
            rule = FaultRule.from_dict(_with_image_file(item, folder))
            _charge(budget, rule)
        except (FaultRuleError, TypeError) as err:
            raise FaultRuleError(f"{source}: {_rule_label(index, item)}: {err}") from None
        rules.append(rule)
    return rules


def _with_image_file(item: object, folder: Path | None) -> object:
    if not isinstance(item, Mapping) or "image_file" not in item:
        return item
    if folder is None:
        raise FaultRuleError("'image_file' is read from a --faults file only; send the "
                             "picture itself as 'image' (base64)")
    if "image" in item:
        raise FaultRuleError("give 'image' or 'image_file', not both")
    rule = {k: v for k, v in item.items() if k != "image_file"}
    try:
        rule["image"] = image_file_as_base64(folder / str(item["image_file"]))
    except ValueError as err:
        raise FaultRuleError(str(err)) from None
    return rule


def _rule_label(index: int, rule: object) -> str:
    """``rule 3`` or ``rule 3 ('its name')``, for a rule given as an object or a FaultRule."""
    name = rule.get("name") if isinstance(rule, Mapping) else getattr(rule, "name", None)
    return f"rule {index}" + (f" ({name!r})" if isinstance(name, str) else "")


def _charge(budget: RegexBudget, rule: FaultRule) -> None:
    regex = rule.compiled_regex
    if regex is not None:
        try:
            budget.charge(regex)
        except RegexRefused as err:
            raise FaultRuleError(str(err)) from None


@dataclass(frozen=True)
class FaultDecision:
    """What the rules decided for one call."""

    latency_ms: int = 0
    rule: FaultRule | None = None  # the rule whose outcome applies, if any
    fired: tuple[FaultRule, ...] = ()


NO_FAULT = FaultDecision()


@dataclass
class _RuleState:
    rule: FaultRule
    seen: int = 0
    fired: int = 0
    coin: random.Random = field(default_factory=random.Random)


class FaultSet:
    """The rules in force (at most :data:`MAX_RULES`), with their counters. Thread-safe."""

    def __init__(self, rules: Iterable[FaultRule] = (),
                 catalogue: Catalogue | None = None) -> None:
        # The models the rules are for: a rule no call of theirs can meet is refused.
        self._catalogue = catalogue
        self._lock = threading.Lock()
        # Replaced, never changed in place: a call walks the list it found, lock released.
        self._states: tuple[_RuleState, ...] = ()
        self.extend(rules)

    def add(self, rule: FaultRule) -> None:
        self.extend([rule])

    def extend(self, rules: Iterable[FaultRule]) -> None:
        """Add ``rules``, all or none: FaultRuleError if they would pass :data:`MAX_RULES` or
        the bounds on patterns (:class:`RegexBudget`), naming the first rule past one."""
        added = list(rules)
        for index, rule in enumerate(added):
            if not isinstance(rule, FaultRule):
                raise TypeError(f"expected a FaultRule, got {type(rule).__name__}")
            why = why_it_cannot_fire(rule, self._catalogue or default_catalogue())
            if why is not None:
                label = _rule_label(index, rule) + (" given" if len(added) > 1 else "")
                raise FaultRuleError(f"{label} can never fire: {why}")
        with self._lock:
            if len(self._states) + len(added) > MAX_RULES:
                raise FaultRuleError(
                    f"at most {MAX_RULES} fault rules may be in force; {len(self._states)} "
                    f"are, and {len(added)} more were given"
                )
            budget = RegexBudget(regex for state in self._states
                                 if (regex := state.rule.compiled_regex) is not None)
            for index, rule in enumerate(added):
                try:
                    _charge(budget, rule)
                except FaultRuleError as err:
                    label = _rule_label(index, rule) + (" given" if len(added) > 1 else "")
                    raise FaultRuleError(f"{label}: {err}") from None
            self._states += tuple(_RuleState(r, coin=random.Random(r.seed)) for r in added)

    def clear(self) -> None:
        with self._lock:
            removed, self._states = self._states, ()
        if any(state.rule.compiled_regex is not None for state in removed):
            del removed  # the last reference: the patterns are freed here
            # Their DFAs were built in the arenas of the threads that matched them, which
            # glibc keeps; hand the memory back, so a DELETE shows in the server's RSS.
            return_freed_memory()

    def load_file(self, path: str | Path) -> list[FaultRule]:
        """Add the rules of a JSON file (a list of rule objects); returns them."""
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as err:
            raise FaultRuleError(f"cannot read fault file {path}: {err}") from None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as err:
            raise FaultRuleError(f"fault file {path} is not valid JSON: {err}") from None
        if not isinstance(data, list):
            raise FaultRuleError(
                f"fault file {path} must hold a JSON list of rule objects, "
                f"got {type(data).__name__}"
            )
        rules = rules_from_json(data, source=f"fault file {path}", folder=Path(path).parent)
        self.extend(rules)
        return rules

    @property
    def rules(self) -> list[FaultRule]:
        with self._lock:
            return [state.rule for state in self._states]

    def snapshot(self) -> list[dict[str, Any]]:
        """Each rule as JSON data with its counters (``seen``, ``fired``)."""
        with self._lock:
            return [
                {**s.rule.listed(), "seen": s.seen, "fired": s.fired} for s in self._states
            ]

    def decide(self, call: CallFacts) -> FaultDecision:
        """What happens to ``call``; counts it against every rule that sees it. The rules
        are matched outside the lock (a rule is immutable); only counting takes it."""
        states = self._states
        if not states:
            return NO_FAULT
        seeing = [state for state in states if state.rule.sees(call)]
        if not seeing:
            return NO_FAULT
        with self._lock:
            latency, chosen, fired = 0, None, []
            for state in seeing:
                rule = state.rule
                state.seen += 1
                if chosen is not None and rule.outcome is not None:
                    continue  # the call already has its outcome
                if not rule.counts(state.seen):
                    continue
                if rule.times is not None and state.fired >= rule.times:
                    continue
                if rule.probability is not None and state.coin.random() >= rule.probability:
                    continue
                state.fired += 1
                fired.append(rule)
                latency += rule.latency_ms
                if rule.outcome is not None:
                    chosen = rule
            return FaultDecision(min(latency, MAX_LATENCY_MS), chosen, tuple(fired))
