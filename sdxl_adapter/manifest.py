"""The batch manifest: one JSON object a line, appended as each request finishes.

The manifest is how a re-run knows what is done, so every record is flushed and fsynced
before the next one is written: a run killed at any moment loses at most the record being
written, and that line is simply done again. Records are only ever appended; the last
record of a line number is the one that counts.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, TextIO

MANIFEST_NAME = "manifest.jsonl"


@dataclass(frozen=True)
class Record:
    """What happened to one batch line. ``ok`` means its image was written to ``file``.
    ``request_sha256`` names the request the record is about (see
    :func:`sdxl_adapter.batch.request_sha256`; absent in manifests from before it existed);
    ``previous`` is where the image that was at ``file`` before was moved; ``note`` says
    what is unusual about a success (an image saved without its parameters); ``model_id``
    is the model the line was sent to (with ``--migrate-to auto``, each line's own);
    ``other_files`` what the call returned beyond its first image (more images, a mask)."""

    line: int
    ok: bool
    file: str | None = None  # relative to the out dir
    seed: int | None = None
    finish_reason: str | None = None
    error: str | None = None
    request_id: str | None = None
    request_sha256: str | None = None
    previous: str | None = None
    note: str | None = None
    model_id: str | None = None
    other_files: list[str] | None = None

    def to_json(self) -> str:
        return json.dumps({k: v for k, v in asdict(self).items() if v is not None})

    @classmethod
    def from_json(cls, text: str) -> Record:
        data: dict[str, Any] = json.loads(text)
        # A key a later version adds is left out, not a reason to redo (and re-pay) the line.
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


def read_records(path: Path) -> Iterator[Record]:
    """The records of a manifest, oldest first. A record cut short by a kill (the last line,
    unparseable) is skipped: its line was not done."""
    try:
        handle = path.open(encoding="utf-8")
    except FileNotFoundError:
        return
    with handle:
        for text in handle:
            try:
                yield Record.from_json(text)
            except (ValueError, TypeError):
                continue


class Manifest:
    """The manifest of one out dir, open for appending; thread-safe."""

    def __init__(self, out_dir: Path) -> None:
        self.path = out_dir / MANIFEST_NAME
        self.out_dir = out_dir
        self.latest: dict[int, Record] = {}
        for record in read_records(self.path):
            self.latest[record.line] = record
        self._lock = threading.Lock()
        self._handle: TextIO | None = None

    def is_done(self, line: int) -> bool:
        """Done: the manifest says the line succeeded and its image is still there."""
        record = self.latest.get(line)
        return bool(record and record.ok and record.file and (self.out_dir / record.file).is_file())

    def open(self) -> Manifest:
        self._handle = self.path.open("a", encoding="utf-8")
        if self._ends_mid_record():
            # A killed run may have left half a record; start ours on a line of its own.
            self._write_line("")
        return self

    def _ends_mid_record(self) -> bool:
        size = self.path.stat().st_size
        if size == 0:
            return False
        with self.path.open("rb") as raw:
            raw.seek(size - 1)
            return raw.read(1) != b"\n"

    def append(self, record: Record) -> None:
        with self._lock:
            self._write_line(record.to_json())
            self.latest[record.line] = record

    def _write_line(self, text: str) -> None:
        if self._handle is None:
            raise RuntimeError("the manifest is not open")
        self._handle.write(text + "\n")
        self._handle.flush()
        os.fsync(self._handle.fileno())

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def __enter__(self) -> Manifest:
        return self.open()

    def __exit__(self, *exc_info: object) -> None:
        self.close()
