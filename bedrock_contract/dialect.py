"""The JSON Schema dialect of the contract's schemas: draft-07.

Bedrock words its refusals as the Java validator everit-json-schema does, and everit reads
drafts 4, 6 and 7 only: a later keyword (``dependentSchemas``, ``$defs``, ...) would be
ignored by the service, so a schema that states a rule with one would be a rule the service
does not check. Every schema is therefore draft-07, and every validator is made here.

A schema is one self-contained file: a reference leaving it is refused when its folder
loads, and no validator made here ever fetches one (a contract folder is data; reading it
must not reach the network).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from bedrock_contract.loader import ContractFileError

if TYPE_CHECKING:
    # The validators are imported when one is made: reading the catalogue needs none.
    import jsonschema_rs
    from jsonschema import Draft7Validator

DRAFT_07 = "http://json-schema.org/draft-07/schema#"


def schema_validator(schema: Mapping[str, Any]) -> Draft7Validator:
    """jsonschema's validator of ``schema``, in the contract's dialect."""
    from jsonschema import Draft7Validator

    return Draft7Validator(schema)


def check_dialect(schema: Mapping[str, Any], path: Path, *,
                  against_metaschema: bool = True) -> None:
    """Raise :class:`ContractFileError` unless ``schema`` (read from ``path``) is a
    self-contained schema that declares draft-07 and (``against_metaschema``) is a valid
    one."""
    declared = schema.get("$schema", DRAFT_07)
    if str(declared).rstrip("#") != DRAFT_07.rstrip("#"):
        raise ContractFileError(
            f"{path}: $schema is {declared}, but Bedrock's validator reads draft-07 schemas "
            f"(set $schema to {DRAFT_07})"
        )
    for keyword, value in _identifiers(schema):
        if not is_local_ref(value):
            raise ContractFileError(
                f"{path}: {keyword} {value!r} points outside the file; a contract schema is "
                "self-contained ('#/definitions/...'), and nothing is fetched")
    if not against_metaschema:
        return
    from jsonschema import Draft7Validator, SchemaError

    try:
        Draft7Validator.check_schema(schema)
    except SchemaError as err:
        raise ContractFileError(f"{path}: not a valid JSON Schema ({err.message})") from err


def is_local_ref(ref: str) -> bool:
    """Whether a reference stays within its own schema document (a fragment: ``#...``)."""
    return ref.startswith("#")


def _identifiers(schema: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """Every ``$ref`` of ``schema``, and every ``$id`` below its root (one there would
    make the document's own fragments resolve elsewhere); walked without recursion."""
    stack: list[tuple[Any, bool]] = [(schema, True)]
    while stack:
        node, root = stack.pop()
        if isinstance(node, Mapping):
            for keyword in ("$ref",) if root else ("$ref", "$id"):
                if isinstance(node.get(keyword), str):
                    yield keyword, node[keyword]
            stack += [(value, False) for value in node.values()]
        elif isinstance(node, list):
            stack += [(value, False) for value in node]


def _never_fetched(uri: str) -> NoReturn:
    raise ValueError(f"{uri}: a contract schema's references are never fetched")


def fast_validator(schema: Mapping[str, Any]) -> jsonschema_rs.Validator:
    """The compiled validator of ``schema`` (jsonschema-rs), which fetches nothing."""
    import jsonschema_rs

    return jsonschema_rs.validator_for(dict(schema), retriever=_never_fetched)


def excluded_by(schema: Mapping[str, Any]) -> dict[str, list[str]]:
    """For each field whose presence forbids others (``"not": {}`` under its
    ``dependencies`` schema: SDXL's init_image and the size), the fields it forbids."""
    excludes: dict[str, list[str]] = {}
    for name, dependency in schema.get("dependencies", {}).items():
        if isinstance(dependency, dict):
            forbidden = [field for field, rule in dependency.get("properties", {}).items()
                         if rule == {"not": {}}]
            if forbidden:
                excludes[name] = forbidden
    return excludes


def required_with(schema: Mapping[str, Any]) -> dict[str, list[str]]:
    """For each field that needs others present (``dependencies``), the fields it needs."""
    needs: dict[str, list[str]] = {}
    for name, dependency in schema.get("dependencies", {}).items():
        needed = dependency if isinstance(dependency, list) else dependency.get("required", [])
        if needed:
            needs[name] = list(needed)
    return needs
