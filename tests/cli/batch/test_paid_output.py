"""Nothing paid for is lost: an image carries any text its request held (a lone surrogate, a
control character) and gives it back, and a line whose output cannot be written is that
line's failure, never the batch's; a re-run never sends a call already answered."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from PIL import Image

from mock_bedrock.doors.server import MockServer
from sdxl_adapter import batch as batch_module
from sdxl_adapter.cli import main
from sdxl_adapter.manifest import MANIFEST_NAME, Record, read_records
from sdxl_adapter.models import SDXL_MODEL_ID
from sdxl_adapter.result import GenerationResult, read_parameters
from tests.support.jsonl import write_lines

ODD_TEXTS = ["bad \ud800 line", "\udfff", "red \x1b[31m text\x1b[0m", "nul \x00 here",
             "not a character \ufffe", "tab\tline\nreturn\r", "plain é 漢字 😀"]


def run_batch(server: MockServer, path: Path) -> Result:
    return CliRunner().invoke(main, ["--endpoint", server.endpoint_url,
                                     "--model-id", SDXL_MODEL_ID,  # its bodies are read below
                                     "batch", str(path),
                                     "--out-dir", "out"], catch_exceptions=False)


def answered(server: MockServer) -> int:
    return sum(1 for entry in server.journal.entries() if entry.status == 200)


def records(out: Path) -> dict[int, Record]:
    return {r.line: r for r in read_records(out / MANIFEST_NAME)}


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
def test_any_text_comes_back_from_a_saved_image(fmt: str, tmp_path: Path) -> None:
    data = io.BytesIO()
    Image.new("RGB", (16, 16), (90, 120, 200)).save(data, format=fmt)
    for text in ODD_TEXTS:
        result = GenerationResult(images=(data.getvalue(),), seeds=(7,), finish_reasons=(None,),
                                  model_id="stability.stable-image-core-v1:1", request_id="r",
                                  body={"prompt": text, "negative_prompt": text},
                                  output_format=fmt.lower())
        saved = result.save(tmp_path / f"image.{fmt.lower()}")
        parameters = read_parameters(saved)
        assert parameters == result.parameters()
        assert (parameters["prompt"], parameters["negative_prompt"]) == (text, text)


def test_a_lone_surrogate_in_a_prompt_gets_its_image_and_the_lines_after_it_run(
    server: MockServer, in_tmp: Path
) -> None:
    lines: list[Any] = [f"prompt {n}" for n in range(1, 21)]
    lines[1] = {"prompt": "bad \ud800 line"}  # valid JSON: "bad \\ud800 line"
    path = write_lines(in_tmp / "odd.jsonl", lines)
    first = run_batch(server, path)
    assert first.exit_code == 0, first.output
    out = in_tmp / "out"
    assert sorted(p.name for p in out.glob("*.png")) == [f"{n:04d}.png" for n in range(1, 21)]
    assert read_parameters(out / "0002.png")["prompt"] == "bad \ud800 line"
    assert all(record.ok for record in records(out).values())
    assert answered(server) == 20
    again = run_batch(server, path)
    assert again.exit_code == 0, again.output
    assert "done 0, skipped (already done) 20" in again.output
    assert answered(server) == 20  # nothing paid for twice


def test_an_image_whose_parameters_cannot_be_embedded_is_kept_as_sent(
    server: MockServer, in_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    embed = GenerationResult.with_parameters

    def refuse(result: GenerationResult) -> bytes:
        if "two" in result.body["text_prompts"][0]["text"]:
            raise ValueError("no carrier for this text")
        return embed(result)

    monkeypatch.setattr(GenerationResult, "with_parameters", refuse)
    path = write_lines(in_tmp / "lines.jsonl", ["one", "two", "three"])
    first = run_batch(server, path)
    assert first.exit_code == 0, first.output
    out = in_tmp / "out"
    sent = [entry for entry in server.journal.entries() if "two" in str(entry.body)]
    assert len(sent) == 1
    assert (out / "0002.png").read_bytes() != b""
    assert read_parameters(out / "0002.png") == {}  # as the service sent it
    assert read_parameters(out / "0003.png")["prompt"] == "three"
    note = records(out)[2].note
    assert note == "saved without its parameters (ValueError: no carrier for this text)"
    assert f"0002.png: {note}" in first.stderr
    assert "done 0, skipped (already done) 3" in run_batch(server, path).output


def test_a_line_whose_image_cannot_be_saved_fails_alone_and_the_others_go_on(
    server: MockServer, in_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write = batch_module.write_atomically

    def failing(path: Path, data: bytes) -> Path:
        if path.name == "0002.png":
            raise RuntimeError("the encoder broke")
        return write(path, data)

    monkeypatch.setattr(batch_module, "write_atomically", failing)
    path = write_lines(in_tmp / "lines.jsonl", ["one", "two", "three", "four"])
    result = run_batch(server, path)
    assert result.exit_code == 1  # incomplete: one line failed
    out = in_tmp / "out"
    assert sorted(p.name for p in out.glob("*.png")) == ["0001.png", "0003.png", "0004.png"]
    failed = records(out)[2]
    assert not failed.ok
    assert failed.error == "its image could not be saved: RuntimeError: the encoder broke"
    assert failed.request_id is not None and failed.seed is not None  # what was paid, named
    assert "lines.jsonl:2: failed: its image could not be saved" in result.stderr
