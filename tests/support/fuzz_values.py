"""What the fuzz tests share: hypothesis' settings, JSON values drawn from a field's schema
(allowed ones, and ones past its bounds or of another type), and a call's answer as boto3
gives it.

``SDXL_FUZZ_EXAMPLES`` sets hypothesis' examples per test (``make fuzz-long`` sets it high).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError
from hypothesis import HealthCheck, settings, strategies as st

EXAMPLES = int(os.environ.get("SDXL_FUZZ_EXAMPLES", "120"))
# The doors are set up once per test, not per example, on purpose: a mock that has served
# hundreds of odd requests is what the last invariant (it still answers) is about.
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
    ],
)

json_scalars = (
    st.none() | st.booleans() | st.integers() | st.text(max_size=20)
    | st.floats(allow_nan=False, allow_infinity=False)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                 max_size=4),
    max_leaves=12,
)


def value_for(rule: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values one field's schema allows (strings kept short: length limits get their own
    mutation)."""
    if "enum" in rule:
        return st.sampled_from(rule["enum"])
    kind = rule.get("type")
    if kind == "integer":
        return st.integers(rule.get("minimum", -(2**31)), rule.get("maximum", 2**31))
    if kind == "number":
        return st.floats(rule.get("minimum", -1e6), rule.get("maximum", 1e6), allow_nan=False)
    if kind == "string":
        shortest = rule.get("minLength", 0)
        longest = max(shortest, min(rule.get("maxLength", 40), 40))
        return st.text(min_size=shortest, max_size=longest)
    if kind == "array":
        return st.lists(value_for(rule["items"]), min_size=rule.get("minItems", 0), max_size=3)
    if kind == "object":
        if "properties" not in rule:
            return st.dictionaries(st.text(max_size=8), json_values, max_size=3)
        props = rule["properties"]
        needed = {name: value_for(props[name]) for name in rule.get("required", [])}
        optional = {name: value_for(sub) for name, sub in props.items() if name not in needed}
        return st.fixed_dictionaries(needed, optional=optional)
    return json_values


def past_bounds(rule: dict[str, Any]) -> list[Any]:
    """Values at and past a field's bounds (and a few far past any bound)."""
    values: list[Any] = [2**64, -(2**63), 1e308, -0.0]
    for key, step in (("minimum", -1), ("maximum", 1)):
        if key in rule:
            edge = rule[key]
            values += [edge, edge + step, edge + step / 2, float(edge)]
    if "maxLength" in rule:
        values.append("x" * (rule["maxLength"] + 1))
    return values


def other_type(value: Any) -> list[Any]:
    """The value as other JSON types (an integral float is an integer to JSON Schema)."""
    others = [str(value), [value], {"value": value}, None, True, 1]
    if type(value) is int:
        others.append(float(value))
    return others


@dataclass
class Answer:
    status: int
    code: str | None = None  # None: the call succeeded
    message: str = ""
    payload: bytes = b""
    request_id: str | None = None


def invoke(client: Any, args: dict[str, Any], stream: bool = False) -> Answer:
    """The answer to an InvokeModel (or, ``stream``, its streaming twin) call of ``args``."""
    try:
        if stream:
            response = client.invoke_model_with_response_stream(**args)
            payload = b"".join(e["chunk"]["bytes"] for e in response["body"])
        else:
            response = client.invoke_model(**args)
            payload = response["body"].read()
    except ClientError as err:
        meta, error = err.response["ResponseMetadata"], err.response["Error"]
        assert error.get("Message"), f"refusal without a message: {err.response}"
        return Answer(meta["HTTPStatusCode"], error["Code"], error["Message"],
                      request_id=meta.get("RequestId"))
    meta = response["ResponseMetadata"]
    return Answer(meta["HTTPStatusCode"], payload=payload, request_id=meta.get("RequestId"))
