"""Which request a batch image answers: what lets a re-run tell a finished line from an
edited one, and never write a line's image over one made for another request.

A record names its request by :func:`request_sha256`. Manifests written before records
carried it (and files no record names) are judged by :func:`carries`: the parameters
:meth:`GenerationResult.save` embeds in every image.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

from PIL.Image import DecompressionBombError

from bedrock_contract.canonical import canonical_json
from sdxl_adapter.manifest import Record
from sdxl_adapter.models import contract_of
from sdxl_adapter.request import AnyRequest, ModelRequest
from sdxl_adapter.result import GenerationResult, read_parameters


def sent_to(request: AnyRequest, model_id: str) -> str:
    """The model a request goes to: its own, or (an SDXLRequest names none) ``model_id``."""
    return request.model_id if isinstance(request, ModelRequest) else model_id


def request_sha256(request: AnyRequest, model_id: str) -> str:
    """SHA-256 (hex) of the canonical JSON of the model id and the body the request sends:
    equal exactly when the same body goes to the same model (input images included)."""
    text = canonical_json({"model_id": sent_to(request, model_id), "body": request.to_body()})
    # surrogatepass: a prompt may hold a lone surrogate (JSON allows "\ud800").
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def carries(path: Path, request: AnyRequest, model_id: str) -> bool:
    """Whether the image at ``path`` embeds the parameters this request's image would: its
    prompts, model and every plain field, and its seed unless the service picks it. Input
    images and SDXL's width and height are not embedded, so an edit of only those is not
    seen: the weaker test, for images no hashed record vouches for."""
    model = sent_to(request, model_id)
    body = request.to_body()
    contract = contract_of(model)
    seed = contract.seed_of(body)
    # An image-less result: parameters() then leaves out the size, which the file has.
    expected = GenerationResult(images=(), seeds=(seed,), finish_reasons=(), model_id=model,
                                request_id=None, body=body).parameters()
    if not seed:  # 0 or absent: the service picks the seed, and the image has that one
        expected.pop("seed", None)
    try:
        found = read_parameters(path)
    except (OSError, ValueError, SyntaxError, DecompressionBombError):
        return False  # not an image Pillow reads, so not one this batch made
    return all(found.get(name) == value for name, value in expected.items())


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def latest_by_file(records: Iterable[Record]) -> dict[str, Record]:
    """The last record naming each file: the request its image was made for."""
    return {record.file: record for record in records if record.file}


def latest_ok_by_line(records: Iterable[Record]) -> dict[int, Record]:
    """The last success of each line (a later failure of an edited line does not hide it:
    its image is still there, and still that request's)."""
    return {record.line: record for record in records if record.ok and record.file}
