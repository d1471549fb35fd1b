"""A batch file's lines: read as JSON up front, made into requests one at a time, when each
is sent or checked (its images read then, bounded: :func:`sdxl_adapter.images.read_image_file`).
A batch so holds the images of the lines in flight only, whatever its length, and a line
naming a file that cannot be an image (a FIFO, a device, a huge file) is that line's
problem, found without waiting on it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sdxl_adapter import errors
from sdxl_adapter.request import AnyRequest
from sdxl_adapter.result import EXTENSIONS

# A batch line's object and the folder its image paths are relative to -> its request,
# checked against the contract, and notes about it (e.g. fields a migration dropped); raises
# BadLine, InvalidRequest, or OSError for an image it cannot read.
Parse = Callable[[dict[str, Any], Path], tuple[AnyRequest, list[str]]]


class BadLine(ValueError):
    """A batch line that does not describe a request; the message says why."""


@dataclass(frozen=True)
class BatchLine:
    """One non-blank line of the batch file: its JSON object (a prompt given as a string is
    ``{"prompt": ...}``), or why its text is none."""

    number: int  # 1-based, as an editor shows it
    fields: dict[str, Any] | None = None
    problem: str | None = None


@dataclass(frozen=True)
class MadeLine:
    """A line made into its request."""

    number: int
    request: AnyRequest
    notes: tuple[str, ...] = ()

    @property
    def extension(self) -> str:
        fmt = self.request.output_format
        return EXTENSIONS.get(fmt, "." + fmt)


def read_batch(path: Path) -> list[BatchLine]:
    """Every non-blank line of a batch file. Raises OSError / UnicodeDecodeError when the
    file cannot be read."""
    return parse_batch(path.read_text(encoding="utf-8"))


def parse_batch(text: str) -> list[BatchLine]:
    """Every non-blank line of a batch's text, as JSON."""
    return [_read_line(number, raw)
            for number, raw in enumerate(text.splitlines(), start=1) if raw.strip()]


def _read_line(number: int, raw: str) -> BatchLine:
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as err:
        return BatchLine(number, problem=f"not valid JSON: {err}")
    if isinstance(data, str):
        data = {"prompt": data}
    if not isinstance(data, dict):
        return BatchLine(number, problem="must be a JSON string (the prompt) or an object")
    return BatchLine(number, fields=data)


def make_line(line: BatchLine, parse: Parse, base_dir: Path) -> MadeLine:
    """The line's request (``parse``'s), its images read now (paths relative to
    ``base_dir``); BadLine says why it is none."""
    if line.fields is None:
        raise BadLine(line.problem or "no request")
    try:
        request, notes = parse(line.fields, base_dir)
    except errors.InvalidRequest as err:
        raise BadLine(err.message) from None
    except OSError as err:  # an image named by the line cannot be read
        raise BadLine(f"cannot read {err.filename}: {err.strerror}") from None
    return MadeLine(line.number, request, tuple(notes))
