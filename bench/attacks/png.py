"""PNG inputs whose compressed text chunks inflate to many times their size (issue 12,
finding 4), sent as an Image Service's input, several at once."""

from __future__ import annotations

import base64
import io
import struct
import threading
import zlib
from collections import Counter

from PIL import Image, PngImagePlugin

from bedrock_contract import contract_for
from bench.attacks.calls import call
from bench.attacks.harness import Attack, Siege, run_together
from bench.bodies import encode, image_body, image_field

MODEL_ID = "us.stability.stable-image-remove-background-v1:0"  # its answer is the input's size
CONTRACT = contract_for(MODEL_ID)
PATH = f"/model/{MODEL_ID}/invoke"
SIZE = (512, 512)
IN_FLIGHT_GRACE = 5.0  # a call started before the deadline may finish after it


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + \
        struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def text_bomb(chunks: int = 64) -> bytes:
    """A flat picture with ``chunks`` zTXt chunks after its header, each inflating to just
    under Pillow's MAX_TEXT_CHUNK (so Pillow keeps every one, up to MAX_TEXT_MEMORY).
    Pillow writes zTXt only from text it holds, so the chunks are framed here."""
    out = io.BytesIO()
    Image.new("RGB", SIZE, (40, 80, 120)).save(out, format="PNG")
    png = out.getvalue()
    header_end = 8 + 25  # the signature and IHDR
    text = zlib.compress(b"A" * (PngImagePlugin.MAX_TEXT_CHUNK - 1), 9)
    texts = b"".join(_chunk(b"zTXt", b"k%d\0\0" % i + text) for i in range(chunks))
    return png[:header_end] + texts + png[header_end:]


def text_chunk_bombs(siege: Siege, at_once: int = 8) -> None:
    """``at_once`` clients, each sending the bomb again as soon as it is answered."""
    png = text_bomb()
    body = encode(image_body(CONTRACT, {image_field(CONTRACT): base64.b64encode(png).decode()}))
    siege.note("PNG KB", round(len(png) / 1024))
    answers: Counter[str] = Counter()
    counting = threading.Lock()

    def client() -> None:
        while siege.running():
            answer = call(siege.address, "POST", PATH, body,
                          timeout=siege.remaining() + IN_FLIGHT_GRACE)
            with counting:
                answers[str(answer.status or answer.error)] += 1

    run_together(client, at_once, "attack-png")
    siege.note("answers", dict(answers))


ATTACKS = (
    Attack("png-text-chunks", "PNG inputs", "8 clients at once sending remove-background a "
           "68 KB PNG of 64 zTXt chunks, 1 MiB each inflated", text_chunk_bombs, seconds=10),
)
