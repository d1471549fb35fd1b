"""Refusals worded and ordered as Bedrock's validator words them, for every model's schema.

Bedrock validates a body with everit-json-schema over org.json. Each row below is a body
and the messages that validator lists for it (``getAllMessages()``), as everit 1.14.3 with
org.json 20231013 answered it for this project's schemas while the table was made. The
behaviour each row pins:

- "integral float", "exponent": org.json types any number written with a point or an
  exponent ``BigDecimal``; everit's integer is an Integer, Long or BigInteger only, so
  ``30.0`` and ``1e0`` are refused: ``expected type: Integer, found: BigDecimal``.
- "negative zero": ``-0`` is org.json's one ``Double`` (BigDecimal cannot hold it).
- "no range check after a type failure": a value that fails its type is not range-checked,
  so an out-of-range decimal gets the type message only.
- "Long", "BigInteger": integers above 2^31 - 1 and 2^63 - 1 are named by their class.

(Stable Fast Upscale and Remove Background have no integer field, so no integer rows.)
- "compact JSON in an enum message": a value is printed as Java prints it: an object as
  compact JSON in HashMap key order, a decimal inside it trimmed (``2.50`` -> ``2.5``), and
  ``</`` escaped as org.json escapes it.
- "decimal printed as BigDecimal": at the top level a decimal keeps its scale (``1.50``).
- "a decimal a hair past its bound": bounds are compared as decimals, as written, though
  ``0.09999999999999999999`` reads as the float 0.1 (found by tests/mock/models/test_fuzz_live_families.py).
- "empty-string enum": an empty string prints as nothing, leaving two spaces.
- "lone surrogate": ``"\\ud800"`` is valid JSON, and a Java string holds it: it is judged
  and printed like any other string (found by tests/mock/models/test_fuzz_live_families.py).
- "order: ...": per object, missing required keys (the schema's order), then fields another
  field needs (``dependencies``), then extraneous keys, then each property's checks; keys
  and properties in Java HashMap order (here: not the body's order); a property with more
  than one failure, or a combined schema's (``type`` + ``enum`` is one), after the
  single ones; nested items likewise, one level at a time.

Where a property's type and enum both fail, everit orders the two by hash codes that
include an identity hash, so each JVM picks its own order; the rows hold ours (the enum's
message first): the same messages, in the order this project chose.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from bedrock_contract import (
    Catalogue,
    ContractFileError,
    InvalidRequestBody,
    check_request,
    default_catalogue,
)
from bedrock_contract.validation import request_violations
from tests.support import custom_model

CATALOGUE = default_catalogue()

TABLE = [
    ('sd3-5-large', 'integral float',
     '{"prompt": "a cat", "seed": 30.0}',
     ['#/seed: expected type: Integer, found: BigDecimal']),
    ('sd3-5-large', 'exponent',
     '{"prompt": "a cat", "seed": 1e0}',
     ['#/seed: expected type: Integer, found: BigDecimal']),
    ('sd3-5-large', 'negative zero',
     '{"prompt": "a cat", "seed": -0}',
     ['#/seed: expected type: Integer, found: Double']),
    ('sd3-5-large', 'no range check after a type failure',
     '{"prompt": "a cat", "seed": 4294967294.5}',
     ['#/seed: expected type: Integer, found: BigDecimal']),
    ('sd3-5-large', 'Long',
     '{"prompt": 2147483648}',
     ['#/prompt: expected type: String, found: Long']),
    ('sd3-5-large', 'BigInteger',
     '{"prompt": 9223372036854775808}',
     ['#/prompt: expected type: String, found: BigInteger']),
    ('sd3-5-large', 'compact JSON in an enum message',
     '{"prompt": "a cat", "mode": {"b": 1, "a": [1, 2.50, "</x>"]}}',
     ['#/mode: {"a":[1,2.5,"<\\/x>"],"b":1} is not a valid enum value', '#/mode: expected type: String, found: JSONObject']),
    ('sd3-5-large', 'empty-string enum',
     '{"prompt": "a cat", "mode": ""}',
     ['#/mode:  is not a valid enum value']),
    ('sd3-5-large', 'decimal printed as BigDecimal',
     '{"prompt": "a cat", "mode": 1.50}',
     ['#/mode: 1.50 is not a valid enum value', '#/mode: expected type: String, found: BigDecimal']),
    ('sd3-5-large', 'order: required, single, combined (unknown keys: not the schema check)',
     '{"mid": 3, "alpha": 2, "zeta": 1, "seed": 1.5, "strength": 11, "output_format": "q", "negative_prompt": false}',
     # strength before seed: they share a HashMap bucket, and strength comes first in the schema
     ['#: required key [prompt] not found', '#/strength: 11 is not less or equal to 1', '#/seed: expected type: Integer, found: BigDecimal', '#/negative_prompt: expected type: String, found: Boolean', '#/output_format: q is not a valid enum value']),
    ('stable-conservative-upscale', 'integral float',
     '{"prompt": "a cat", "image": "AAAA", "seed": 30.0}',
     ['#/seed: expected type: Integer, found: BigDecimal']),
    ('stable-conservative-upscale', 'exponent',
     '{"prompt": "a cat", "image": "AAAA", "seed": 1e0}',
     ['#/seed: expected type: Integer, found: BigDecimal']),
    ('stable-conservative-upscale', 'negative zero',
     '{"prompt": "a cat", "image": "AAAA", "seed": -0}',
     ['#/seed: expected type: Integer, found: Double']),
    ('stable-conservative-upscale', 'no range check after a type failure',
     '{"prompt": "a cat", "image": "AAAA", "seed": 4294967294.5}',
     ['#/seed: expected type: Integer, found: BigDecimal']),
    ('stable-conservative-upscale', 'Long',
     '{"image": "AAAA", "prompt": 2147483648}',
     ['#/prompt: expected type: String, found: Long']),
    ('stable-conservative-upscale', 'BigInteger',
     '{"image": "AAAA", "prompt": 9223372036854775808}',
     ['#/prompt: expected type: String, found: BigInteger']),
    ('stable-conservative-upscale', 'compact JSON in an enum message',
     '{"prompt": "a cat", "image": "AAAA", "output_format": {"b": 1, "a": [1, 2.50, "</x>"]}}',
     ['#/output_format: {"a":[1,2.5,"<\\/x>"],"b":1} is not a valid enum value', '#/output_format: expected type: String, found: JSONObject']),
    ('stable-conservative-upscale', 'empty-string enum',
     '{"prompt": "a cat", "image": "AAAA", "output_format": ""}',
     ['#/output_format:  is not a valid enum value']),
    ('stable-conservative-upscale', 'decimal printed as BigDecimal',
     '{"prompt": "a cat", "image": "AAAA", "output_format": 1.50}',
     ['#/output_format: 1.50 is not a valid enum value', '#/output_format: expected type: String, found: BigDecimal']),
    ('stable-conservative-upscale', 'order: required, single, combined (unknown keys: not the schema check)',
     '{"image": "AAAA", "mid": 3, "alpha": 2, "zeta": 1, "seed": 1.5, "creativity": 10.5, "output_format": "q", "negative_prompt": false}',
     ['#: required key [prompt] not found', '#/seed: expected type: Integer, found: BigDecimal', '#/negative_prompt: expected type: String, found: Boolean', '#/creativity: 10.5 is not less or equal to 0.5', '#/output_format: q is not a valid enum value']),
    ('stable-conservative-upscale', 'a decimal a hair past its bound',
     '{"prompt": "a cat", "image": "AAAA", "creativity": 0.09999999999999999999}',
     ['#/creativity: 0.09999999999999999999 is not greater or equal to 0.1']),
    ('stable-creative-upscale', 'integral float',
     '{"prompt": "a cat", "image": "AAAA", "seed": 30.0}',
     ['#/seed: expected type: Integer, found: BigDecimal']),
    ('stable-creative-upscale', 'exponent',
     '{"prompt": "a cat", "image": "AAAA", "seed": 1e0}',
     ['#/seed: expected type: Integer, found: BigDecimal']),
    ('stable-creative-upscale', 'negative zero',
     '{"prompt": "a cat", "image": "AAAA", "seed": -0}',
     ['#/seed: expected type: Integer, found: Double']),
    ('stable-creative-upscale', 'no range check after a type failure',
     '{"prompt": "a cat", "image": "AAAA", "seed": 4294967294.5}',
     ['#/seed: expected type: Integer, found: BigDecimal']),
    ('stable-creative-upscale', 'Long',
     '{"image": "AAAA", "prompt": 2147483648}',
     ['#/prompt: expected type: String, found: Long']),
    ('stable-creative-upscale', 'BigInteger',
     '{"image": "AAAA", "prompt": 9223372036854775808}',
     ['#/prompt: expected type: String, found: BigInteger']),
    ('stable-creative-upscale', 'compact JSON in an enum message',
     '{"prompt": "a cat", "image": "AAAA", "output_format": {"b": 1, "a": [1, 2.50, "</x>"]}}',
     ['#/output_format: {"a":[1,2.5,"<\\/x>"],"b":1} is not a valid enum value', '#/output_format: expected type: String, found: JSONObject']),
    ('stable-creative-upscale', 'empty-string enum',
     '{"prompt": "a cat", "image": "AAAA", "output_format": ""}',
     ['#/output_format:  is not a valid enum value']),
    ('stable-creative-upscale', 'decimal printed as BigDecimal',
     '{"prompt": "a cat", "image": "AAAA", "output_format": 1.50}',
     ['#/output_format: 1.50 is not a valid enum value', '#/output_format: expected type: String, found: BigDecimal']),
    ('stable-creative-upscale', 'order: required, single, combined (unknown keys: not the schema check)',
     '{"image": "AAAA", "mid": 3, "alpha": 2, "zeta": 1, "seed": 1.5, "creativity": 10.5, "style_preset": "q", "negative_prompt": false}',
     ['#: required key [prompt] not found', '#/seed: expected type: Integer, found: BigDecimal', '#/negative_prompt: expected type: String, found: Boolean', '#/creativity: 10.5 is not less or equal to 0.5', '#/style_preset: q is not a valid enum value']),
    ('stable-diffusion-xl-v1', 'integral float',
     '{"text_prompts": [{"text": "a cat"}], "samples": 30.0}',
     ['#/samples: expected type: Integer, found: BigDecimal']),
    ('stable-diffusion-xl-v1', 'exponent',
     '{"text_prompts": [{"text": "a cat"}], "samples": 1e0}',
     ['#/samples: expected type: Integer, found: BigDecimal']),
    ('stable-diffusion-xl-v1', 'negative zero',
     '{"text_prompts": [{"text": "a cat"}], "samples": -0}',
     ['#/samples: expected type: Integer, found: Double']),
    ('stable-diffusion-xl-v1', 'no range check after a type failure',
     '{"text_prompts": [{"text": "a cat"}], "samples": 0.5}',
     ['#/samples: expected type: Integer, found: BigDecimal']),
    ('stable-diffusion-xl-v1', 'Long',
     '{"text_prompts": [{"text": "a cat"}], "init_image": 2147483648}',
     ['#/init_image: expected type: String, found: Long']),
    ('stable-diffusion-xl-v1', 'BigInteger',
     '{"text_prompts": [{"text": "a cat"}], "init_image": 9223372036854775808}',
     ['#/init_image: expected type: String, found: BigInteger']),
    ('stable-diffusion-xl-v1', 'compact JSON in an enum message',
     '{"text_prompts": [{"text": "a cat"}], "clip_guidance_preset": {"b": 1, "a": [1, 2.50, "</x>"]}}',
     ['#/clip_guidance_preset: {"a":[1,2.5,"<\\/x>"],"b":1} is not a valid enum value', '#/clip_guidance_preset: expected type: String, found: JSONObject']),
    ('stable-diffusion-xl-v1', 'empty-string enum',
     '{"text_prompts": [{"text": "a cat"}], "clip_guidance_preset": ""}',
     ['#/clip_guidance_preset:  is not a valid enum value']),
    ('stable-diffusion-xl-v1', 'decimal printed as BigDecimal',
     '{"text_prompts": [{"text": "a cat"}], "clip_guidance_preset": 1.50}',
     ['#/clip_guidance_preset: 1.50 is not a valid enum value', '#/clip_guidance_preset: expected type: String, found: BigDecimal']),
    ('stable-diffusion-xl-v1', 'order: required, extraneous, single, combined',
     '{"mid": 3, "alpha": 2, "zeta": 1, "steps": 1.5, "cfg_scale": 45, "mask_source": "q"}',
     ['#: required key [text_prompts] not found', '#: property [init_image] is required', '#: extraneous key [zeta] is not permitted', '#: extraneous key [alpha] is not permitted', '#: extraneous key [mid] is not permitted', '#/steps: expected type: Integer, found: BigDecimal', '#/cfg_scale: 45 is not less or equal to 35', '#/mask_source: q is not a valid enum value']),
    ('stable-diffusion-xl-v1', 'order: nested items',
     '{"text_prompts": [{"text": "a", "x": 1}, {}, {"text": 5, "weight": "1"}], "steps": 5}',
     ['#/steps: 5 is not greater or equal to 10', '#/text_prompts/0: extraneous key [x] is not permitted', '#/text_prompts/1: required key [text] not found', '#/text_prompts/2/weight: expected type: Number, found: String', '#/text_prompts/2/text: expected type: String, found: Integer']),
    ('stable-fast-upscale', 'Long',
     '{"image": 2147483648}',
     ['#/image: expected type: String, found: Long']),
    ('stable-fast-upscale', 'BigInteger',
     '{"image": 9223372036854775808}',
     ['#/image: expected type: String, found: BigInteger']),
    ('stable-fast-upscale', 'compact JSON in an enum message',
     '{"image": "AAAA", "output_format": {"b": 1, "a": [1, 2.50, "</x>"]}}',
     ['#/output_format: {"a":[1,2.5,"<\\/x>"],"b":1} is not a valid enum value', '#/output_format: expected type: String, found: JSONObject']),
    ('stable-fast-upscale', 'empty-string enum',
     '{"image": "AAAA", "output_format": ""}',
     ['#/output_format:  is not a valid enum value']),
    ('stable-fast-upscale', 'decimal printed as BigDecimal',
     '{"image": "AAAA", "output_format": 1.50}',
     ['#/output_format: 1.50 is not a valid enum value', '#/output_format: expected type: String, found: BigDecimal']),
    ('stable-fast-upscale', 'order: required, single, combined (unknown keys: not the schema check)',
     '{"mid": 3, "alpha": 2, "zeta": 1, "output_format": "q"}',
     ['#: required key [image] not found', '#/output_format: q is not a valid enum value']),
    ('stable-image-control-sketch', 'integral float',
     '{"prompt": "a cat", "image": "AAAA", "seed": 30.0}',
     ['#/seed: expected type: Integer, found: BigDecimal']),
    ('stable-image-control-sketch', 'exponent',
     '{"prompt": "a cat", "image": "AAAA", "seed": 1e0}',
     ['#/seed: expected type: Integer, found: BigDecimal']),
    ('stable-image-control-sketch', 'negative zero',
     '{"prompt": "a cat", "image": "AAAA", "seed": -0}',
     ['#/seed: expected type: Integer, found: Double']),
    ('stable-image-control-sketch', 'no range check after a type failure',
     '{"prompt": "a cat", "image": "AAAA", "seed": 4294967294.5}',
     ['#/seed: expected type: Integer, found: BigDecimal']),
    ('stable-image-control-sketch', 'Long',
     '{"image": "AAAA", "prompt": 2147483648}',
     ['#/prompt: expected type: String, found: Long']),
    ('stable-image-control-sketch', 'BigInteger',
     '{"image": "AAAA", "prompt": 9223372036854775808}',
     ['#/prompt: expected type: String, found: BigInteger']),
    ('stable-image-control-sketch', 'compact JSON in an enum message',
     '{"prompt": "a cat", "image": "AAAA", "output_format": {"b": 1, "a": [1, 2.50, "</x>"]}}',
     ['#/output_format: {"a":[1,2.5,"<\\/x>"],"b":1} is not a valid enum value', '#/output_format: expected type: String, found: JSONObject']),
    ('stable-image-control-sketch', 'empty-string enum',
     '{"prompt": "a cat", "image": "AAAA", "output_format": ""}',
     ['#/output_format:  is not a valid enum value']),
    ('stable-image-control-sketch', 'decimal printed as BigDecimal',
     '{"prompt": "a cat", "image": "AAAA", "output_format": 1.50}',
     ['#/output_format: 1.50 is not a valid enum value', '#/output_format: expected type: String, found: BigDecimal']),
    ('stable-image-control-sketch', 'order: required, single, combined (unknown keys: not the schema check)',
     '{"image": "AAAA", "mid": 3, "alpha": 2, "zeta": 1, "seed": 1.5, "control_strength": 11, "style_preset": "q", "negative_prompt": false}',
     ['#: required key [prompt] not found', '#/control_strength: 11 is not less or equal to 1', '#/seed: expected type: Integer, found: BigDecimal', '#/negative_prompt: expected type: String, found: Boolean', '#/style_preset: q is not a valid enum value']),
    ('stable-image-control-structure', 'integral float',
     '{"prompt": "a cat", "image": "AAAA", "seed": 30.0}',
     ['#/seed: expected type: Integer, found: BigDecimal']),
    ('stable-image-control-structure', 'exponent',
     '{"prompt": "a cat", "image": "AAAA", "seed": 1e0}',
     ['#/seed: expected type: Integer, found: BigDecimal']),
    ('stable-image-control-structure', 'negative zero',
     '{"prompt": "a cat", "image": "AAAA", "seed": -0}',
     ['#/seed: expected type: Integer, found: Double']),
    ('stable-image-control-structure', 'no range check after a type failure',
     '{"prompt": "a cat", "image": "AAAA", "seed": 4294967294.5}',
     ['#/seed: expected type: Integer, found: BigDecimal']),
    ('stable-image-control-structure', 'Long',
     '{"image": "AAAA", "prompt": 2147483648}',
     ['#/prompt: expected type: String, found: Long']),
    ('stable-image-control-structure', 'BigInteger',
     '{"image": "AAAA", "prompt": 9223372036854775808}',
     ['#/prompt: expected type: String, found: BigInteger']),
    ('stable-image-control-structure', 'compact JSON in an enum message',
     '{"prompt": "a cat", "image": "AAAA", "output_format": {"b": 1, "a": [1, 2.50, "</x>"]}}',
     ['#/output_format: {"a":[1,2.5,"<\\/x>"],"b":1} is not a valid enum value', '#/output_format: expected type: String, found: JSONObject']),
    ('stable-image-control-structure', 'empty-string enum',
     '{"prompt": "a cat", "image": "AAAA", "output_format": ""}',
     ['#/output_format:  is not a valid enum value']),
    ('stable-image-control-structure', 'decimal printed as BigDecimal',
     '{"prompt": "a cat", "image": "AAAA", "output_format": 1.50}',
     ['#/output_format: 1.50 is not a valid enum value', '#/output_format: expected type: String, found: BigDecimal']),
    ('stable-image-control-structure', 'order: required, single, combined (unknown keys: not the schema check)',
     '{"image": "AAAA", "mid": 3, "alpha": 2, "zeta": 1, "seed": 1.5, "control_strength": 11, "style_preset": "q", "negative_prompt": false}',
     ['#: required key [prompt] not found', '#/control_strength: 11 is not less or equal to 1', '#/seed: expected type: Integer, found: BigDecimal', '#/negative_prompt: expected type: String, found: Boolean', '#/style_preset: q is not a valid enum value']),
    ('stable-image-core', 'integral float',
     '{"prompt": "a cat", "seed": 30.0}',
     ['#/seed: expected type: Integer, found: BigDecimal']),
    ('stable-image-core', 'exponent',
     '{"prompt": "a cat", "seed": 1e0}',
     ['#/seed: expected type: Integer, found: BigDecimal']),
    ('stable-image-core', 'negative zero',
     '{"prompt": "a cat", "seed": -0}',
     ['#/seed: expected type: Integer, found: Double']),
    ('stable-image-core', 'no range check after a type failure',
     '{"prompt": "a cat", "seed": 4294967295.5}',
     ['#/seed: expected type: Integer, found: BigDecimal']),
    ('stable-image-core', 'Long',
     '{"prompt": 2147483648}',
     ['#/prompt: expected type: String, found: Long']),
    ('stable-image-core', 'BigInteger',
     '{"prompt": 9223372036854775808}',
     ['#/prompt: expected type: String, found: BigInteger']),
    ('stable-image-core', 'compact JSON in an enum message',
     '{"prompt": "a cat", "aspect_ratio": {"b": 1, "a": [1, 2.50, "</x>"]}}',
     ['#/aspect_ratio: {"a":[1,2.5,"<\\/x>"],"b":1} is not a valid enum value', '#/aspect_ratio: expected type: String, found: JSONObject']),
    ('stable-image-core', 'empty-string enum',
     '{"prompt": "a cat", "aspect_ratio": ""}',
     ['#/aspect_ratio:  is not a valid enum value']),
    ('stable-image-core', 'decimal printed as BigDecimal',
     '{"prompt": "a cat", "aspect_ratio": 1.50}',
     ['#/aspect_ratio: 1.50 is not a valid enum value', '#/aspect_ratio: expected type: String, found: BigDecimal']),
    ('stable-image-core', 'order: required, single, combined (unknown keys: not the schema check)',
     '{"mid": 3, "alpha": 2, "zeta": 1, "seed": 1.5, "output_format": "q", "negative_prompt": false}',
     ['#: required key [prompt] not found', '#/seed: expected type: Integer, found: BigDecimal', '#/negative_prompt: expected type: String, found: Boolean', '#/output_format: q is not a valid enum value']),
    ('stable-image-core', 'lone surrogate in an enum field',
     '{"prompt": "a cat", "mode": "\\ud800"}',
     ['#/mode: \ud800 is not a valid enum value']),
    ('stable-image-erase-object', 'integral float',
     '{"image": "AAAA", "seed": 30.0}',
     ['#/seed: expected type: Integer, found: BigDecimal']),
    ('stable-image-erase-object', 'exponent',
     '{"image": "AAAA", "seed": 1e0}',
     ['#/seed: expected type: Integer, found: BigDecimal']),
    ('stable-image-erase-object', 'negative zero',
     '{"image": "AAAA", "seed": -0}',
     ['#/seed: expected type: Integer, found: Double']),
    ('stable-image-erase-object', 'no range check after a type failure',
     '{"image": "AAAA", "seed": 4294967294.5}',
     ['#/seed: expected type: Integer, found: BigDecimal']),
    ('stable-image-erase-object', 'Long',
     '{"image": 2147483648}',
     ['#/image: expected type: String, found: Long']),
    ('stable-image-erase-object', 'BigInteger',
     '{"image": 9223372036854775808}',
     ['#/image: expected type: String, found: BigInteger']),
    ('stable-image-erase-object', 'compact JSON in an enum message',
     '{"image": "AAAA", "output_format": {"b": 1, "a": [1, 2.50, "</x>"]}}',
     ['#/output_format: {"a":[1,2.5,"<\\/x>"],"b":1} is not a valid enum value', '#/output_format: expected type: String, found: JSONObject']),
    ('stable-image-erase-object', 'empty-string enum',
     '{"image": "AAAA", "output_format": ""}',
     ['#/output_format:  is not a valid enum value']),
    ('stable-image-erase-object', 'decimal printed as BigDecimal',
     '{"image": "AAAA", "output_format": 1.50}',
     ['#/output_format: 1.50 is not a valid enum value', '#/output_format: expected type: String, found: BigDecimal']),
    ('stable-image-erase-object', 'order: required, single, combined (unknown keys: not the schema check)',
     '{"mid": 3, "alpha": 2, "zeta": 1, "seed": 1.5, "grow_mask": 30, "output_format": "q"}',
     ['#: required key [image] not found', '#/seed: expected type: Integer, found: BigDecimal', '#/grow_mask: 30 is not less or equal to 20', '#/output_format: q is not a valid enum value']),
    ('stable-image-inpaint', 'integral float',
     '{"prompt": "a cat", "image": "AAAA", "seed": 30.0}',
     ['#/seed: expected type: Integer, found: BigDecimal']),
    ('stable-image-inpaint', 'exponent',
     '{"prompt": "a cat", "image": "AAAA", "seed": 1e0}',
     ['#/seed: expected type: Integer, found: BigDecimal']),
    ('stable-image-inpaint', 'negative zero',
     '{"prompt": "a cat", "image": "AAAA", "seed": -0}',
     ['#/seed: expected type: Integer, found: Double']),
    ('stable-image-inpaint', 'no range check after a type failure',
     '{"prompt": "a cat", "image": "AAAA", "seed": 4294967294.5}',
     ['#/seed: expected type: Integer, found: BigDecimal']),
    ('stable-image-inpaint', 'Long',
     '{"image": "AAAA", "prompt": 2147483648}',
     ['#/prompt: expected type: String, found: Long']),
    ('stable-image-inpaint', 'BigInteger',
     '{"image": "AAAA", "prompt": 9223372036854775808}',
     ['#/prompt: expected type: String, found: BigInteger']),
    ('stable-image-inpaint', 'compact JSON in an enum message',
     '{"prompt": "a cat", "image": "AAAA", "style_preset": {"b": 1, "a": [1, 2.50, "</x>"]}}',
     ['#/style_preset: {"a":[1,2.5,"<\\/x>"],"b":1} is not a valid enum value', '#/style_preset: expected type: String, found: JSONObject']),
    ('stable-image-inpaint', 'empty-string enum',
     '{"prompt": "a cat", "image": "AAAA", "style_preset": ""}',
     ['#/style_preset:  is not a valid enum value']),
    ('stable-image-inpaint', 'decimal printed as BigDecimal',
     '{"prompt": "a cat", "image": "AAAA", "style_preset": 1.50}',
     ['#/style_preset: 1.50 is not a valid enum value', '#/style_preset: expected type: String, found: BigDecimal']),
    ('stable-image-inpaint', 'order: required, single, combined (unknown keys: not the schema check)',
     '{"image": "AAAA", "mid": 3, "alpha": 2, "zeta": 1, "seed": 1.5, "grow_mask": 30, "output_format": "q", "negative_prompt": false}',
     ['#: required key [prompt] not found', '#/seed: expected type: Integer, found: BigDecimal', '#/negative_prompt: expected type: String, found: Boolean', '#/grow_mask: 30 is not less or equal to 20', '#/output_format: q is not a valid enum value']),
    ('stable-image-remove-background', 'Long',
     '{"image": 2147483648}',
     ['#/image: expected type: String, found: Long']),
    ('stable-image-remove-background', 'BigInteger',
     '{"image": 9223372036854775808}',
     ['#/image: expected type: String, found: BigInteger']),
    ('stable-image-remove-background', 'compact JSON in an enum message',
     '{"image": "AAAA", "output_format": {"b": 1, "a": [1, 2.50, "</x>"]}}',
     ['#/output_format: {"a":[1,2.5,"<\\/x>"],"b":1} is not a valid enum value', '#/output_format: expected type: String, found: JSONObject']),
    ('stable-image-remove-background', 'empty-string enum',
     '{"image": "AAAA", "output_format": ""}',
     ['#/output_format:  is not a valid enum value']),
    ('stable-image-remove-background', 'decimal printed as BigDecimal',
     '{"image": "AAAA", "output_format": 1.50}',
     ['#/output_format: 1.50 is not a valid enum value', '#/output_format: expected type: String, found: BigDecimal']),
    ('stable-image-remove-background', 'order: required, single, combined (unknown keys: not the schema check)',
     '{"mid": 3, "alpha": 2, "zeta": 1, "output_format": "q"}',
     ['#: required key [image] not found', '#/output_format: q is not a valid enum value']),
    ('stable-image-search-recolor', 'integral float',
     '{"prompt": "a cat", "image": "AAAA", "select_prompt": "a cat", "seed": 30.0}',
     ['#/seed: expected type: Integer, found: BigDecimal']),
    ('stable-image-search-recolor', 'exponent',
     '{"prompt": "a cat", "image": "AAAA", "select_prompt": "a cat", "seed": 1e0}',
     ['#/seed: expected type: Integer, found: BigDecimal']),
    ('stable-image-search-recolor', 'negative zero',
     '{"prompt": "a cat", "image": "AAAA", "select_prompt": "a cat", "seed": -0}',
     ['#/seed: expected type: Integer, found: Double']),
    ('stable-image-search-recolor', 'no range check after a type failure',
     '{"prompt": "a cat", "image": "AAAA", "select_prompt": "a cat", "seed": 4294967294.5}',
     ['#/seed: expected type: Integer, found: BigDecimal']),
    ('stable-image-search-recolor', 'Long',
     '{"image": "AAAA", "select_prompt": "a cat", "prompt": 2147483648}',
     ['#/prompt: expected type: String, found: Long']),
    ('stable-image-search-recolor', 'BigInteger',
     '{"image": "AAAA", "select_prompt": "a cat", "prompt": 9223372036854775808}',
     ['#/prompt: expected type: String, found: BigInteger']),
    ('stable-image-search-recolor', 'compact JSON in an enum message',
     '{"prompt": "a cat", "image": "AAAA", "select_prompt": "a cat", "style_preset": {"b": 1, "a": [1, 2.50, "</x>"]}}',
     ['#/style_preset: {"a":[1,2.5,"<\\/x>"],"b":1} is not a valid enum value', '#/style_preset: expected type: String, found: JSONObject']),
    ('stable-image-search-recolor', 'empty-string enum',
     '{"prompt": "a cat", "image": "AAAA", "select_prompt": "a cat", "style_preset": ""}',
     ['#/style_preset:  is not a valid enum value']),
    ('stable-image-search-recolor', 'decimal printed as BigDecimal',
     '{"prompt": "a cat", "image": "AAAA", "select_prompt": "a cat", "style_preset": 1.50}',
     ['#/style_preset: 1.50 is not a valid enum value', '#/style_preset: expected type: String, found: BigDecimal']),
    ('stable-image-search-recolor', 'order: required, single, combined (unknown keys: not the schema check)',
     '{"image": "AAAA", "select_prompt": "a cat", "mid": 3, "alpha": 2, "zeta": 1, "seed": 1.5, "grow_mask": 30, "output_format": "q", "negative_prompt": false}',
     ['#: required key [prompt] not found', '#/seed: expected type: Integer, found: BigDecimal', '#/negative_prompt: expected type: String, found: Boolean', '#/grow_mask: 30 is not less or equal to 20', '#/output_format: q is not a valid enum value']),
    ('stable-image-search-replace', 'integral float',
     '{"prompt": "a cat", "image": "AAAA", "search_prompt": "a cat", "seed": 30.0}',
     ['#/seed: expected type: Integer, found: BigDecimal']),
    ('stable-image-search-replace', 'exponent',
     '{"prompt": "a cat", "image": "AAAA", "search_prompt": "a cat", "seed": 1e0}',
     ['#/seed: expected type: Integer, found: BigDecimal']),
    ('stable-image-search-replace', 'negative zero',
     '{"prompt": "a cat", "image": "AAAA", "search_prompt": "a cat", "seed": -0}',
     ['#/seed: expected type: Integer, found: Double']),
    ('stable-image-search-replace', 'no range check after a type failure',
     '{"prompt": "a cat", "image": "AAAA", "search_prompt": "a cat", "seed": 4294967294.5}',
     ['#/seed: expected type: Integer, found: BigDecimal']),
    ('stable-image-search-replace', 'Long',
     '{"image": "AAAA", "search_prompt": "a cat", "prompt": 2147483648}',
     ['#/prompt: expected type: String, found: Long']),
    ('stable-image-search-replace', 'BigInteger',
     '{"image": "AAAA", "search_prompt": "a cat", "prompt": 9223372036854775808}',
     ['#/prompt: expected type: String, found: BigInteger']),
    ('stable-image-search-replace', 'compact JSON in an enum message',
     '{"prompt": "a cat", "image": "AAAA", "search_prompt": "a cat", "style_preset": {"b": 1, "a": [1, 2.50, "</x>"]}}',
     ['#/style_preset: {"a":[1,2.5,"<\\/x>"],"b":1} is not a valid enum value', '#/style_preset: expected type: String, found: JSONObject']),
    ('stable-image-search-replace', 'empty-string enum',
     '{"prompt": "a cat", "image": "AAAA", "search_prompt": "a cat", "style_preset": ""}',
     ['#/style_preset:  is not a valid enum value']),
    ('stable-image-search-replace', 'decimal printed as BigDecimal',
     '{"prompt": "a cat", "image": "AAAA", "search_prompt": "a cat", "style_preset": 1.50}',
     ['#/style_preset: 1.50 is not a valid enum value', '#/style_preset: expected type: String, found: BigDecimal']),
    ('stable-image-search-replace', 'order: required, single, combined (unknown keys: not the schema check)',
     '{"image": "AAAA", "search_prompt": "a cat", "mid": 3, "alpha": 2, "zeta": 1, "seed": 1.5, "grow_mask": 30, "output_format": "q", "negative_prompt": false}',
     ['#: required key [prompt] not found', '#/seed: expected type: Integer, found: BigDecimal', '#/negative_prompt: expected type: String, found: Boolean', '#/grow_mask: 30 is not less or equal to 20', '#/output_format: q is not a valid enum value']),
    ('stable-image-style-guide', 'integral float',
     '{"prompt": "a cat", "image": "AAAA", "seed": 30.0}',
     ['#/seed: expected type: Integer, found: BigDecimal']),
    ('stable-image-style-guide', 'exponent',
     '{"prompt": "a cat", "image": "AAAA", "seed": 1e0}',
     ['#/seed: expected type: Integer, found: BigDecimal']),
    ('stable-image-style-guide', 'negative zero',
     '{"prompt": "a cat", "image": "AAAA", "seed": -0}',
     ['#/seed: expected type: Integer, found: Double']),
    ('stable-image-style-guide', 'no range check after a type failure',
     '{"prompt": "a cat", "image": "AAAA", "seed": 4294967294.5}',
     ['#/seed: expected type: Integer, found: BigDecimal']),
    ('stable-image-style-guide', 'Long',
     '{"image": "AAAA", "prompt": 2147483648}',
     ['#/prompt: expected type: String, found: Long']),
    ('stable-image-style-guide', 'BigInteger',
     '{"image": "AAAA", "prompt": 9223372036854775808}',
     ['#/prompt: expected type: String, found: BigInteger']),
    ('stable-image-style-guide', 'compact JSON in an enum message',
     '{"prompt": "a cat", "image": "AAAA", "aspect_ratio": {"b": 1, "a": [1, 2.50, "</x>"]}}',
     ['#/aspect_ratio: {"a":[1,2.5,"<\\/x>"],"b":1} is not a valid enum value', '#/aspect_ratio: expected type: String, found: JSONObject']),
    ('stable-image-style-guide', 'empty-string enum',
     '{"prompt": "a cat", "image": "AAAA", "aspect_ratio": ""}',
     ['#/aspect_ratio:  is not a valid enum value']),
    ('stable-image-style-guide', 'decimal printed as BigDecimal',
     '{"prompt": "a cat", "image": "AAAA", "aspect_ratio": 1.50}',
     ['#/aspect_ratio: 1.50 is not a valid enum value', '#/aspect_ratio: expected type: String, found: BigDecimal']),
    ('stable-image-style-guide', 'order: required, single, combined (unknown keys: not the schema check)',
     '{"image": "AAAA", "mid": 3, "alpha": 2, "zeta": 1, "seed": 1.5, "fidelity": 11, "style_preset": "q", "negative_prompt": false}',
     ['#: required key [prompt] not found', '#/seed: expected type: Integer, found: BigDecimal', '#/negative_prompt: expected type: String, found: Boolean', '#/fidelity: 11 is not less or equal to 1', '#/style_preset: q is not a valid enum value']),
    ('stable-image-ultra', 'integral float',
     '{"prompt": "a cat", "seed": 30.0}',
     ['#/seed: expected type: Integer, found: BigDecimal']),
    ('stable-image-ultra', 'exponent',
     '{"prompt": "a cat", "seed": 1e0}',
     ['#/seed: expected type: Integer, found: BigDecimal']),
    ('stable-image-ultra', 'negative zero',
     '{"prompt": "a cat", "seed": -0}',
     ['#/seed: expected type: Integer, found: Double']),
    ('stable-image-ultra', 'no range check after a type failure',
     '{"prompt": "a cat", "seed": 4294967295.5}',
     ['#/seed: expected type: Integer, found: BigDecimal']),
    ('stable-image-ultra', 'Long',
     '{"prompt": 2147483648}',
     ['#/prompt: expected type: String, found: Long']),
    ('stable-image-ultra', 'BigInteger',
     '{"prompt": 9223372036854775808}',
     ['#/prompt: expected type: String, found: BigInteger']),
    ('stable-image-ultra', 'compact JSON in an enum message',
     '{"prompt": "a cat", "mode": {"b": 1, "a": [1, 2.50, "</x>"]}}',
     ['#/mode: {"a":[1,2.5,"<\\/x>"],"b":1} is not a valid enum value', '#/mode: expected type: String, found: JSONObject']),
    ('stable-image-ultra', 'empty-string enum',
     '{"prompt": "a cat", "mode": ""}',
     ['#/mode:  is not a valid enum value']),
    ('stable-image-ultra', 'decimal printed as BigDecimal',
     '{"prompt": "a cat", "mode": 1.50}',
     ['#/mode: 1.50 is not a valid enum value', '#/mode: expected type: String, found: BigDecimal']),
    ('stable-image-ultra', 'order: required, single, combined (unknown keys: not the schema check)',
     '{"mid": 3, "alpha": 2, "zeta": 1, "seed": 1.5, "output_format": "q", "negative_prompt": false}',
     ['#: required key [prompt] not found', '#/seed: expected type: Integer, found: BigDecimal', '#/negative_prompt: expected type: String, found: Boolean', '#/output_format: q is not a valid enum value']),
    ('stable-outpaint', 'integral float',
     '{"image": "AAAA", "seed": 30.0}',
     ['#/seed: expected type: Integer, found: BigDecimal', '#: required key [left] not found', '#: required key [right] not found', '#: required key [up] not found', '#: required key [down] not found']),
    ('stable-outpaint', 'exponent',
     '{"image": "AAAA", "seed": 1e0}',
     ['#/seed: expected type: Integer, found: BigDecimal', '#: required key [left] not found', '#: required key [right] not found', '#: required key [up] not found', '#: required key [down] not found']),
    ('stable-outpaint', 'negative zero',
     '{"image": "AAAA", "seed": -0}',
     ['#/seed: expected type: Integer, found: Double', '#: required key [left] not found', '#: required key [right] not found', '#: required key [up] not found', '#: required key [down] not found']),
    ('stable-outpaint', 'no range check after a type failure',
     '{"image": "AAAA", "seed": 4294967294.5}',
     ['#/seed: expected type: Integer, found: BigDecimal', '#: required key [left] not found', '#: required key [right] not found', '#: required key [up] not found', '#: required key [down] not found']),
    ('stable-outpaint', 'Long',
     '{"image": "AAAA", "prompt": 2147483648}',
     ['#/prompt: expected type: String, found: Long', '#: required key [left] not found', '#: required key [right] not found', '#: required key [up] not found', '#: required key [down] not found']),
    ('stable-outpaint', 'BigInteger',
     '{"image": "AAAA", "prompt": 9223372036854775808}',
     ['#/prompt: expected type: String, found: BigInteger', '#: required key [left] not found', '#: required key [right] not found', '#: required key [up] not found', '#: required key [down] not found']),
    ('stable-outpaint', 'compact JSON in an enum message',
     '{"image": "AAAA", "style_preset": {"b": 1, "a": [1, 2.50, "</x>"]}}',
     ['#: required key [left] not found', '#: required key [right] not found', '#: required key [up] not found', '#: required key [down] not found', '#/style_preset: {"a":[1,2.5,"<\\/x>"],"b":1} is not a valid enum value', '#/style_preset: expected type: String, found: JSONObject']),
    ('stable-outpaint', 'empty-string enum',
     '{"image": "AAAA", "style_preset": ""}',
     ['#: required key [left] not found', '#: required key [right] not found', '#: required key [up] not found', '#: required key [down] not found', '#/style_preset:  is not a valid enum value']),
    ('stable-outpaint', 'decimal printed as BigDecimal',
     '{"image": "AAAA", "style_preset": 1.50}',
     ['#: required key [left] not found', '#: required key [right] not found', '#: required key [up] not found', '#: required key [down] not found', '#/style_preset: 1.50 is not a valid enum value', '#/style_preset: expected type: String, found: BigDecimal']),
    ('stable-outpaint', 'order: required, single, combined (unknown keys: not the schema check)',
     '{"mid": 3, "alpha": 2, "zeta": 1, "down": 1.5, "creativity": 11.0, "output_format": "q", "prompt": false}',
     ['#: required key [image] not found', '#/creativity: 11.0 is not less or equal to 1.0', '#/prompt: expected type: String, found: Boolean', '#/down: expected type: Integer, found: BigDecimal', '#/output_format: q is not a valid enum value']),
    ('stable-style-transfer', 'integral float',
     '{"init_image": "AAAA", "style_image": "AAAA", "seed": 30.0}',
     ['#/seed: expected type: Integer, found: BigDecimal']),
    ('stable-style-transfer', 'exponent',
     '{"init_image": "AAAA", "style_image": "AAAA", "seed": 1e0}',
     ['#/seed: expected type: Integer, found: BigDecimal']),
    ('stable-style-transfer', 'negative zero',
     '{"init_image": "AAAA", "style_image": "AAAA", "seed": -0}',
     ['#/seed: expected type: Integer, found: Double']),
    ('stable-style-transfer', 'no range check after a type failure',
     '{"init_image": "AAAA", "style_image": "AAAA", "seed": 4294967294.5}',
     ['#/seed: expected type: Integer, found: BigDecimal']),
    ('stable-style-transfer', 'Long',
     '{"init_image": "AAAA", "style_image": "AAAA", "prompt": 2147483648}',
     ['#/prompt: expected type: String, found: Long']),
    ('stable-style-transfer', 'BigInteger',
     '{"init_image": "AAAA", "style_image": "AAAA", "prompt": 9223372036854775808}',
     ['#/prompt: expected type: String, found: BigInteger']),
    ('stable-style-transfer', 'compact JSON in an enum message',
     '{"init_image": "AAAA", "style_image": "AAAA", "output_format": {"b": 1, "a": [1, 2.50, "</x>"]}}',
     ['#/output_format: {"a":[1,2.5,"<\\/x>"],"b":1} is not a valid enum value', '#/output_format: expected type: String, found: JSONObject']),
    ('stable-style-transfer', 'empty-string enum',
     '{"init_image": "AAAA", "style_image": "AAAA", "output_format": ""}',
     ['#/output_format:  is not a valid enum value']),
    ('stable-style-transfer', 'decimal printed as BigDecimal',
     '{"init_image": "AAAA", "style_image": "AAAA", "output_format": 1.50}',
     ['#/output_format: 1.50 is not a valid enum value', '#/output_format: expected type: String, found: BigDecimal']),
    ('stable-style-transfer', 'order: required, single, combined (unknown keys: not the schema check)',
     '{"style_image": "AAAA", "mid": 3, "alpha": 2, "zeta": 1, "seed": 1.5, "composition_fidelity": 11, "output_format": "q", "negative_prompt": false}',
     ['#: required key [init_image] not found', '#/seed: expected type: Integer, found: BigDecimal', '#/negative_prompt: expected type: String, found: Boolean', '#/composition_fidelity: 11 is not less or equal to 1', '#/output_format: q is not a valid enum value']),
    # Nested bodies (Titan Image Generator, Nova Canvas), each checked against everit 1.14.3.
    ('nova-canvas', 'multipleOf',
     '{"taskType": "TEXT_IMAGE", "textToImageParams": {"text": "x"},'
     ' "imageGenerationConfig": {"width": 1000, "height": 330}}',
     ['#/imageGenerationConfig/width: 1000 is not a multiple of 16',
      '#/imageGenerationConfig/height: 330 is not a multiple of 16']),
    ('nova-canvas', 'multipleOf after a range',
     '{"taskType": "TEXT_IMAGE", "textToImageParams": {"text": "x"},'
     ' "imageGenerationConfig": {"width": 4100}}',
     ['#/imageGenerationConfig/width: 4100 is not less or equal to 4096',
      '#/imageGenerationConfig/width: 4100 is not a multiple of 16']),
    ('nova-canvas', 'no taskType: a conversation body',
     '{"inputText": "x", "textGenerationConfig": {}}',
     ['#: required key [messages] not found']),
    ('nova-canvas', "another task's object",
     '{"taskType": "TEXT_IMAGE", "textToImageParams": {"text": "x"}, "inPaintingParams": {}}',
     ['#: extraneous key [inPaintingParams] is not permitted',
      '#/inPaintingParams: required key [image] not found',
      '#/inPaintingParams: required key [maskPrompt] not found',
      '#/inPaintingParams: required key [maskImage] not found']),
    ('nova-canvas', 'try-on mask by its type',
     '{"taskType": "VIRTUAL_TRY_ON", "virtualTryOnParams": {"sourceImage": "a",'
     ' "referenceImage": "b", "maskType": "PROMPT"}}',
     ['#/virtualTryOnParams: required key [promptBasedMask] not found']),
    ('titan-image-generator-v1', 'nested maxLength',
     '{"taskType": "TEXT_IMAGE", "textToImageParams": {"text": "' + 'x' * 536 + '"}}',
     ['#/textToImageParams/text: expected maxLength: 512, actual: 536']),
    ('titan-image-generator-v1', 'a task of v2',
     '{"taskType": "BACKGROUND_REMOVAL", "backgroundRemovalParams": {"image": "a"}}',
     ['#/taskType: BACKGROUND_REMOVAL is not a valid enum value']),
    ('titan-image-generator-v1', 'no taskType',
     '{"textToImageParams": {"text": "x"}}',
     ['#: required key [taskType] not found']),
    ('titan-image-generator-v2', 'no mask',
     '{"taskType": "INPAINTING", "inPaintingParams": {"image": "a"}}',
     ['#/inPaintingParams: required key [maskPrompt] not found',
      '#/inPaintingParams: required key [maskImage] not found']),
    ('titan-image-generator-v2', 'controlMode without conditionImage',
     '{"taskType": "TEXT_IMAGE", "textToImageParams": {"text": "x", "controlMode": "CANNY_EDGE"}}',
     ['#/textToImageParams: property [conditionImage] is required']),
    ('titan-image-generator-v2', 'background removal takes no config',
     '{"taskType": "BACKGROUND_REMOVAL", "backgroundRemovalParams": {"image": "a"},'
     ' "imageGenerationConfig": {}}',
     ['#: extraneous key [imageGenerationConfig] is not permitted']),
]


@pytest.mark.parametrize(("family", "behaviour", "body", "messages"), TABLE,
                         ids=[f"{f}: {b}" for f, b, _, _ in TABLE])
def test_refusal_lists_everits_messages_in_its_order(
    family: str, behaviour: str, body: str, messages: list[str]
) -> None:
    assert [str(v) for v in request_violations(CATALOGUE.family(family), body)] == messages


@pytest.mark.parametrize("family", sorted({f for f, _, _, _ in TABLE}))
def test_the_refusal_frames_the_messages_with_no_separator(family: str) -> None:
    contract = CATALOGUE.family(family)
    _, _, body, messages = next(row for row in TABLE if row[0] == family)
    with pytest.raises(InvalidRequestBody) as caught:
        check_request(contract, body)
    assert caught.value.message == (
        "Malformed input request: " + "".join(messages)
        + ", please reformat your input and try again."
    )


def test_every_family_is_in_the_table() -> None:
    assert {f for f, _, _, _ in TABLE} == {c.family for c in CATALOGUE}


# --- the frame: the service's, or a profile's own ----------------------------------------


def _poster_family(tmp_path: Path, **profile: Any) -> Any:
    folder = custom_model.write_model_folder(tmp_path)
    data = json.loads((folder / "profile.json").read_text())
    (folder / "profile.json").write_text(json.dumps({**data, **profile}))
    return Catalogue.load((folder,)).family(folder.name)


def test_a_profile_sets_its_models_separator_and_suffix(tmp_path: Path) -> None:
    # Some models answer ", reformat your input and try again." and join with ", ".
    contract = _poster_family(tmp_path, refusal_frame={
        "separator": ", ", "suffix": ", reformat your input and try again.",
        "source": "a made-up model for this test"})
    with pytest.raises(InvalidRequestBody) as caught:
        check_request(contract, '{"headline": "", "noise": 1.0}')
    assert caught.value.message == (  # noise before headline: everit's HashMap order
        "Malformed input request: #/noise: expected type: Integer, found: BigDecimal, "
        "#/headline: expected minLength: 1, actual: 0, reformat your input and try again."
    )
    with pytest.raises(InvalidRequestBody) as caught:
        check_request(contract, b"not json")
    assert caught.value.message == "Malformed input request, reformat your input and try again."


def test_a_schema_in_a_later_draft_is_refused_when_loaded(tmp_path: Path) -> None:
    # everit reads drafts 4 to 7: a 2020-12 keyword would be a rule the service ignores.
    folder = custom_model.write_model_folder(tmp_path)
    request = json.loads((folder / "request.json").read_text())
    request["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    (folder / "request.json").write_text(json.dumps(request))
    with pytest.raises(ContractFileError, match="draft-07"):
        Catalogue.load((folder,))


# --- the mock answers with the very message the client refuses with locally --------------

ORDER_ROWS = [row for row in TABLE if row[1].startswith("order")]


@pytest.mark.parametrize(("family", "behaviour", "body", "messages"), ORDER_ROWS,
                         ids=[f"{f}: {b}" for f, b, _, _ in ORDER_ROWS])
def test_the_mock_refuses_with_the_clients_local_message(
    client: Any, family: str, behaviour: str, body: str, messages: list[str]
) -> None:
    contract = CATALOGUE.family(family)
    with pytest.raises(InvalidRequestBody) as local:
        check_request(contract, body)
    with pytest.raises(ClientError) as answered:
        client.invoke_model(modelId=contract.invocation_id, body=body.encode(),
                            contentType="application/json", accept="application/json")
    error = answered.value.response["Error"]
    assert (error["Code"], error["Message"]) == ("ValidationException", local.value.message)
