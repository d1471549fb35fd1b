"""The model's own check of a body's field names: Bedrock checks a body against the model's
JSON Schema, and the model itself refuses a field outside its list, in its own words (the
JSON text ``{"detail": ...}`` as a ValidationException's message).

The wording is ``schemas/service.json``'s ``field_check``; a profile's ``field_check`` gives
the label the model calls itself by and whether the model answers before Bedrock's schema
check does. The model's fields are its request schema's ``properties``, in the schema's
order: the list the message shows.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bedrock_contract.violation import Violation, pointer_token


@dataclass(frozen=True)
class FieldCheck:
    """A model's field check: the service's wording, the model's label and its fields."""

    detail: str  # with {field}, {label} and {fields} to fill in
    label: str
    fields: tuple[str, ...]
    before_schema: bool  # answered before Bedrock's schema check, rather than after it

    @classmethod
    def from_profile(cls, spec: Mapping[str, Any] | None, detail: str | None,
                     schema: Mapping[str, Any]) -> FieldCheck | None:
        if spec is None:
            return None
        if detail is None:
            raise ValueError("field_check needs the service's wording (schemas/service.json)")
        return cls(detail, spec["label"], tuple(schema.get("properties", {})),
                   bool(spec["before_schema"]))

    def refusal(self, body: Mapping[str, Any]) -> tuple[Violation, str] | None:
        """The violation and the service's message for the first field of ``body`` (in the
        body's order) outside the model's list; None when every field is the model's."""
        unknown = next((name for name in body if name not in self.fields), None)
        if unknown is None:
            return None
        detail = self.detail.format(field=unknown, label=self.label,
                                    fields=", ".join(self.fields))
        # Compact and unescaped, as a Python web service (Starlette's JSONResponse) writes it;
        # the compact form is confirmed by the Content-Length of the answer seen.
        message = json.dumps({"detail": detail}, separators=(",", ":"), ensure_ascii=False)
        return Violation(f"#/{pointer_token(unknown)}", detail), message
