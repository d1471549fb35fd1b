"""The Image Services through ``sdxl`` (the in-process mock, the default endpoint): image
options take paths, a prompt only where the model requires one, ``--help`` shows every
field's range and default, ``--fit`` fits photos to the model's limits (and without it an
oversized photo is refused with a hint), and batch lines name images relative to their file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from PIL import Image

from bedrock_contract import ModelContract, default_catalogue
from bedrock_contract.paths import FieldPath
from sdxl_adapter.cli import main
from sdxl_adapter.cli.errors import ExitCode
from sdxl_adapter.models import contract_of
from tests.support.images import image_bytes

SERVICES = sorted((c for c in default_catalogue() if not c.in_region),
                  key=lambda c: c.family)
REMOVE_BACKGROUND = "us.stability.stable-image-remove-background-v1:0"
INPAINT = "us.stability.stable-image-inpaint-v1:0"
OUTPAINT = "us.stability.stable-outpaint-v1:0"
FAST_UPSCALE = "us.stability.stable-fast-upscale-v1:0"
HINT = "use --fit to resize it to the model's limits"
SDXL = str(Path(sys.executable).with_name("sdxl"))


def sdxl(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def photo(path: Path, size: tuple[int, int], fmt: str = "PNG") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(image_bytes(size, fmt))
    return path


def flat(text: str) -> str:
    return " ".join(text.split())


def size_of(path: Path) -> tuple[int, int]:
    with Image.open(path) as image:
        return image.size


# --- background removal: the example -------------------------------------------------


def test_remove_background_writes_a_png_with_alpha(in_tmp: Path) -> None:
    photo(in_tmp / "photo.png", (640, 480))
    result = sdxl("--model-id", REMOVE_BACKGROUND, "generate", "--image", "photo.png",
                  "-o", "cut.png")
    assert result.exit_code == 0, result.output
    with Image.open(in_tmp / "cut.png") as cut:
        assert cut.format == "PNG"
        assert cut.mode == "RGBA"
        assert cut.getextrema()[3][0] < 255  # some pixels are transparent
        assert cut.size == (640, 480)


def test_the_installed_command_removes_a_background(tmp_path: Path) -> None:
    photo(tmp_path / "photo.png", (320, 240))
    env = {k: v for k, v in os.environ.items() if k != "SDXL_ENDPOINT"}
    done = subprocess.run([SDXL, "--model-id", REMOVE_BACKGROUND, "generate", "--image",
                           "photo.png", "-o", "cut.png"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    with Image.open(tmp_path / "cut.png") as cut:
        assert "A" in cut.getbands()


# --- prompts ---------------------------------------------------------------------------------


def test_a_model_without_a_prompt_does_not_ask_for_one() -> None:
    usage = sdxl("--model-id", REMOVE_BACKGROUND, "generate", "--help").stdout.splitlines()[0]
    assert usage.endswith(" generate [OPTIONS]")
    optional = sdxl("--model-id", OUTPAINT, "generate", "--help").stdout.splitlines()[0]
    assert optional.endswith(" generate [OPTIONS] [PROMPT]")


def test_an_optional_prompt_may_be_left_out(in_tmp: Path) -> None:
    photo(in_tmp / "photo.png", (300, 200))
    result = sdxl("--model-id", OUTPAINT, "generate", "--image", "photo.png", "--left", "20",
                  "-o", "wide.png")
    assert result.exit_code == 0, result.output
    assert size_of(in_tmp / "wide.png") == (320, 200)


def test_a_required_prompt_left_out_is_the_contracts_refusal(in_tmp: Path) -> None:
    photo(in_tmp / "photo.png", (300, 200))
    result = sdxl("--model-id", INPAINT, "generate", "--image", "photo.png")
    assert result.exit_code == ExitCode.REFUSED_LOCALLY
    assert "#: required key [prompt] not found" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert list(in_tmp.iterdir()) == [in_tmp / "photo.png"]


# --- --help: every field, its range and its default ------------------------------------------


@pytest.mark.parametrize("contract", SERVICES, ids=lambda c: c.family)
def test_help_shows_every_field_with_its_range_and_default(contract: ModelContract) -> None:
    result = sdxl("--model-id", contract.primary.id, "generate", "--help")
    assert result.exit_code == 0, result.output
    text = flat(result.stdout)
    for name, spec in contract.properties.items():
        if FieldPath((name,)) in contract.prompts.fields:
            continue
        flag = "--" + name.replace("_", "-")
        assert flag in text, name
        if FieldPath((name,)) in contract.image_fields:
            assert f"{flag} PATH" in text
        if "minimum" in spec and "maximum" in spec:
            assert f"[{spec['minimum']}<=x<={spec['maximum']}]" in text, name
        if "default" in spec:
            assert f"Service default: {spec['default']}." in text, name
        if "enum" in spec:
            assert "|".join(spec["enum"]) in text, name
    assert "--fit" in text


def test_outpaint_help_lists_its_directions_creativity_and_styles() -> None:
    contract = contract_of(OUTPAINT)
    text = flat(sdxl("--model-id", OUTPAINT, "generate", "--help").stdout)
    left = contract.field("left")
    assert f"[{left['minimum']}<=x<={left['maximum']}]" in text
    assert f"Service default: {left['default']}" in text
    assert "--creativity FLOAT RANGE" in text
    assert "--image PATH" in text
    assert "--style, --style-preset [" + "|".join(contract.field("style_preset")["enum"]) in text


# --- --fit -----------------------------------------------------------------------------------


def test_an_oversized_photo_is_refused_with_a_hint_and_nothing_is_sent(in_tmp: Path) -> None:
    limit = contract_of(INPAINT).image_rule("image").max_pixels
    photo(in_tmp / "photo.jpg", (4000, 3000), "JPEG")
    result = sdxl("--model-id", INPAINT, "generate", "a red door", "--image", "photo.jpg")
    assert result.exit_code == ExitCode.REFUSED_LOCALLY
    refusal, hint = result.stderr.strip().splitlines()
    assert refusal.startswith("Error: refused locally, nothing was sent: Malformed input "
                              "request: #/image: ")
    assert f"at most {limit} are allowed" in refusal
    assert hint == HINT
    assert list(in_tmp.iterdir()) == [in_tmp / "photo.jpg"]


def test_fit_makes_a_phone_photo_acceptable_and_says_so(in_tmp: Path) -> None:
    limit = contract_of(INPAINT).image_rule("image").max_pixels
    assert limit is not None
    original = photo(in_tmp / "photo.jpg", (4000, 3000), "JPEG").read_bytes()
    result = sdxl("--model-id", INPAINT, "generate", "a red door", "--image", "photo.jpg",
                  "--fit", "-o", "door.png")
    assert result.exit_code == 0, result.output
    note = next(line for line in result.stderr.splitlines() if "resized" in line)
    assert note.startswith("fit: photo.jpg: resized 4000x3000 -> ")
    assert note.endswith(f"to fit {limit:,} pixels")
    width, height = size_of(in_tmp / "door.png")
    assert width * height <= limit
    assert (in_tmp / "photo.jpg").read_bytes() == original  # the user's file is untouched


def test_fit_leaves_an_image_that_fits_alone(in_tmp: Path) -> None:
    photo(in_tmp / "photo.png", (300, 200))
    result = sdxl("--model-id", INPAINT, "generate", "a red door", "--image", "photo.png",
                  "--fit", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "fit:" not in result.stderr


def test_fit_for_the_fast_upscale_limits(in_tmp: Path) -> None:
    contract = contract_of(FAST_UPSCALE)
    limits = contract.image_rule("image")
    assert contract.operation is not None
    factor = contract.operation.spec["factor"]
    photo(in_tmp / "photo.png", (4000, 3000))
    refused = sdxl("--model-id", FAST_UPSCALE, "generate", "--image", "photo.png")
    assert refused.exit_code == ExitCode.REFUSED_LOCALLY
    assert refused.stderr.strip().splitlines()[-1] == HINT
    result = sdxl("--model-id", FAST_UPSCALE, "generate", "--image", "photo.png", "--fit",
                  "-o", "big.png")
    assert result.exit_code == 0, result.output
    assert f"to fit {limits.max_pixels:,} pixels" in result.stderr
    width, height = size_of(in_tmp / "big.png")
    assert width % factor == 0 and height % factor == 0
    sent = (width // factor, height // factor)
    assert max(sent) <= limits.max_side and sent[0] * sent[1] <= limits.max_pixels


def test_fit_with_a_body_file_is_a_usage_error(in_tmp: Path) -> None:
    (in_tmp / "body.json").write_text("{}")
    result = sdxl("--model-id", INPAINT, "generate", "--body", "body.json", "--fit")
    assert result.exit_code == ExitCode.USAGE
    assert "--fit" in result.stderr


def test_an_image_fit_cannot_read_is_refused(in_tmp: Path) -> None:
    (in_tmp / "notes.png").write_text("not a picture")
    result = sdxl("--model-id", INPAINT, "generate", "x", "--image", "notes.png", "--fit")
    assert result.exit_code == ExitCode.REFUSED_LOCALLY
    assert "notes.png: not an image" in result.stderr


# --- batch: images by path, relative to the batch file ---------------------------------------


def test_batch_reads_images_relative_to_its_file_and_reports_a_missing_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    jobs = tmp_path / "jobs"
    photo(jobs / "house.png", (512, 384))
    photo(jobs / "masks" / "door.png", (512, 384))
    batch = jobs / "doors.jsonl"
    batch.write_text("\n".join(json.dumps(line) for line in [
        {"prompt": "a red door", "image": "house.png", "mask": "masks/door.png"},
        {"prompt": "a blue door", "image": "missing.png"},
        {"prompt": "a green door", "image": "house.png", "seed": 5},
    ]) + "\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    result = sdxl("--model-id", INPAINT, "batch", str(batch), "--out-dir", "out")
    assert result.exit_code == ExitCode.BATCH_INCOMPLETE, result.output
    bad = [line for line in result.stderr.splitlines() if "bad line, skipped" in line]
    assert len(bad) == 1
    assert bad[0].startswith(f"{batch}:2: bad line, skipped: cannot read ")
    assert "missing.png" in bad[0]
    assert sorted(p.name for p in (elsewhere / "out").glob("*.png")) == ["0001.png", "0003.png"]
    assert size_of(elsewhere / "out" / "0001.png") == (512, 384)


def test_batch_fit_per_line_or_for_every_line(in_tmp: Path) -> None:
    limit = contract_of(INPAINT).image_rule("image").max_pixels
    photo(in_tmp / "photo.jpg", (4000, 3000), "JPEG")
    batch = in_tmp / "big.jsonl"
    batch.write_text(json.dumps({"prompt": "a", "image": "photo.jpg"}) + "\n"
                     + json.dumps({"prompt": "b", "image": "photo.jpg", "fit": True}) + "\n")
    plain = sdxl("--model-id", INPAINT, "batch", str(batch), "--out-dir", "plain")
    assert plain.exit_code == ExitCode.BATCH_INCOMPLETE
    assert f"{batch}:1: bad line, skipped: Malformed input request: #/image" in plain.stderr
    assert HINT in plain.stderr
    assert f"{batch}:2: fit: " in plain.stderr and f"{limit:,} pixels" in plain.stderr
    fitted = sdxl("--model-id", INPAINT, "batch", str(batch), "--out-dir", "fitted", "--fit")
    assert fitted.exit_code == 0, fitted.output
    assert f"{batch}:1: fit: " in fitted.stderr
    assert len(list((in_tmp / "fitted").glob("*.png"))) == 2


def test_batch_lines_for_a_model_without_a_prompt(in_tmp: Path) -> None:
    photo(in_tmp / "photo.png", (300, 200))
    batch = in_tmp / "cut.jsonl"
    batch.write_text(json.dumps({"image": "photo.png"}) + "\n"
                     + json.dumps({"prompt": "x", "image": "photo.png"}) + "\n")
    result = sdxl("--model-id", REMOVE_BACKGROUND, "batch", str(batch), "--out-dir", "out")
    assert result.exit_code == ExitCode.BATCH_INCOMPLETE
    assert f"{batch}:2: bad line, skipped: unknown key prompt" in result.stderr
    with Image.open(in_tmp / "out" / "0001.png") as cut:
        assert "A" in cut.getbands()


def test_a_bare_service_id_is_refused_and_the_profile_id_named(in_tmp: Path) -> None:
    # The service refuses an on-demand call to a model with no in-Region endpoint; the CLI
    # says which id to call it by.
    (in_tmp / "in.png").write_bytes(image_bytes((64, 64)))
    plain = REMOVE_BACKGROUND.removeprefix("us.")
    result = sdxl("--model-id", plain, "generate", "--image", "in.png", "-o", "out.png")
    assert result.exit_code == ExitCode.BEDROCK_ERROR
    assert "with on-demand throughput isn't supported" in result.stderr
    assert result.stderr.strip().endswith(
        f"call it through its inference profile: --model-id {REMOVE_BACKGROUND}")
    assert not (in_tmp / "out.png").exists()
