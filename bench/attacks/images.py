"""Input images that cost the mock far more than their bytes (issue 18): SD3.5 Large's image
to image at the input's size, outputs past WebP's side limit, a progressive JPEG of 100,000
scans, a PNG of a million chunks, outpaint at its limits; several clients at once."""

from __future__ import annotations

import base64
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

from bedrock_contract import contract_for
from bench.attacks.calls import call
from bench.attacks.harness import Attack, Siege
from bench.attacks.inputs import flat_image, png_of_chunks, scan_bomb
from bench.bodies import encode, image_body

SD35 = "stability.sd3-5-large-v1:0"
OUTPAINT = "us.stability.stable-outpaint-v1:0"
CREATIVE = "us.stability.stable-creative-upscale-v1:0"
REMOVE_BACKGROUND = "us.stability.stable-image-remove-background-v1:0"
IN_FLIGHT_GRACE = 5.0  # a call started before the deadline may finish after it
GIVE_UP = 5.0  # how long the scan bomb's client waits for an answer


def _body(model_id: str, image: bytes, output_format: str | None = None,
          **fields: Any) -> bytes:
    contract = contract_for(model_id)
    field = contract.image_fields[0].key
    images = {field: base64.b64encode(image).decode()}
    return encode(image_body(contract, images, output_format=output_format, **fields))


def _path(model_id: str) -> str:
    return f"/model/{model_id}/invoke"


def _clients(siege: Siege, bodies: list[tuple[str, str, bytes]], at_once: int,
             timeout: float | None = None) -> None:
    """``at_once`` clients, each sending ``bodies`` (name, model id, body) in turn, again
    as soon as each is answered (or given up on after ``timeout``); the answers counted by
    name and status."""
    answers: Counter[str] = Counter()
    counting = threading.Lock()

    def client(offset: int) -> Callable[[], None]:
        def run() -> None:
            turn = offset
            while siege.running():
                name, model_id, body = bodies[turn % len(bodies)]
                turn += 1
                wait = siege.remaining() + IN_FLIGHT_GRACE if timeout is None else timeout
                answer = call(siege.address, "POST", _path(model_id), body, timeout=wait)
                with counting:
                    answers[f"{name}: {answer.status or answer.error}"] += 1
        return run

    threads = [threading.Thread(target=client(i), name=f"attack-images-{i}", daemon=True)
               for i in range(at_once)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    siege.note("answers", dict(answers))


def sd35_huge_inputs(siege: Siege) -> None:
    """4 clients at once sending SD3.5 Large image to image a flat 9000x9000 input, as PNG
    and as baseline JPEG in turn."""
    png, jpeg = flat_image((9000, 9000)), flat_image((9000, 9000), "JPEG", quality=90)
    siege.note("PNG KB, JPEG KB", [round(len(png) / 1024), round(len(jpeg) / 1024)])
    bodies = [("png", SD35, _body(SD35, png, strength=0.5)),
              ("jpeg", SD35, _body(SD35, jpeg, strength=0.5))]
    _clients(siege, bodies, at_once=4)


def webp_past_its_side(siege: Siege) -> None:
    """One client sending, in turn, SD3.5 image to image a 17000x600 input and creative
    upscale a 16384x64 one, each asking for WebP (whose sides stop at 16,383 px)."""
    bodies = [("sd35 17000x600", SD35, _body(SD35, flat_image((17000, 600)), "webp",
                                              strength=0.5)),
              ("creative 16384x64", CREATIVE, _body(CREATIVE, flat_image((16384, 64)), "webp"))]
    _clients(siege, bodies, at_once=1)


def jpeg_scan_bombs(siege: Siege) -> None:
    """2 clients sending SD3.5 image to image a flat 3072x3072 progressive JPEG whose
    shortest scan is repeated to 100,000 scans, each giving up after 5 s."""
    bomb = scan_bomb(3072, 100_000)
    siege.note("JPEG KB", round(len(bomb) / 1024))
    _clients(siege, [("scan bomb", SD35, _body(SD35, bomb, strength=0.5))], at_once=2,
             timeout=GIVE_UP)


def png_chunk_bombs(siege: Siege) -> None:
    """4 clients at once sending remove-background a 64x64 PNG of 1,000,000 empty chunks
    and one tEXt."""
    png = png_of_chunks(1_000_000)
    siege.note("PNG KB", round(len(png) / 1024))
    _clients(siege, [("chunks", REMOVE_BACKGROUND, _body(REMOVE_BACKGROUND, png))], at_once=4)


def outpaint_at_limits(siege: Siege) -> None:
    """4 clients at once asking outpaint to grow a flat 4850x1942 input (the most its
    9,437,184 pixels and 2.5:1 allow) by 2,000 px each way (PNG, its default)."""
    margins: dict[str, Any] = {"left": 2000, "right": 2000, "up": 2000, "down": 2000}
    body = _body(OUTPAINT, flat_image((4850, 1942)), **margins)
    _clients(siege, [("outpaint", OUTPAINT, body)], at_once=4)


ATTACKS = (
    Attack("sd35-huge-input", "input images", "4 clients at once sending SD3.5 Large image "
           "to image a flat 9000x9000 input (PNG, then baseline JPEG)", sd35_huge_inputs,
           seconds=10),
    Attack("webp-past-its-side", "input images", "1 client asking for WebP of a 17000x600 "
           "image to image and a 16384x64 creative upscale", webp_past_its_side, seconds=5),
    Attack("jpeg-scan-bomb", "input images", "2 clients sending a 3072x3072 progressive JPEG "
           "of 100,000 scans, giving up after 5 s", jpeg_scan_bombs, seconds=10),
    Attack("png-million-chunks", "input images", "4 clients at once sending a 12 MB PNG of "
           "1,000,000 empty chunks and a tEXt", png_chunk_bombs, seconds=10),
    Attack("outpaint-limits", "input images", "4 clients at once: outpaint of a 4850x1942 "
           "input by 2,000 px each way", outpaint_at_limits, seconds=10),
)
