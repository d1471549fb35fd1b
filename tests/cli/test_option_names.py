"""A local refusal keeps Bedrock's message, which names body fields, and says under it which
of the options typed set the fields it points at (``--size`` for ``#/height``). Only the
pointers are relied on here: the message texts are the contract's and may be reworded."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from sdxl_adapter.cli import main
from sdxl_adapter.cli.errors import ExitCode
from tests.support.images import image_bytes

CORE = "stability.stable-image-core-v1:1"
SD35 = "stability.sd3-5-large-v1:0"
INPAINT = "us.stability.stable-image-inpaint-v1:0"
SDXL = "stability.stable-diffusion-xl-v1"
LONG = "x" * 20_000  # longer than any model's prompt allows


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "photo.png").write_bytes(image_bytes((1024, 1024)))
    return tmp_path


def refusal(*args: str) -> list[str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert result.exit_code == ExitCode.REFUSED_LOCALLY, result.output
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    several = re.fullmatch(r"Error: refused locally, nothing was sent; (\d+) violations:",
                           lines[0])
    if several:  # one violation a line: here as one, then the hints
        count = int(several[1])
        return [" ".join(lines[1:1 + count]), *lines[1 + count:]]
    assert lines[0].startswith("Error: refused locally, nothing was sent: ")
    return lines


@pytest.mark.parametrize(("args", "pointers", "hint"), [
    (["--model-id", SD35, "generate", "a harbour", "--image", "photo.png", "--strength", "0.5",
      "--aspect-ratio", "16:9"],
     ["#/aspect_ratio"], "(--image excludes aspect_ratio)"),
    (["--model-id", SDXL, "generate", "a harbour", "--negative", LONG],
     ["#/text_prompts/1"], "(PROMPT and --negative set text_prompts)"),
    (["--model-id", SDXL, "generate", LONG, "--seed", "3"], ["#/text_prompts/0"], "(PROMPT sets text_prompts)"),
    (["--model-id", CORE, "generate", LONG, "--negative", LONG, "--seed", "3"],
     ["#/prompt", "#/negative_prompt"], "(PROMPT sets prompt; --negative sets negative_prompt)"),
    (["--model-id", CORE, "generate", "a harbour", "-n", LONG],
     ["#/negative_prompt"], "(--negative sets negative_prompt)"),
    (["--model-id", INPAINT, "generate", LONG, "--image", "photo.png"],
     ["#/prompt"], "(PROMPT sets prompt)"),
], ids=["sd35-aspect-ratio", "sdxl-negative", "sdxl-prompt", "core-both", "core-negative",
        "inpaint-prompt"])
def test_the_refusal_names_the_options_behind_its_fields(
    in_tmp: Path, args: list[str], pointers: list[str], hint: str
) -> None:
    lines = refusal(*args)
    for pointer in pointers:
        assert pointer in lines[0]  # Bedrock's message, as it was
    assert lines[1:] == [hint]


def test_a_refusal_of_the_body_as_a_whole_adds_nothing(in_tmp: Path) -> None:
    # "#": the fields are named in the text only; an option is named by pointer, never by
    # reading the text.
    lines = refusal("--model-id", SD35, "generate", "a harbour", "--mode", "image-to-image")
    assert "#: " in lines[0]
    assert lines[1:] == []


def test_an_option_spelled_as_its_field_is_not_restated(in_tmp: Path) -> None:
    (in_tmp / "tiny.png").write_bytes(image_bytes((40, 40)))
    lines = refusal("--model-id", INPAINT, "generate", "a door", "--image", "tiny.png")
    assert "#/image" in lines[0]
    assert not any(line.startswith("(") for line in lines[1:])  # no "(--image sets image)"
