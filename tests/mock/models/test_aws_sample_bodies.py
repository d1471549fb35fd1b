"""Every body AWS's own programs and pages send to a model the mock serves is answered with
an image, through real boto3 on both doors.

The bodies are data (``tests/data/aws_sample_bodies.json``, each with the repository, path
and commit it came from): AWS's Stability sample notebooks, the ComfyUI node, the SDK code
examples, the Generative AI Use Cases app, the Bedrock clients for Mac and for mobile,
bedrock-engineer, strands' image tool and the user guide's own examples; for Titan Image
Generator and Nova Canvas also the Bedrock samples and workshop, swift-chat, the ComfyUI node
and aws-genai-llm-chatbot. A body AWS sends is the best evidence of what the service takes: a
mock that refuses one turns a team's working code red. A retired model's bodies are sent as
of the last day it was served.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
import re
from typing import Any

import pytest
from botocore.exceptions import ClientError
from PIL import Image

from bedrock_contract import contract_for
from bedrock_contract.paths import FieldPath
from bedrock_contract.sizes import PairsRule
from tests.support.doors import Door
from tests.support.images import image_bytes
from tests.support.paths import DATA

DATA = json.loads((DATA / "aws_sample_bodies.json").read_text())
BODIES: list[dict[str, Any]] = DATA["bodies"]

_IMAGE = re.compile(r"\$image (\w+) (\w+) (\d+)x(\d+)")
# The inputs are drawn small, the program's shape kept: the shortest side this many pixels
# (every model takes 64; none needs more).
SHORT_SIDE = 64


def drawn(model_id: str, spec: str, key: str) -> str:
    """The image a ``$image`` descriptor names, in its format and mode, drawn small (no
    smaller than the model's own smallest side for it: Nova Canvas's 320)."""
    found = _IMAGE.fullmatch(spec)
    assert found is not None, spec
    fmt, mode, width, height = found[1].upper(), found[2], int(found[3]), int(found[4])
    contract = contract_for(model_id)
    if not isinstance(contract.size, PairsRule):  # SDXL's must stay a pair
        short = max(SHORT_SIDE, contract.image_rule(key).min_side or 0)
        scale = short / min(width, height)
        width, height = round(width * scale), round(height * scale)
    colour = (200, 120, 40, 128) if mode == "RGBA" else (200, 120, 40)
    return base64.b64encode(image_bytes((width, height), fmt, mode, colour)).decode()


def with_images(model_id: str, body: Any, at: FieldPath | None = None) -> Any:
    """``body`` with each ``$image`` descriptor drawn, at any depth."""
    if isinstance(body, dict | list):
        items = body.items() if isinstance(body, dict) else enumerate(body)
        found = {k: with_images(model_id, v, at.child(k) if at else FieldPath((str(k),)))
                 for k, v in items}
        return found if isinstance(body, dict) else list(found.values())
    if isinstance(body, str) and body.startswith("$image ") and at is not None:
        # An image of a list is scaled as its list's images are.
        key = at.key if not at.name.isdigit() else (at.parent or at).key
        return drawn(model_id, body, key)
    return body


def _id(entry: dict[str, Any]) -> str:
    source = entry["source"]
    return f"{entry['model_id']} {source['repo']} {source['path'].rsplit('/', 1)[-1]}"


@pytest.mark.parametrize("entry", BODIES, ids=[_id(e) for e in BODIES])
def test_an_aws_authored_body_is_answered_with_an_image(door: Door, client: Any,
                                                        entry: dict[str, Any]) -> None:
    model_id = entry["model_id"]
    contract = contract_for(model_id)
    eol = contract.primary.lifecycle.eol
    if eol is not None:  # served until then: as of its last day
        door.app.as_of = eol - dt.timedelta(days=1)
    body = with_images(model_id, entry["body"])
    if not contract.in_region and not model_id.startswith(contract.inference_profiles):
        # The model cards' own sample code calls the bare id, which the same cards say has
        # no in-Region endpoint: the card is followed (docs/models.md), so the call is
        # refused as the service refuses it, and the body is sent where it can go.
        with pytest.raises(ClientError, match="with on-demand throughput isn't supported"):
            client.invoke_model(modelId=model_id, body=json.dumps(body))
        model_id = contract.invocation_id
    # As the programs call it: the body only, no content type or accept.
    response = client.invoke_model(modelId=model_id, body=json.dumps(body))
    answer = json.loads(response["body"].read())
    artifacts = contract.response.artifacts(answer)
    count = contract.response.count_field
    assert len(artifacts) == (count.get(body, 1) if count else 1)
    for artifact in artifacts:
        assert artifact.finish_reason == contract.response.success
        assert artifact.image is not None
        with Image.open(io.BytesIO(base64.b64decode(artifact.image))) as image:
            assert image.format == {"jpeg": "JPEG", "png": "PNG", "webp": "WEBP"}[
                contract.output_format(body)]


def test_the_data_covers_every_live_model_aws_code_calls() -> None:
    # The Image Services are called by their us. profile ids, as AWS's samples do.
    families = {contract_for(e["model_id"]).family for e in BODIES}
    assert {"sd3-5-large", "stable-image-core", "stable-image-ultra",
            "stable-diffusion-xl-v1", "titan-image-generator-v1", "titan-image-generator-v2",
            "nova-canvas"} <= families
    # Every task type of Amazon's models that AWS code was seen sending.
    tasks = {(contract_for(e["model_id"]).family, e["body"]["taskType"]) for e in BODIES
             if "taskType" in e["body"]}
    assert len({t for f, t in tasks if f == "nova-canvas"}) == 7
    services = {c.family for c in (contract_for(e["model_id"]) for e in BODIES)
                if not c.in_region}
    assert len(services) == 13
