"""Bedrock's validator of model request bodies, everit-json-schema over org.json, emulated:
its verdicts, its messages and their order, for the draft-07 schemas of the contract.

Every "Malformed input request" the service sends is worded as everit words a violation and
listed as ``ValidationException.getAllMessages()`` lists them. No Python library emulates a
Java validator's messages, so this package is written by hand from everit's sources (the
classes each module names). It is the slow path: bodies a compiled validator accepts, with
no number everit would type differently, never come here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bedrock_contract.everit.parse import NotJSON, parse_java
from bedrock_contract.everit.schema import Loader, Node, UnsupportedSchema
from bedrock_contract.everit.validator import validate

__all__ = ["JavaSchema", "NotJSON", "UnsupportedSchema", "parse_java"]


class JavaSchema:
    """One schema document, loaded as everit loads it."""

    def __init__(self, raw: dict[str, Any]) -> None:
        self.root: Node = Loader(raw).schema

    @classmethod
    def from_file(cls, path: Path) -> JavaSchema:
        """Read with org.json's number types: the schema's own numbers print in messages."""
        return cls(parse_java(path.read_text(encoding="utf-8")))

    def violations(self, value: Any) -> list[tuple[str, str]]:
        """(pointer, message) for each message of everit's refusal of ``value`` (a value
        from :func:`parse_java`), in its order; empty when everit accepts it."""
        failure = validate(self.root, value)
        return failure.all_messages() if failure else []
