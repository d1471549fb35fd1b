"""Names for the files the adapter writes, chosen so that nothing a user has is overwritten."""

from __future__ import annotations

from pathlib import Path


def free_name(folder: Path, stem: str, suffix: str = ".png") -> Path:
    """``folder/stem.png`` (or ``suffix``), else ``stem-2.png``, ``stem-3.png``... : the
    first that is free."""
    candidate = folder / f"{stem}{suffix}"
    number = 2
    while candidate.exists():
        candidate = folder / f"{stem}-{number}{suffix}"
        number += 1
    return candidate
