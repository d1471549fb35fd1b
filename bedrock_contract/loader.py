"""Loads the schema files shipped as package data, once per process."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema_rs
from jsonschema import Draft202012Validator


def schemas_dir() -> Path:
    """The built-in contract folders: ``bedrock_contract/schemas`` in an installed wheel,
    the repository's ``schemas/`` in a source checkout (editable installs included)."""
    here = Path(__file__).resolve().parent
    installed = here / "schemas"
    return installed if installed.is_dir() else here.parent / "schemas"


@cache
def load(name: str) -> dict[str, Any]:
    """One JSON file of the contract, by its path under ``schemas/``."""
    text = (schemas_dir() / name).read_text(encoding="utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


@cache
def _load_schema(name: str) -> dict[str, Any]:
    schema = load(name)
    Draft202012Validator.check_schema(schema)
    return schema


def request_schema() -> dict[str, Any]:
    """The request body schema (do not mutate: it is shared)."""
    return _load_schema("stable-diffusion-xl-v1/request.json")


def response_schema() -> dict[str, Any]:
    """The response body schema (do not mutate: it is shared)."""
    return _load_schema("stable-diffusion-xl-v1/response.json")


@cache
def request_validator() -> Draft202012Validator:
    return Draft202012Validator(request_schema())


@cache
def fast_request_validator() -> jsonschema_rs.Validator:
    """The same schema compiled by jsonschema-rs: ~2 us a body against ~300 us for
    ``request_validator``, so it gives the verdict on the hot path; the pure-Python
    validator is asked only for the details of a refusal, which the wording module maps."""
    return jsonschema_rs.validator_for(request_schema())


@cache
def fast_response_validator() -> jsonschema_rs.Validator:
    return jsonschema_rs.validator_for(response_schema())


@cache
def response_validator() -> Draft202012Validator:
    return Draft202012Validator(response_schema())


def field(name: str) -> dict[str, Any]:
    """The schema of one top-level request field, e.g. ``field("steps")["maximum"]``."""
    prop: dict[str, Any] = request_schema()["properties"][name]
    return prop
