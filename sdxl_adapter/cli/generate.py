"""``sdxl generate``: one image from a prompt and options, or from a raw body file.

The command is made per model: its request options are the ones the group's
``--model-id`` names (:func:`generate_command`), so ``sdxl --model-id M generate --help``
shows M's own options. What making an image needs (the request, the client, the result)
is imported when the command runs: ``sdxl --help`` makes this command for its summary line.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from bedrock_contract.printable import printable
from sdxl_adapter.cli.endpoint import PLACEHOLDER_NOTE, Target
from sdxl_adapter.cli.errors import (
    ExitCode,
    Failure,
    describe,
    json_syntax_error,
    migrate_hint,
    refusal,
    reported,
)
from sdxl_adapter.cli.options import (
    FIT_HINT,
    PROMPT,
    given_options,
    model_options,
    options_behind,
    request_from_options,
    requires_prompt,
    takes_prompt,
)
from sdxl_adapter.cli.output import body_json, check_writable_dir, make_dir
from sdxl_adapter.models import is_sdxl
from sdxl_adapter.output_names import free_name

if TYPE_CHECKING:
    from bedrock_contract import ModelContract
    from sdxl_adapter import errors
    from sdxl_adapter.request import ModelRequest
    from sdxl_adapter.result import GenerationResult

# The options every model's generate command has, besides its request options.
_COMMON = (
    "body_file", "output", "overwrite", "keep_filtered", "stream", "as_json", "dry_run",
)


def generate_command(contract: ModelContract) -> click.Command:
    """``generate`` with ``contract``'s request options (and PROMPT where the model takes a
    prompt; optional on the command line, so the contract words a missing one)."""
    return _OptionsWhenAsked(
        "generate", functools.partial(_params, contract), callback=_generate,
        help=f"""Generate one image with {contract.name} {_source(contract)} and write it
        with its parameters embedded (PNG text chunks, a JPEG comment, WebP XMP).

        Choices and ranges are the model's contract (from its request schema); a value
        outside them is refused before anything is sent. Prints where the image went, its
        seed and the finish reason. `sdxl --model-id MODEL generate --help` shows another
        model's options.""",
        short_help=f"Generate one image with {contract.name} (--model-id picks the model).",
    )


class _OptionsWhenAsked(click.Command):
    """A command whose parameters are made when first asked for (to parse, to show its
    help, to complete), not with the command: ``sdxl --help`` lists ``generate`` by its
    summary alone, and its options read botocore's model (InvokeModel's parameters)."""

    def __init__(self, name: str, make_params: Callable[[], list[click.Parameter]],
                 **kwargs: Any) -> None:
        self._make_params = make_params
        self._made: list[click.Parameter] | None = None
        super().__init__(name, **kwargs)

    @property
    def params(self) -> list[click.Parameter]:
        if self._made is None:
            self._made = self._make_params()
        return self._made

    @params.setter
    def params(self, value: list[click.Parameter]) -> None:
        # click.Command sets [] when it is made: the parameters are still to be made then.
        self._made = value or None


def _params(contract: ModelContract) -> list[click.Parameter]:
    from sdxl_adapter.cli.parameters import parameter_options

    prompt = [click.Argument([PROMPT], required=False)] if takes_prompt(contract) else []
    params: list[click.Parameter] = [
        *prompt,
        *model_options(contract).params,
        click.Option(["--body", "body_file"], type=click.Path(path_type=Path),
                     help="Send the JSON request body in this file (- for stdin) instead of "
                          "PROMPT and the request options."),
        click.Option(["-o", "--output"], type=click.Path(),
                     help="Where to write the image (a file, or a folder for the default "
                          "name; a path ending in / is a folder, made if missing). "
                          f"Default: {_stem(contract)}-<seed>.<format> in the current "
                          "folder, never clobbering. A .png/.jpg/.webp name sets the output "
                          "format when none is given."),
        click.Option(["--overwrite"], is_flag=True, help="Replace an existing --output file."),
        click.Option(["--keep-filtered"], is_flag=True,
                     help="Keep the (blurred) image of a content-filtered generation."),
        *parameter_options(contract),
        click.Option(["--json", "as_json"], is_flag=True, help="Print a JSON summary on stdout."),
        click.Option(["--dry-run"], is_flag=True,
                     help="Check the request and print it; send nothing."),
    ]
    if contract.streaming:
        params.insert(-2, click.Option(["--stream"], is_flag=True,
                                       help="Use InvokeModelWithResponseStream."))
    return params


def _source(contract: ModelContract) -> str:
    if not takes_prompt(contract):
        return "from its input images (it takes no prompt)"
    if not requires_prompt(contract):
        return "from its input images and PROMPT (optional for this model)"
    return "from PROMPT"


def _stem(contract: ModelContract) -> str:
    return "sdxl" if is_sdxl(contract) else contract.family


def _generate(**kwargs: Any) -> None:
    from bedrock_contract.service import INVOKE, INVOKE_STREAM
    from sdxl_adapter import errors
    from sdxl_adapter.parameters import ARGUMENTS, call_parameters, check_parameters

    target = click.get_current_context().find_object(Target) or Target()
    common = {name: kwargs.pop(name, False) for name in _COMMON}
    arguments = {name: kwargs.pop(name, None) for name in ARGUMENTS}
    prompt = kwargs.pop(PROMPT, None)
    output, folder = _output_path(common["output"])
    with reported(target.debug):
        contract = target.contract
        # Checked first, as the service checks them before it reads the body (what the
        # model offers in its region again by the client, once the region is known).
        operation = INVOKE_STREAM if common["stream"] else INVOKE
        check_parameters(operation, target.model_id, call_parameters(**arguments),
                         region=target.region)
        _format_from_name(contract, output, common["body_file"], kwargs)
        try:
            request = _request(target, prompt, common["body_file"], kwargs)
        except Failure as failure:
            refused = failure.__cause__
            if common["as_json"] and isinstance(refused, errors.InvalidRequest):
                # For programs: Bedrock's own message, as the service would answer it.
                click.echo(json.dumps({"refused": True, "message": refused.message}))
            raise
        _check_format(contract, output, request, kwargs)
        if common["dry_run"]:
            click.echo(printable(f"dry run: nothing sent (endpoint {target.endpoint}, model "
                                 f"{target.model_id})"), err=True)
            click.echo(body_json(contract, request.to_body()))
            return
        destination = _destination(output, folder, common["overwrite"], contract)
        with target.client() as client:
            click.echo(printable(target.describe(client)), err=True)
            warning = target.end_of_life_warning()
            if warning:
                click.echo(printable(warning), err=True)
            try:
                result = client.generate(request, stream=bool(common["stream"]), **arguments)
            except (errors.ContentFiltered, errors.GenerationFailed) as err:
                _warn_if_retired(target)  # answered all the same
                _report_unfinished(err, target, destination, common["keep_filtered"],
                                   common["as_json"])
            _warn_if_retired(target)
        paths = _save(result, destination, common["overwrite"])
        _report(result, paths, target, common["as_json"])


def _warn_if_retired(target: Target) -> None:
    """A retired model was answered (by a mock whose date allows it): say so, last."""
    warning = target.end_of_life_answered()
    if warning:
        click.echo(printable(warning), err=True)


def _output_path(raw: str | None) -> tuple[Path | None, Path | None]:
    """``-o`` as (the file to write, the folder to name it in): a path ending in a
    separator, or an existing folder, is a folder."""
    if raw is None:
        return None, None
    path = Path(raw)
    if raw.endswith(("/", os.sep)) or path.is_dir():
        return None, path
    return path, None


def _format_option(contract: ModelContract) -> str | None:
    named = contract.response.format_field
    found = model_options(contract).field_option(named) if named else None
    return found.param if found else None


def _format_from_name(contract: ModelContract, output: Path | None, body_file: Path | None,
                      options: dict[str, Any]) -> None:
    from sdxl_adapter.result import output_format_of

    # -o x.jpg without --output-format asks for JPEG, where the model makes it.
    named = output_format_of(output) if output is not None else None
    param = _format_option(contract)
    if named is None or body_file is not None or param is None or options.get(param):
        return
    if named in contract.output_formats and named != contract.output_format({}):
        options[param] = named


def _check_format(contract: ModelContract, output: Path | None, request: ModelRequest,
                  options: dict[str, Any]) -> None:
    from sdxl_adapter.result import EXTENSIONS, output_format_of

    named = output_format_of(output) if output is not None else None
    asked = request.output_format
    if named is None or named == asked:
        return
    assert output is not None
    param = _format_option(contract)
    if param and options.get(param):
        why = f"--{param.replace('_', '-')} is {asked}"
    elif named not in contract.output_formats:
        why = f"{contract.name} makes {', '.join(contract.output_formats)} only"
    else:
        why = f"the request asks for {asked}"
    raise Failure(f"-o {output.name} names a {named} file, but {why}: name it "
                  f"*{EXTENSIONS.get(asked, '.' + asked)}, or make them agree", ExitCode.USAGE)


def _request(target: Target, prompt: str | None, body_file: Path | None,
             options: dict[str, Any]) -> ModelRequest:
    from sdxl_adapter import errors
    from sdxl_adapter.fit import unfitted
    from sdxl_adapter.request import ModelRequest

    contract = target.contract
    given = given_options(contract, options)
    if body_file is not None:
        if prompt is not None or given:
            raise click.UsageError(
                "--body sends the file's request as it is: drop PROMPT and "
                + (", ".join(given) or "the request options")
            )
        raw = _read_input(body_file)
        syntax = json_syntax_error(raw, str(body_file))
        if syntax is not None:
            raise syntax
        try:
            return ModelRequest.from_body(target.model_id, raw)
        except errors.InvalidRequest as err:
            raise refusal(err, migrate_hint(contract, target.model_id, raw, str(body_file))
                          ) from err
    try:
        request, notes = request_from_options(target.model_id, contract, prompt, options)
    except OSError as err:  # an image file
        raise _unreadable(err) from err
    for note in notes:
        click.echo(printable(f"fit: {note}"), err=True)
    try:
        return request.validate()
    except errors.InvalidRequest as err:
        # Bedrock's message names body fields; say which of the options typed set them.
        behind = options_behind(contract, (v.pointer for v in err.violations),
                                {**options, PROMPT: prompt})
        hints = [f"({behind})"] if behind else []
        if unfitted(contract, request.to_body()):
            hints.append(FIT_HINT)
        raise refusal(err, hints) from err


def _read_input(path: Path) -> bytes:
    try:
        return sys.stdin.buffer.read() if str(path) == "-" else path.read_bytes()
    except OSError as err:
        raise _unreadable(err) from err


def _unreadable(err: OSError) -> Failure:
    return Failure(f"cannot read {err.filename}: {err.strerror}", ExitCode.INPUT_UNREADABLE)


class _Destination:
    """Where the image goes: a path chosen now, or a folder where the seed names it."""

    def __init__(self, folder: Path, path: Path | None, stem: str) -> None:
        self.folder = folder
        self.path = path
        self.stem = stem

    def for_result(self, result: GenerationResult, tag: str = "") -> Path:
        if self.path is not None:
            return self.path
        seed = result.seed_of_record
        named = self.stem if seed is None else f"{self.stem}-{seed}"
        return free_name(self.folder, f"{named}{tag}", result.extension)


def _destination(output: Path | None, folder: Path | None, overwrite: bool,
                 contract: ModelContract) -> _Destination:
    # Checked before the request is sent: a refusal afterwards would waste a paid call.
    if output is None:
        folder = folder or Path.cwd()
        make_dir(folder)
        check_writable_dir(folder)
        return _Destination(folder, None, _stem(contract))
    check_writable_dir(output.parent)
    if output.exists() and not overwrite:
        raise Failure(f"{output} exists: pass --overwrite to replace it, or choose another "
                      "--output", ExitCode.OUTPUT_UNWRITABLE)
    return _Destination(output.parent, output, _stem(contract))


def _save(result: GenerationResult, destination: _Destination, overwrite: bool,
          tag: str = "") -> list[Path]:
    """Write the image, then whatever else the call returned (more images, a mask) beside
    it under free names; returns every path written, the image's first."""
    path = destination.for_result(result, tag)
    if destination.path is not None and path.exists() and not overwrite:
        # Someone made the file while the request was out.
        path = free_name(path.parent, path.stem, path.suffix)
    written: list[Path] = []
    try:
        written.append(result.save(path))
        written += result.save_others(path)
    except OSError as err:
        failed = err.filename or path
        raise Failure(f"cannot write {failed}: {err.strerror or err}"
                      + (f" ({', '.join(map(str, written))} written)" if written else ""),
                      ExitCode.OUTPUT_UNWRITABLE) from err
    return written


def _summary(result: GenerationResult, paths: list[Path], target: Target) -> dict[str, Any]:
    from sdxl_adapter.cli.placeholder import is_placeholder

    width, height = result.size if result.has_image else (None, None)
    return {
        "file": str(paths[0]) if paths else None,
        "other_files": [str(path) for path in paths[1:]],  # more images, a returned mask
        "seed": result.seed,
        "finish_reason": result.finish_reason,
        "output_format": result.output_format,
        "size": f"{width}x{height}" if width else None,
        "request_id": result.request_id,
        "model_id": result.model_id,
        "endpoint": target.endpoint,
        "placeholder": target.is_mock or is_placeholder(result.data),
    }


def _report(result: GenerationResult, paths: list[Path], target: Target,
            as_json: bool) -> None:
    from sdxl_adapter.cli.placeholder import is_placeholder

    if as_json:
        click.echo(json.dumps(_summary(result, paths, target)))
        return
    for path in paths:
        click.echo(printable(f"wrote {path}"))
    reason = "null (success)" if result.finish_reason is None else result.finish_reason
    # A model that takes no seed (background removal, fast upscale) answers with one all
    # the same, which means nothing to the user; Titan's and Canvas's answers carry none.
    seeded = target.contract.seed_field is not None and result.seed is not None
    click.echo(printable(f"seed {result.seed}, finish reason {reason}" if seeded
                         else f"finish reason {reason}"))
    if target.is_mock or is_placeholder(result.data):
        click.echo(f"note: {PLACEHOLDER_NOTE}")


def _report_unfinished(
    err: errors.ContentFiltered | errors.GenerationFailed,
    target: Target,
    destination: _Destination,
    keep_filtered: bool,
    as_json: bool,
) -> None:
    """Report a filtered or failed generation and exit with its code (never returns)."""
    from sdxl_adapter import errors

    message, code = describe(err)
    kept: list[Path] = []
    if keep_filtered and isinstance(err, errors.ContentFiltered) and err.result.has_image:
        kept = _save(err.result, destination, overwrite=False, tag="-filtered")
        message = (f"the image was content filtered (seed {err.result.seed}); kept the "
                   f"blurred image at {', '.join(map(str, kept))}")
    if as_json:
        click.echo(json.dumps({**_summary(err.result, kept, target), "error": message}))
    raise Failure(message, code)
