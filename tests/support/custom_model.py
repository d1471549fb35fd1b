"""A model family that exists only as a folder in a temporary directory: what a user adds
with ``BEDROCK_CONTRACT_PATH`` (or ``Catalogue.load``) for a model the project does not know.
"""

from __future__ import annotations

import json
from pathlib import Path

MODEL_ID = "acme.poster-v2:0"
PIXELS = {"1:1": [768, 768], "3:1": [1536, 512]}

REQUEST = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "type": "object",
    "additionalProperties": False,
    "required": ["headline"],
    "properties": {
        "headline": {"type": "string", "minLength": 1, "maxLength": 80,
                     "description": "The poster's text."},
        "avoid": {"type": "string", "maxLength": 200},
        "shape": {"type": "string", "enum": list(PIXELS), "default": "1:1"},
        "format": {"type": "string", "enum": ["png", "jpeg"], "default": "jpeg"},
        "noise": {"type": "integer", "minimum": 0, "maximum": 999, "default": 0},
        "ink": {"type": "number", "minimum": 0, "maximum": 2, "default": 1},
    },
}
RESPONSE = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "type": "object",
    "required": ["posters", "outcomes"],
    "properties": {
        "posters": {"type": "array", "items": {"type": "string", "contentEncoding": "base64"}},
        "noises": {"type": "array", "items": {"type": "integer"}},
        "outcomes": {"type": "array", "items": {"enum": ["OK", "BLOCKED"]}},
    },
}
PROFILE = {
    "name": "Acme Poster 2",
    "provider": "Acme",
    "engine": "stability",
    "models": [{"id": MODEL_ID, "version": "2.0",
                "lifecycle": {"state": "active", "released": "2026-01-01"}}],
    "inference_profiles": ["eu"],
    "streaming": False,
    "request": {
        "prompts": {"text": "headline", "negative": "avoid"},
        "seed": "noise",
        "size": {"aspect_ratio": {"field": "shape", "pixels": PIXELS}},
    },
    "response": {"seed": "noises", "image": "posters", "finish_reason": "outcomes",
                 "output_format": {"field": "format"}, "success": "OK", "blurred": ["BLOCKED"]},
}


def write_model_folder(parent: Path) -> Path:
    """The Acme Poster family's folder under ``parent``; returns the folder."""
    folder = parent / "acme-poster"
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in (("request", REQUEST), ("response", RESPONSE), ("profile", PROFILE)):
        (folder / f"{name}.json").write_text(json.dumps(data, indent=2), encoding="utf-8")
    return folder
