"""``sdxl batch``'s lines: read from standard input, their keys spelled as the body or as
the options, unknown or doubled keys, and a dry run's verdict on bad lines."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner, Result

from sdxl_adapter.cli import main
from sdxl_adapter.cli.errors import ExitCode
from sdxl_adapter.models import SDXL_MODEL_ID
from tests.support.images import image_bytes


def sdxl(*args: str, input: str | None = None) -> Result:
    # SDXL 1.0 unless a test names another model: these tests were written for its options
    # (the default model, Stable Image Core, is tested in tests/cli/test_live_defaults.py).
    named = [] if "--model-id" in args else ["--model-id", SDXL_MODEL_ID]
    return CliRunner().invoke(main, [*named, *args], input=input, catch_exceptions=False)


def dry_run_bodies(result: Result) -> list[dict[str, object]]:
    return [json.loads(line)["body"] for line in result.stdout.splitlines()]


def test_batch_dash_reads_standard_input_relative_to_the_current_folder(in_tmp: Path) -> None:
    (in_tmp / "photo.png").write_bytes(image_bytes((1024, 1024)))
    lines = '"a fox"\n{"prompt": "a red door", "init_image": "photo.png"}\n'
    result = sdxl("batch", "-", input=lines)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (in_tmp / "out" / "stdin").glob("*.png")) == [
        "0001.png", "0002.png"]


def test_batch_keys_accept_the_body_and_the_option_names(in_tmp: Path) -> None:
    lines = [
        {"prompt": "a", "style": "anime", "cfg_scale": 9},
        {"prompt": "b", "style_preset": "anime", "cfg-scale": 9},
        {"prompt": "c", "style-preset": "anime", "clip_guidance_preset": "FAST_BLUE"},
    ]
    result = sdxl("batch", "--dry-run", "-", input="".join(json.dumps(x) + "\n" for x in lines))
    assert result.exit_code == 0, result.output
    bodies = dry_run_bodies(result)
    assert [b["style_preset"] for b in bodies] == ["anime"] * 3
    assert [b.get("cfg_scale") for b in bodies] == [9.0, 9.0, None]
    assert bodies[2]["clip_guidance_preset"] == "FAST_BLUE"


def test_an_unknown_batch_key_says_what_it_may_mean(in_tmp: Path) -> None:
    result = sdxl("batch", "--dry-run", "-", input='{"prompt": "a", "stlye": "anime"}\n')
    assert result.exit_code == ExitCode.BATCH_INCOMPLETE
    (bad,) = [line for line in result.stderr.splitlines() if "bad line" in line]
    assert "unknown key stlye (did you mean style?)" in bad


def test_one_key_spelled_twice_on_a_line_is_a_bad_line(in_tmp: Path) -> None:
    result = sdxl("batch", "--dry-run", "-",
                  input='{"prompt": "a", "style": "anime", "style_preset": "anime"}\n')
    assert result.exit_code == ExitCode.BATCH_INCOMPLETE
    assert "style and style_preset are the same key" in result.stderr


def test_a_dry_run_with_bad_lines_exits_as_the_real_run_does(in_tmp: Path) -> None:
    batch = in_tmp / "lines.jsonl"
    batch.write_text('"a lighthouse"\n{"prompt": "x", "steps": 3}\n', encoding="utf-8")
    dry = sdxl("batch", str(batch), "--dry-run")
    real = sdxl("batch", str(batch), "--out-dir", str(in_tmp / "out"))
    assert dry.exit_code == real.exit_code == ExitCode.BATCH_INCOMPLETE
    assert "1 bad" in dry.stderr
    assert len(dry_run_bodies(dry)) == 1  # the good line would still be sent
