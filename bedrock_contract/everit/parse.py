"""JSON text to the values org.json would make of it (see :mod:`.java`)."""

from __future__ import annotations

import json
from typing import Any

from bedrock_contract.everit.java import JSONObject, number_from_literal


class NotJSON(ValueError):
    """Text that is not one JSON value (or that org.json refuses: a duplicate key)."""


def _object(pairs: list[tuple[str, Any]]) -> JSONObject:
    made = JSONObject()
    for key, value in pairs:
        if key in made:
            raise NotJSON(f'Duplicate key "{key}"')  # JSONObject.put's refusal
        made[key] = value
    return made


def _constant(name: str) -> Any:
    raise NotJSON(f"{name} is not a JSON value")  # Python's json would accept NaN, Infinity


_DECODER = json.JSONDecoder(
    object_pairs_hook=_object,
    parse_float=number_from_literal,
    parse_int=number_from_literal,
    parse_constant=_constant,
)


def parse_java(text: str) -> Any:
    """The value, with org.json's number types and key order; :class:`NotJSON` if none."""
    try:
        return _DECODER.decode(text)
    except RecursionError as err:
        raise NotJSON("nested too deeply") from err
    except ValueError as err:  # json.JSONDecodeError and NotJSON
        raise NotJSON(str(err)) from err
