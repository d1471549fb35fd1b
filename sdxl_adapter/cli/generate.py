"""``sdxl generate``: one image from a prompt and options, or from a raw body file."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from sdxl_adapter import errors
from sdxl_adapter.cli.endpoint import PLACEHOLDER_NOTE, Target
from sdxl_adapter.cli.errors import ExitCode, Failure, describe, reported
from sdxl_adapter.cli.options import request_from_options, request_options
from sdxl_adapter.cli.output import body_json, check_writable_dir, free_name
from sdxl_adapter.request import SDXLRequest
from sdxl_adapter.result import GenerationResult


@click.command()
@click.argument("prompt", required=False)
@request_options
@click.option("--body", "body_file", type=click.Path(path_type=Path),
              help="Send the JSON request body in this file (- for stdin) instead of PROMPT "
                   "and the request options.")
@click.option("-o", "--output", type=click.Path(path_type=Path),
              help="Where to write the PNG (a file, or a folder for the default name). "
                   "Default: sdxl-<seed>.png in the current folder, never clobbering.")
@click.option("--overwrite", is_flag=True, help="Replace an existing --output file.")
@click.option("--keep-filtered", is_flag=True,
              help="Keep the (blurred) image of a content-filtered generation.")
@click.option("--stream", is_flag=True, help="Use InvokeModelWithResponseStream.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary on stdout.")
@click.option("--dry-run", is_flag=True, help="Check the request and print it; send nothing.")
@click.pass_obj
def generate(
    target: Target,
    prompt: str | None,
    body_file: Path | None,
    output: Path | None,
    overwrite: bool,
    keep_filtered: bool,
    stream: bool,
    as_json: bool,
    dry_run: bool,
    **options: Any,
) -> None:
    """Generate one image from PROMPT and write it as a PNG with its parameters embedded.

    Choices and ranges are the SDXL contract's (from the request schema); a value outside
    them is refused before anything is sent. Prints where the image went, its seed and the
    finish reason.
    """
    with reported(target.debug):
        request = _request(prompt, body_file, options)
        if dry_run:
            click.echo(f"dry run: nothing sent (endpoint {target.endpoint}, model "
                       f"{target.model_id})", err=True)
            click.echo(body_json(request.to_body()))
            return
        destination = _destination(output, overwrite)
        with target.client() as client:
            click.echo(target.describe(client), err=True)
            try:
                result = client.generate(request, stream=stream)
            except (errors.ContentFiltered, errors.GenerationFailed) as err:
                _report_unfinished(err, target, destination, keep_filtered, as_json)
        path = _save(result, destination, overwrite)
        _report(result, path, target, as_json)


def _request(prompt: str | None, body_file: Path | None, options: dict[str, Any]) -> SDXLRequest:
    given = [f"--{k.replace('_', '-')}" for k, v in options.items() if v not in (None, ())]
    if body_file is not None:
        if prompt is not None or given:
            raise click.UsageError(
                "--body sends the file's request as it is: drop PROMPT and "
                + (", ".join(given) or "the request options")
            )
        return SDXLRequest.from_body(_read_input(body_file))
    if prompt is None:
        raise click.UsageError("give a PROMPT (or --body FILE)")
    try:
        request = request_from_options(prompt, options)
    except OSError as err:  # an --init-image / --mask-image file
        raise _unreadable(err) from err
    return request.validate()


def _read_input(path: Path) -> bytes:
    try:
        return sys.stdin.buffer.read() if str(path) == "-" else path.read_bytes()
    except OSError as err:
        raise _unreadable(err) from err


def _unreadable(err: OSError) -> Failure:
    return Failure(f"cannot read {err.filename}: {err.strerror}", ExitCode.INPUT_UNREADABLE)


class _Destination:
    """Where the image goes: a path chosen now, or a folder where the seed names it."""

    def __init__(self, folder: Path, path: Path | None) -> None:
        self.folder = folder
        self.path = path

    def for_result(self, result: GenerationResult, tag: str = "") -> Path:
        if self.path is not None:
            return self.path
        return free_name(self.folder, f"sdxl-{result.seed}{tag}")


def _destination(output: Path | None, overwrite: bool) -> _Destination:
    # Checked before the request is sent: a refusal afterwards would waste a paid call.
    if output is None or output.is_dir():
        folder = output or Path.cwd()
        check_writable_dir(folder)
        return _Destination(folder, None)
    check_writable_dir(output.parent)
    if output.exists() and not overwrite:
        raise Failure(f"{output} exists: pass --overwrite to replace it, or choose another "
                      "--output", ExitCode.OUTPUT_UNWRITABLE)
    return _Destination(output.parent, output)


def _save(result: GenerationResult, destination: _Destination, overwrite: bool,
          tag: str = "") -> Path:
    path = destination.for_result(result, tag)
    if destination.path is not None and path.exists() and not overwrite:
        # Someone made the file while the request was out.
        path = free_name(path.parent, path.stem, path.suffix)
    try:
        return result.save(path)
    except OSError as err:
        raise Failure(f"cannot write {path}: {err.strerror or err}",
                      ExitCode.OUTPUT_UNWRITABLE) from err


def _summary(result: GenerationResult, path: Path | None, target: Target) -> dict[str, Any]:
    width, height = result.size if result.png else (None, None)
    return {
        "file": str(path) if path else None,
        "seed": result.seed,
        "finish_reason": result.finish_reason,
        "size": f"{width}x{height}" if width else None,
        "request_id": result.request_id,
        "model_id": result.model_id,
        "endpoint": target.endpoint,
        "placeholder": target.is_mock,
    }


def _report(result: GenerationResult, path: Path, target: Target, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(_summary(result, path, target)))
        return
    click.echo(f"wrote {path}")
    click.echo(f"seed {result.seed}, finish reason {result.finish_reason}")
    if target.is_mock:
        click.echo(f"note: {PLACEHOLDER_NOTE}")


def _report_unfinished(
    err: errors.ContentFiltered | errors.GenerationFailed,
    target: Target,
    destination: _Destination,
    keep_filtered: bool,
    as_json: bool,
) -> None:
    """Report a filtered or failed generation and exit with its code (never returns)."""
    message, code = describe(err)
    kept = None
    if keep_filtered and isinstance(err, errors.ContentFiltered) and err.result.png:
        kept = _save(err.result, destination, overwrite=False, tag="-filtered")
        message = (f"the image was content filtered (seed {err.result.seed}); kept the "
                   f"blurred image at {kept}")
    if as_json:
        click.echo(json.dumps({**_summary(err.result, kept, target), "error": message}))
    raise Failure(message, code)
