"""The allowed output sizes, read from the request schema's ``$defs/size``."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

from bedrock_contract.loader import request_schema

Size = tuple[int, int]  # (width, height)


def size_rule() -> dict[str, Any]:
    """The schema object that states the size rule (its ``anyOf`` lists the pairs)."""
    rule: dict[str, Any] = request_schema()["$defs"]["size"]
    return rule


@cache
def allowed_sizes() -> tuple[Size, ...]:
    """Every allowed (width, height) pair, in the schema's order."""
    return tuple(
        (branch["properties"]["width"]["const"], branch["properties"]["height"]["const"])
        for branch in size_rule()["anyOf"]
    )


def _default_size() -> Size:
    props = request_schema()["properties"]
    return (props["width"]["default"], props["height"]["default"])


DEFAULT_SIZE: Size = _default_size()


def size_of(body: Mapping[str, Any]) -> Size:
    """The (width, height) a text-to-image body asks for, defaults filled in."""
    return (body.get("width", DEFAULT_SIZE[0]), body.get("height", DEFAULT_SIZE[1]))


def format_size(size: Size) -> str:
    return f"{size[0]}x{size[1]}"


def allowed_sizes_text() -> str:
    return ", ".join(format_size(s) for s in allowed_sizes())
