"""Titan and Nova Canvas bodies, one per task type, moved to the live Stability model that does
the task (as the source's profile says), valid for it, with what could not carry listed, from
Python and from ``sdxl migrate``."""

from __future__ import annotations

import base64
import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from PIL import Image

from sdxl_adapter.cli import main
from sdxl_adapter.cli.errors import ExitCode
from sdxl_adapter.manifest import MANIFEST_NAME, read_records
from sdxl_adapter.migration import migrate
from sdxl_adapter.result import read_parameters
from sdxl_adapter.task_migration import NoTarget
from tests.support.amazon_bodies import CANVAS, GARMENT, PHOTO, TASKS, TITAN_V1, TITAN_V2

SDXL = str(Path(sys.executable).parent / "sdxl")
CORE = "stability.stable-image-core-v1:1"
INPAINT = "us.stability.stable-image-inpaint-v1:0"
SEARCH_REPLACE = "us.stability.stable-image-search-replace-v1:0"
REMOVE_BACKGROUND = "us.stability.stable-image-remove-background-v1:0"

# (source, task) -> the target, and the keys of its body the migration fills.
EXPECTED = {
    "TEXT_IMAGE": (CORE, {"prompt", "negative_prompt", "seed", "aspect_ratio"}),
    "conditioned TEXT_IMAGE": ("us.stability.stable-image-control-structure-v1:0",
                               {"prompt", "image"}),
    "COLOR_GUIDED_GENERATION": (CORE, {"prompt", "aspect_ratio"}),
    "IMAGE_VARIATION": ("stability.sd3-5-large-v1:0", {"prompt", "image", "mode", "strength"}),
    "INPAINTING": (INPAINT, {"prompt", "image", "mask"}),
    "INPAINTING by prompt": ("us.stability.stable-image-search-replace-v1:0",
                             {"prompt", "image", "search_prompt"}),
    "OUTPAINTING": (INPAINT, {"prompt", "image", "mask"}),
    "BACKGROUND_REMOVAL": ("us.stability.stable-image-remove-background-v1:0", {"image"}),
}
CASES = [(m, t) for m in (TITAN_V1, TITAN_V2, CANVAS) for t in EXPECTED
         if m == CANVAS or (m == TITAN_V2 and t != "VIRTUAL_TRY_ON")
         or t in ("TEXT_IMAGE", "IMAGE_VARIATION", "INPAINTING", "INPAINTING by prompt",
                  "OUTPAINTING")]


@pytest.mark.parametrize(("source", "task"), CASES, ids=[f"{s}-{t}" for s, t in CASES])
def test_each_task_moves_to_the_live_model_that_does_it(source: str, task: str) -> None:
    to, keys = EXPECTED[task]
    moved = migrate(TASKS[task], None, source=source)  # checked against the target inside
    assert moved.to == to
    assert set(moved.body) == keys


def test_what_carries_and_what_is_dropped() -> None:
    moved = migrate(TASKS["TEXT_IMAGE"], None, source=CANVAS)
    assert moved.body == {"prompt": "a lighthouse", "negative_prompt": "fog", "seed": 7,
                          "aspect_ratio": "2:3"}
    assert dict(moved.dropped) == {
        "imageGenerationConfig/numberOfImages": "Stable Image Core makes one image a call: "
                                                "call it again for more",
        "imageGenerationConfig/cfgScale": "Stable Image Core has no guidance scale (how "
                                          "strictly the image follows the prompt)",
    }
    assert dict(moved.changed)["imageGenerationConfig/width, imageGenerationConfig/height"] \
        == "768x1152 became aspect_ratio 2:3 (832x1216 px)"
    palette = migrate(TASKS["COLOR_GUIDED_GENERATION"], None, source=CANVAS)
    assert "colorGuidedGenerationParams/colors" in dict(palette.dropped)
    varied = migrate(TASKS["IMAGE_VARIATION"], None, source=TITAN_V2)
    assert (varied.body["mode"], varied.body["strength"]) == ("image-to-image", 0.1)


def test_a_mask_changes_colours_where_the_meanings_differ() -> None:
    inpaint = migrate(TASKS["INPAINTING"], None, source=CANVAS)
    before = Image.open(io.BytesIO(base64.b64decode(TASKS["INPAINTING"]["inPaintingParams"][
        "maskImage"]))).convert("L")
    after = Image.open(io.BytesIO(base64.b64decode(inpaint.body["mask"]))).convert("L")
    # Canvas edits the black; Stability's inpaint redraws the white.
    assert (before.getpixel((200, 200)), after.getpixel((200, 200))) == (0, 255)
    assert (before.getpixel((5, 5)), after.getpixel((5, 5))) == (255, 0)
    outpaint = migrate(TASKS["OUTPAINTING"], None, source=CANVAS)
    assert outpaint.body["mask"] == TASKS["OUTPAINTING"]["outPaintingParams"]["maskImage"]


def test_a_task_with_no_live_counterpart_says_why() -> None:
    with pytest.raises(NoTarget, match="virtual try-on has no Stability counterpart"):
        migrate(TASKS["VIRTUAL_TRY_ON"], None, source=CANVAS)
    by_prompt = {"taskType": "OUTPAINTING",
                 "outPaintingParams": {**TASKS["OUTPAINTING"]["outPaintingParams"],
                                       "maskPrompt": "the dog"}}
    del by_prompt["outPaintingParams"]["maskImage"]
    with pytest.raises(NoTarget, match="grows the canvas by margins"):
        migrate(by_prompt, None, source=CANVAS)


def test_to_names_another_target() -> None:
    moved = migrate(TASKS["TEXT_IMAGE"], "stability.stable-image-ultra-v1:1", source=CANVAS)
    assert moved.to == "stability.stable-image-ultra-v1:1" and moved.body["seed"] == 7


def test_sdxl_migrate_takes_a_canvas_body(tmp_path: Path) -> None:
    (tmp_path / "canvas.json").write_text(json.dumps(TASKS["INPAINTING by prompt"]))
    done = subprocess.run([SDXL, "--model-id", CANVAS, "migrate", "canvas.json"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    body: dict[str, Any] = json.loads(done.stdout)
    assert body["search_prompt"] == "the cat" and body["prompt"] == ""
    assert "to us.stability.stable-image-search-replace-v1:0" in done.stderr
    refused = subprocess.run([SDXL, "--model-id", CANVAS, "migrate", "-"], cwd=tmp_path,
                             input=json.dumps(TASKS["VIRTUAL_TRY_ON"]), capture_output=True,
                             text=True, timeout=60)
    assert refused.returncode != 0
    assert "virtual try-on has no Stability counterpart" in refused.stderr


def test_sdxl_batch_migrates_canvas_lines(tmp_path: Path) -> None:
    lines = [{"prompt": "a fox", "seed": 7, "width": 1280, "height": 768, "cfg_scale": 8},
             "a lighthouse"]
    (tmp_path / "lines.jsonl").write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    done = subprocess.run([SDXL, "--model-id", CANVAS, "batch", "lines.jsonl", "--migrate-to",
                           CORE], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "lines.jsonl:1: changed imageGenerationConfig/width, imageGenerationConfig/height:" \
           " 1280x768 became aspect_ratio 16:9 (1344x768 px)" in done.stderr
    assert "lines.jsonl:1: dropped imageGenerationConfig/cfgScale:" in done.stderr
    with Image.open(tmp_path / "out" / "lines" / "0001.png") as image:
        assert image.size == (1344, 768)  # Core's 16:9


# Canvas batch lines of four tasks, keyed as `sdxl generate`'s options: three land on three
# live models, the try-on has none.
CANVAS_LINES = [
    {"prompt": "a fox", "seed": 7, "width": 1280, "height": 768, "cfg_scale": 8},
    {"task_type": "INPAINTING", "in_painting_params_image": "photo.png",
     "in_painting_params_mask_prompt": "the cat"},
    {"task_type": "BACKGROUND_REMOVAL", "background_removal_params_image": "photo.png"},
    {"task_type": "VIRTUAL_TRY_ON", "source_image": "photo.png",
     "virtual_try_on_params_reference_image": "garment.png", "mask_type": "GARMENT",
     "garment_class": "UPPER_BODY"},
]


@pytest.fixture
def canvas_lines(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    Image.new("RGB", (512, 384), PHOTO).save(tmp_path / "photo.png")
    Image.new("RGB", (400, 400), GARMENT).save(tmp_path / "garment.png")
    lines = tmp_path / "lines.jsonl"
    lines.write_text("".join(json.dumps(line) + "\n" for line in CANVAS_LINES))
    return tmp_path


def test_batch_migrate_to_auto_sends_each_line_where_its_task_goes(canvas_lines: Path) -> None:
    command = ["--model-id", CANVAS, "batch", "lines.jsonl", "--migrate-to", "auto"]
    done = CliRunner().invoke(main, command)
    assert done.exit_code == ExitCode.BATCH_INCOMPLETE, done.output  # the try-on line
    said = done.stderr.splitlines()
    assert "endpoint: mock (in-process), each line to the live model its task maps to" in said
    for number, model in ((1, CORE), (2, SEARCH_REPLACE), (3, REMOVE_BACKGROUND)):
        assert f"lines.jsonl:{number}: migrated to {model}" in said
    assert "lines.jsonl:1: dropped imageGenerationConfig/cfgScale: Stable Image Core has no " \
        "guidance scale (how strictly the image follows the prompt)" in said
    assert "lines.jsonl:4: bad line, skipped: not migrated: no live Bedrock model dresses a " \
        "person in a garment: virtual try-on has no Stability counterpart" in said
    out = canvas_lines / "out" / "lines"
    records = {r.line: r for r in read_records(out / MANIFEST_NAME)}
    assert {n: r.model_id for n, r in records.items() if r.ok} == {
        1: CORE, 2: SEARCH_REPLACE, 3: REMOVE_BACKGROUND}
    assert not records[4].ok and not (out / "0004.png").exists()
    assert {n: read_parameters(out / f"000{n}.png")["model_id"] for n in (1, 2, 3)} == {
        1: CORE, 2: SEARCH_REPLACE, 3: REMOVE_BACKGROUND}
    with Image.open(out / "0001.png") as core, Image.open(out / "0002.png") as replaced, \
            Image.open(out / "0003.png") as cut_out:
        assert core.size == (1344, 768)  # 1280x768 became Core's 16:9
        assert replaced.size == (512, 384)  # the photo's
        assert cut_out.mode == "RGBA" and cut_out.getpixel((2, 2))[3] == 0
    again = CliRunner().invoke(main, command)  # resumed: each line still goes to its model
    assert "done 0, skipped (already done) 3" in again.stdout


def test_batch_migrate_to_auto_dry_run_names_each_lines_model(canvas_lines: Path) -> None:
    dry = CliRunner().invoke(main, ["--model-id", CANVAS, "batch", "lines.jsonl",
                                    "--migrate-to", "auto", "--dry-run"])
    planned = [json.loads(line) for line in dry.stdout.splitlines()]
    assert [(p["line"], p["model_id"]) for p in planned] == [
        (1, CORE), (2, SEARCH_REPLACE), (3, REMOVE_BACKGROUND)]
    assert planned[0]["body"] == {"prompt": "a fox", "seed": 7, "aspect_ratio": "16:9"}
    assert not (canvas_lines / "out").exists()


def test_batch_migrate_to_auto_needs_lines_of_a_model_of_several_tasks(
    canvas_lines: Path,
) -> None:
    sdxl_lines = CliRunner().invoke(main, ["batch", "lines.jsonl", "--migrate-to", "auto"])
    assert sdxl_lines.exit_code == ExitCode.USAGE
    assert "Stable Diffusion XL 1.0 lines (stability.stable-diffusion-xl-v1) have no task to " \
        "choose by: name the model to move to (--migrate-to MODEL)" in sdxl_lines.stderr
