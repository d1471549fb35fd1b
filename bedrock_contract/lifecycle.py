"""A model version's lifecycle on Bedrock, as its profile states it, and what it is on a
given date."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

ACTIVE, LEGACY, EOL, NOT_YET = "active", "legacy", "eol", "not released"
STATES = (ACTIVE, LEGACY, EOL)


def _date(value: object, where: str) -> dt.date | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"{where}: a date is written YYYY-MM-DD")
    return dt.date.fromisoformat(value)


@dataclass(frozen=True)
class Lifecycle:
    """``state`` is what the model is today; the dates say when it changed, where known."""

    state: str
    released: dt.date | None = None
    legacy: dt.date | None = None
    eol: dt.date | None = None
    # The legacy period's public extended access, at higher prices (still served).
    extended_access: dt.date | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any], where: str) -> Lifecycle:
        state = data.get("state")
        if state not in STATES:
            raise ValueError(f"{where}: lifecycle state must be one of {', '.join(STATES)}")
        return cls(
            state,
            _date(data.get("released"), where),
            _date(data.get("legacy"), where),
            _date(data.get("eol"), where),
            _date(data.get("extended_access"), where),
        )

    def state_on(self, day: dt.date) -> str:
        """The state on ``day``. Where a date is unknown the state known today holds: a
        retired model whose end-of-life date nobody published is retired on every date
        after its release."""
        if self.released is not None and day < self.released:
            return NOT_YET
        if self.eol is not None:
            if day >= self.eol:
                return EOL
        elif self.state == EOL:
            return EOL
        if self.legacy is not None:
            return LEGACY if day >= self.legacy else ACTIVE
        return LEGACY if self.state == LEGACY else ACTIVE

    def to_json(self) -> dict[str, Any]:
        found: dict[str, Any] = {"state": self.state}
        for name in ("released", "legacy", "eol", "extended_access"):
            value = getattr(self, name)
            if value is not None:
                found[name] = value.isoformat()
        return found


@dataclass(frozen=True)
class ModelVersion:
    """One model id of a family. ``described`` is False for an older version the family's
    schemas do not describe (a retired id the service still answers, with its refusal)."""

    id: str
    version: str
    lifecycle: Lifecycle
    described: bool = True
