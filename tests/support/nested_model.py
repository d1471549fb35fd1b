"""A model family whose fields are nested and whose answer has its own envelope, defined only
by a folder in a temporary directory: what Nova Canvas's shape asks of the design (fields
located by JSON Pointer, an envelope chosen by name and placed by pointers), proven with a
model the project does not know.
"""

from __future__ import annotations

import json
from pathlib import Path

MODEL_ID = "acme.mural-v1:0"
FAMILY = "acme-mural"

REQUEST = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "type": "object",
    "additionalProperties": False,
    "required": ["scene"],
    "properties": {
        "scene": {
            "type": "object",
            "additionalProperties": False,
            "required": ["caption"],
            "properties": {
                "caption": {"type": "string", "minLength": 1, "maxLength": 80,
                            "description": "What the mural shows."},
                "avoid": {"type": "string", "maxLength": 200},
            },
        },
        "render": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "noise": {"type": "integer", "minimum": 0, "maximum": 999, "default": 0},
                "width": {"type": "integer", "minimum": 256, "maximum": 1536,
                          "multipleOf": 64, "default": 768},
                "height": {"type": "integer", "minimum": 256, "maximum": 1536,
                           "multipleOf": 64, "default": 512},
                "format": {"type": "string", "enum": ["png", "jpeg"], "default": "jpeg"},
                "paint": {"type": "string", "enum": ["oil", "chalk"]},
            },
        },
    },
}
RESPONSE = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "type": "object",
    "required": ["result"],
    "properties": {
        "result": {
            "type": "object",
            "required": ["outcomes"],
            "properties": {
                "pictures": {"type": "array",
                             "items": {"type": "string", "contentEncoding": "base64"}},
                "noises": {"type": "array", "items": {"type": "integer"}},
                "outcomes": {"type": "array", "items": {"enum": ["OK", "BLOCKED"]}},
            },
        },
    },
}
PROFILE = {
    "name": "Acme Mural 1",
    "provider": "Acme",
    "engine": "stability",
    "models": [{"id": MODEL_ID, "version": "1.0",
                "lifecycle": {"state": "active", "released": "2026-01-01"}}],
    "streaming": False,
    "request": {
        "prompts": {"text": "/scene/caption", "negative": "/scene/avoid"},
        "seed": "/render/noise",
        "size": {"dimensions": {"width": "/render/width", "height": "/render/height",
                                "max_pixels": 1_000_000}},
    },
    "response": {"envelope": "parallel", "seed": "/result/noises", "image": "/result/pictures",
                 "finish_reason": "/result/outcomes", "output_format": {"field": "/render/format"},
                 "success": "OK", "blurred": ["BLOCKED"]},
}


def write_model_folder(parent: Path) -> Path:
    """The Acme Mural family's folder under ``parent``; returns the folder."""
    folder = parent / FAMILY
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in (("request", REQUEST), ("response", RESPONSE), ("profile", PROFILE)):
        (folder / f"{name}.json").write_text(json.dumps(data, indent=2), encoding="utf-8")
    return folder
