"""JSON values as org.json holds them in Java: their types, their printing, their key order.

Bedrock's validator sees a body through org.json (JSON-java 20231013 or later), and its
messages print what org.json made of it: ``BigDecimal`` for any number written with a point
or an exponent, ``Double`` for a negative zero, ``Integer``/``Long``/``BigInteger`` by size;
objects printed as compact JSON in ``HashMap`` order. This module computes those facts in
Python. No library does; it is written by hand from JSON-java's and the JDK's sources.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from decimal import Decimal
from functools import lru_cache
from typing import Any

# --- numbers ---------------------------------------------------------------------------


class BigDecimal(Decimal):
    """A number written with a decimal point or an exponent (``2.0``, ``1e3``).

    Python's ``Decimal`` prints by the same rules as Java's ``BigDecimal.toString()`` (both
    follow the General Decimal Arithmetic specification): ``1.50``, ``1E+3``, ``1E-7``.
    """


class Double(float):
    """org.json's one ``Double``: a negative zero (``-0``, ``-0.0``), which BigDecimal cannot
    hold."""

    def __str__(self) -> str:
        return "-0.0"


def number_from_literal(text: str) -> int | BigDecimal | Double:
    """The value org.json's ``JSONObject.stringToNumber`` makes of a JSON number."""
    decimal_notation = any(c in text for c in ".eE") or text == "-0"
    if not decimal_notation:
        return int(text)
    value = BigDecimal(text)
    if text.startswith("-") and value == 0:
        return Double(-0.0)
    return value


def _bit_length(n: int) -> int:
    # Java's BigInteger.bitLength: the bits of n, or of -n - 1 for a negative n.
    return n.bit_length() if n >= 0 else (~n).bit_length()


def type_name(value: object) -> str:
    """The Java class's simple name, as ``expected type: ..., found: <name>`` prints it."""
    if value is None:
        return "Null"  # org.json's JSONObject.NULL is an instance of JSONObject.Null
    if isinstance(value, bool):
        return "Boolean"
    if isinstance(value, int):
        bits = _bit_length(value)
        return "Integer" if bits <= 31 else "Long" if bits <= 63 else "BigInteger"
    if isinstance(value, BigDecimal):
        return "BigDecimal"
    if isinstance(value, float):
        return "Double"
    if isinstance(value, str):
        return "String"
    if isinstance(value, list):
        return "JSONArray"
    return "JSONObject"


def is_number(value: object) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def as_decimal(value: Any) -> Decimal:
    """The number as everit compares numbers (``NumberComparator.getAsBigDecimal``)."""
    return Decimal(0) if isinstance(value, Double) else Decimal(value)


# --- objects: org.json's JSONObject is a java.util.HashMap ------------------------------


@lru_cache(maxsize=4096)
def string_hash(text: str) -> int:
    """Java's ``String.hashCode()``: over UTF-16 code units, as a 32-bit int."""
    h = 0
    data = text.encode("utf-16-be", "surrogatepass")
    for i in range(0, len(data), 2):
        h = (31 * h + (data[i] << 8 | data[i + 1])) & 0xFFFFFFFF
    return h


def _bucket(key: str, capacity: int) -> int:
    h = string_hash(key)
    return (h ^ (h >> 16)) & (capacity - 1)


def _table_size_for(n: int) -> int:
    size = 1
    while size < n:
        size <<= 1
    return size


def grown_capacity(count: int, capacity: int = 16) -> int:
    """The table size of a HashMap that started at ``capacity`` once ``count`` keys are in:
    it doubles whenever the keys pass three quarters of it (``HashMap.resize``)."""
    while count > int(capacity * 0.75):
        capacity <<= 1
    return capacity


def sized_capacity(count: int) -> int:
    """The table size of ``new HashMap<>(count)`` holding ``count`` keys."""
    return grown_capacity(count, _table_size_for(max(count, 1)))


def copied_capacity(count: int) -> int:
    """The table size of ``new HashMap<>(map)`` for a map of ``count`` keys."""
    return grown_capacity(count, _table_size_for(int(count / 0.75 + 1.0))) if count else 16


def hashmap_order(keys: Iterable[str], capacity: int) -> list[str]:
    """The iteration order of a HashMap with ``capacity`` buckets that received ``keys`` in
    this order: by bucket, and within a bucket by arrival (resizing keeps that order).
    Buckets of eight or more colliding keys, which Java turns into trees, are not modelled:
    they need keys chosen to collide."""
    return sorted(keys, key=lambda key: _bucket(key, capacity))


class JSONObject(dict[str, Any]):
    """A parsed JSON object; iterating it (``java_keys``) follows org.json's HashMap."""

    def java_keys(self) -> list[str]:
        return hashmap_order(self, grown_capacity(len(self)))


# --- printing ---------------------------------------------------------------------------


def to_string(value: object) -> str:
    """``String.valueOf(value)`` for a value org.json made: strings bare, numbers as Java
    prints them, objects and arrays as compact JSON."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict | list):
        return to_json(value)
    return _scalar(value)


def _scalar(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def to_json(value: object) -> str:
    """``JSONObject.toString()`` / ``JSONArray.toString()``: compact, keys in HashMap order,
    numbers through ``JSONObject.numberToString`` (trailing zeros of a decimal dropped)."""
    return "".join(_json_parts(value))


def _json_parts(value: object) -> Iterator[str]:
    if isinstance(value, dict):
        keys = value.java_keys() if isinstance(value, JSONObject) else list(value)
        yield "{"
        for i, key in enumerate(keys):
            yield ("," if i else "") + quote(key) + ":"
            yield from _json_parts(value[key])
        yield "}"
    elif isinstance(value, list):
        yield "["
        for i, item in enumerate(value):
            if i:
                yield ","
            yield from _json_parts(item)
        yield "]"
    elif isinstance(value, str):
        yield quote(value)
    elif is_number(value):
        yield number_to_string(value)
    else:
        yield _scalar(value)


def number_to_string(value: object) -> str:
    text = _scalar(value)
    if "." in text and "e" not in text and "E" not in text:
        text = text.rstrip("0").rstrip(".")
    return text


_ESCAPES = {"\\": "\\\\", '"': '\\"', "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f",
            "\r": "\\r"}


def quote(text: str) -> str:
    """``JSONObject.quote``: JSON escapes, ``</`` as ``<\\/``, and \\uXXXX for control
    characters, U+0080..U+009F and U+2000..U+20FF."""
    out = ['"']
    previous = ""
    for char in text:
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif char == "/":
            out.append("\\/" if previous == "<" else "/")
        elif char < " " or "\x80" <= char < "\xa0" or "\u2000" <= char < "\u2100":
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
        previous = char
    out.append('"')
    return "".join(out)
