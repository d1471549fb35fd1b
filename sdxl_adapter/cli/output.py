"""What the ``sdxl`` commands print: request bodies with images elided, output paths."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sdxl_adapter.cli.errors import ExitCode, Failure

if TYPE_CHECKING:
    from bedrock_contract import ModelContract


def body_json(contract: ModelContract, body: Mapping[str, Any]) -> str:
    """The body as indented JSON, each base64 image (which would drown it) elided."""
    from sdxl_adapter.request import elided

    return json.dumps(elided(contract, body), indent=2)


def make_dir(folder: Path) -> None:
    """Make ``folder`` (and its parents) unless it exists; OUTPUT_UNWRITABLE if it cannot be."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise Failure(f"cannot create {folder}: {err.strerror or err}",
                      ExitCode.OUTPUT_UNWRITABLE) from err


def check_writable_dir(folder: Path) -> None:
    """Fail (OUTPUT_UNWRITABLE) before anything is sent when ``folder`` cannot take a file."""
    if not folder.is_dir():
        raise Failure(f"cannot write to {folder}: no such directory", ExitCode.OUTPUT_UNWRITABLE)
    if not os.access(folder, os.W_OK | os.X_OK):
        raise Failure(f"cannot write to {folder}: permission denied", ExitCode.OUTPUT_UNWRITABLE)
