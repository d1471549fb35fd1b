"""Finds and reads the contract's JSON files: the built-in ``schemas/`` folders and any a
user adds (``BEDROCK_CONTRACT_PATH``)."""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path
from typing import Any

# Extra contract folders, separated like PATH: each is a model folder (it holds a
# profile.json) or a folder of model folders.
PATH_VARIABLE = "BEDROCK_CONTRACT_PATH"
PROFILE = "profile.json"
REQUEST = "request.json"
RESPONSE = "response.json"
SERVICE = "service.json"


def schemas_dir() -> Path:
    """The built-in contract folders: ``bedrock_contract/schemas`` in an installed wheel,
    the repository's ``schemas/`` in a source checkout (editable installs included)."""
    here = Path(__file__).resolve().parent
    installed = here / "schemas"
    return installed if installed.is_dir() else here.parent / "schemas"


def built_in(folder: Path) -> bool:
    """Whether ``folder`` is one of the built-in model folders."""
    return folder.resolve().parent == schemas_dir()


class ContractFileError(ValueError):
    """A contract file that cannot be read or is not what its folder promises."""


@cache
def read_json(path: Path) -> dict[str, Any]:
    """One JSON object from a contract file (cached: callers must not mutate it)."""
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise ContractFileError(f"{path}: cannot read a JSON contract file ({err})") from err
    if not isinstance(loaded, dict):
        raise ContractFileError(f"{path}: a contract file holds a JSON object")
    return loaded


def model_folders(extra: tuple[Path, ...] = ()) -> tuple[Path, ...]:
    """Every model folder: the built-in ones, then ``extra``, then those named by
    ``BEDROCK_CONTRACT_PATH`` (later folders of the same family replace earlier ones)."""
    roots = [schemas_dir(), *extra]
    roots += [Path(p) for p in os.environ.get(PATH_VARIABLE, "").split(os.pathsep) if p]
    found: list[Path] = []
    for root in roots:
        if (root / PROFILE).is_file():
            found.append(root)
        elif root.is_dir():
            found += sorted(p for p in root.iterdir() if (p / PROFILE).is_file())
        else:
            raise ContractFileError(f"{root}: no such contract folder")
    return tuple(found)
