"""A model past its end of life: what to move to, and the one line that says a call to it
was answered anyway (by a mock whose date allows it), shared by the mock's request log, its
pytest plugin and the ``sdxl`` command, so that all three say the same thing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from bedrock_contract.catalogue import Resolved
from bedrock_contract.lifecycle import EOL


def replacement_for(found: Resolved) -> str | None:
    """What to move to from this version: the family's stated replacement (its profile's
    ``replacement``), else (for an older version of a live family) the family's newest
    version."""
    contract, version = found.contract, found.version
    if contract.replacement:
        return contract.replacement
    if version.id != contract.primary.id and contract.primary.lifecycle.state != EOL:
        return contract.primary.id
    return None


@dataclass(frozen=True)
class RetiredCall:
    """A call to ``model_id``, a model Bedrock no longer serves, that was answered."""

    model_id: str
    eol: dt.date | None  # None: retired, on a date nobody published
    replacement: str | None

    def warning(self, calls: str = "this call was") -> str:
        """One line naming the model, its end-of-life date and its replacement (``calls``:
        what was answered, "these calls were" after a batch)."""
        since = f" on {self.eol.isoformat()}" if self.eol else ""
        move = f"; move to {self.replacement}" if self.replacement else ""
        return (f"{self.model_id} reached its end of life{since}: Bedrock refuses it, and "
                f"{calls} answered only because the mock's date allows it{move}")

    @classmethod
    def from_json(cls, data: dict[str, str | None]) -> RetiredCall:
        eol = data.get("eol")
        return cls(str(data["model_id"]), dt.date.fromisoformat(eol) if eol else None,
                   data.get("replacement"))

    def to_json(self) -> dict[str, str | None]:
        return {
            "model_id": self.model_id,
            "eol": self.eol.isoformat() if self.eol else None,
            "replacement": self.replacement,
        }


def retired_call(found: Resolved, today: dt.date | None = None) -> RetiredCall | None:
    """The notice for a call to ``found`` when its version is past its end of life on
    ``today`` (the real date, not a mock's: a mock answering as of an earlier date is
    exactly what is being flagged); None for a model still served."""
    version = found.version
    if version.lifecycle.state_on(today or dt.date.today()) != EOL:
        return None
    return RetiredCall(version.id, version.lifecycle.eol, replacement_for(found))


class EndOfLifeWarning(UserWarning):
    """A test's call was answered for a model past its end of life (the pytest plugin's
    warning): the code under test would be refused by Bedrock today."""
