"""One line of the results table: a measured value, its baseline, and the target it meets
or misses."""

from __future__ import annotations

import operator
from dataclasses import dataclass
from typing import Literal

Verdict = Literal["PASS", "MISS", "-", "not available", "failed"]

_COMPARE = {"<=": operator.le, ">=": operator.ge}


@dataclass(frozen=True)
class Target:
    """``on`` says what is compared: the subject/baseline ratio, or the subject's value."""

    on: Literal["ratio", "value"]
    op: Literal["<=", ">="]
    bound: float
    unit: str = ""

    def met_by(self, value: float) -> bool:
        return _COMPARE[self.op](value, self.bound)

    def __str__(self) -> str:
        if self.on == "ratio":
            return f"{self.op} {self.bound:g}x"
        return f"{self.op} {self.bound:,g} {self.unit}".rstrip()


@dataclass(frozen=True)
class Row:
    section: str  # which comparison, e.g. "1. in-process invoke_model"
    metric: str
    unit: str
    subject: float | None
    baseline: float | None
    target: Target | None = None
    subject_name: str = ""
    baseline_name: str = ""
    note: str = ""  # why a value is missing, or what the number means
    failed: bool = False  # a measurement raised (as opposed to: a piece not built yet)

    @property
    def ratio(self) -> float | None:
        if self.subject is None or self.baseline is None or self.baseline == 0:
            return None
        return self.subject / self.baseline

    @property
    def verdict(self) -> Verdict:
        if self.failed:
            return "failed"
        if self.subject is None:
            return "not available"
        if self.target is None:
            return "-"
        value = self.ratio if self.target.on == "ratio" else self.subject
        if value is None:
            return "not available"
        return "PASS" if self.target.met_by(value) else "MISS"
