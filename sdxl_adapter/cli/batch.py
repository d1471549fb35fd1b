"""``sdxl batch``: a JSON Lines file of requests, run concurrently and resumably.

The batch machinery (:mod:`sdxl_adapter.batch`, the manifest, the folder lock) and the
client are imported when the command runs: ``sdxl --help`` reads this module for the
command's options and help.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from bedrock_contract.printable import printable
from sdxl_adapter.cli.endpoint import PLACEHOLDER_NOTE, Target, known_model
from sdxl_adapter.cli.errors import ExitCode, Failure, describable, describe, reported
from sdxl_adapter.cli.output import check_writable_dir, make_dir
from sdxl_adapter.models import SDXL_MODEL_ID

if TYPE_CHECKING:
    from sdxl_adapter.batch import (
        BatchLine,
        BatchRun,
        BatchSummary,
        Generate,
        Parse,
        WriteFailure,
    )
    from sdxl_adapter.request import AnyRequest

DEFAULT_OUT_ROOT = Path("out")
STDIN = "-"
# --migrate-to's value that moves each line to the live model its task maps to.
AUTO = "auto"
PER_LINE = "each line to the live model its task maps to"


def _migration_target(ctx: click.Context, param: click.Parameter,
                     value: str | None) -> str | None:
    """--migrate-to's callback: ``auto``, or a model the catalogue knows."""
    if value is not None and value.lower() == AUTO:
        return AUTO
    return known_model(ctx, param, value)


@click.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--out-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Where images and manifest.jsonl go. Default: out/<FILE's name>.")
@click.option("--concurrency", type=click.IntRange(min=1), default=4, show_default=True,
              help="Requests in flight at once.")
@click.option("--max-attempts", type=click.IntRange(min=1), default=8, show_default=True,
              help="Attempts per request, the first included; throttling and 5xx answers "
                   "are retried with botocore's backoff.")
@click.option("--keep-filtered", is_flag=True,
              help="Keep the (blurred) images of content-filtered lines.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON on stdout.")
@click.option("--dry-run", is_flag=True,
              help="Check every line and print the bodies that would be sent; send nothing.")
@click.option("--migrate-to", metavar="MODEL|auto", callback=_migration_target,
              help="Lines are for the group's --model-id (SDXL 1.0 when none is given, as "
                   "for `sdxl migrate`): move each to MODEL and send it there; what does not "
                   "carry over is listed on stderr. auto (Titan and Nova Canvas lines): each "
                   "line to the live model its task maps to, as `sdxl migrate` without --to "
                   "chooses; each line's model is named on stderr and in the manifest, and a "
                   "line whose task no live model does is a bad line.")
@click.option("--fit", is_flag=True,
              help="Fit every line's images to the model's limits (as generate --fit "
                   "does; a line's own \"fit\" key wins); each change is listed on stderr.")
@click.pass_obj
def batch(
    target: Target,
    file: Path,
    out_dir: Path | None,
    concurrency: int,
    max_attempts: int,
    keep_filtered: bool,
    as_json: bool,
    dry_run: bool,
    migrate_to: str | None,
    fit: bool,
) -> None:
    """Generate one image per line of FILE (JSON Lines; - reads standard input).

    \b
    Each line is a prompt as a JSON string, or an object keyed like generate's
    arguments and options:
      "a lighthouse at dusk"
      {"prompt": "a fox", "negative": ["blur"], "size": "1152x896", "seed": 7,
       "steps": 40, "style": "anime", "cfg_scale": 9}
    Images are paths, relative to FILE's folder (the current one for -; "fit": true fits
    them):
      {"prompt": "a red door", "image": "house.png", "mask": "masks/door.png"}

    Line N's image is <out-dir>/000N.<format> (for -, out-dir defaults to out/stdin);
    manifest.jsonl records each line's outcome.
    Re-running the same command after an interruption does only the lines not done yet
    and never overwrites a finished image; a line edited since its image was made is
    made again, its old image kept as 000N.prev-<hash>.<format>. Bad lines are reported
    and skipped. One run at a time per out-dir: a second one is refused (exit 15).
    """
    from sdxl_adapter.batch import BatchRun

    from_stdin = str(file) == STDIN
    out_dir = out_dir or DEFAULT_OUT_ROOT / ("stdin" if from_stdin else file.stem)
    source = "<stdin>" if from_stdin else str(file)  # what messages name
    base_dir = Path.cwd() if from_stdin else file.parent  # image paths are relative to it
    with reported(target.debug):
        # Lines to migrate are SDXL's unless --model-id says otherwise, as for `sdxl migrate`.
        read_as = (dataclasses.replace(target, model_id=SDXL_MODEL_ID)
                   if migrate_to and not target.model_named else target)
        per_line = migrate_to == AUTO
        if per_line:
            _check_chooses(read_as)
        lines = _read_lines(file)
        # Per line, each request names its own model: this target gives the endpoint, and its
        # model (the lines' retired one) is only read, never sent to.
        sent_to = read_as if per_line else dataclasses.replace(
            target, model_id=migrate_to or target.model_id)
        model = PER_LINE if per_line else None  # how the endpoint line names the model

        def new_run() -> BatchRun:
            return BatchRun(lines, out_dir, parse=_parser(read_as, migrate_to, fit),
                            base_dir=base_dir, model_id=sent_to.model_id,
                            concurrency=concurrency, keep_filtered=keep_filtered,
                            describe=_describe)

        if dry_run:
            # No lock: a dry run writes nothing, so it neither waits for a run going on in
            # the folder nor stops one from starting; it shows the manifest as it is now.
            _dry_run(new_run(), sent_to, source, model)
            return
        _prepare(out_dir)
        with _locked(out_dir):
            run = new_run()  # reads the manifest: under the lock, so no run is writing it
            with sent_to.client(max_attempts, connections=concurrency) as client:
                _say(sent_to.describe(client, model), err=True)
                warning = None if per_line else sent_to.end_of_life_warning()
                if warning:
                    _say(warning, err=True)
                summary = _run_with_progress(run, client.generate)
                answered = sent_to.end_of_life_answered("these calls were") \
                    if summary.done and not per_line else None
                if answered:  # a retired model answered (by a mock whose date allows it)
                    _say(answered, err=True)
    _finish(run, summary, source, as_json, sent_to)


@contextlib.contextmanager
def _locked(out_dir: Path) -> Iterator[None]:
    """Hold the out dir's lock (:mod:`sdxl_adapter.folder_lock`), or refuse in one line."""
    from sdxl_adapter.folder_lock import FolderBusy, exclusive

    stack = contextlib.ExitStack()
    try:
        stack.enter_context(exclusive(out_dir))
    except FolderBusy as err:
        holder = f" (pid {err.holder})" if err.holder else ""
        raise Failure(f"{out_dir} is in use by another sdxl batch run{holder}: wait for it "
                      "to finish, or choose another --out-dir", ExitCode.OUTPUT_BUSY) from err
    except OSError as err:
        raise Failure(f"cannot lock {out_dir}: {err.strerror or err}",
                      ExitCode.OUTPUT_UNWRITABLE) from err
    with stack:
        yield


def _check_chooses(source: Target) -> None:
    """Refuse --migrate-to auto for lines whose model's profile maps no task to a live model
    (SDXL's: which live model its bodies move to is the caller's choice, as for migrate)."""
    from sdxl_adapter.task_migration import has_task_migration

    if not has_task_migration(source.contract):
        raise Failure(f"--migrate-to auto chooses by each line's task, and "
                      f"{source.contract.name} lines ({source.model_id}) have no task to "
                      "choose by: name the model to move to (--migrate-to MODEL)",
                      ExitCode.USAGE)


def _read_lines(file: Path) -> list[BatchLine]:
    """FILE's lines, or standard input's, as JSON (each made into its request at its turn)."""
    from sdxl_adapter.batch import parse_batch, read_batch

    try:
        if str(file) == STDIN:
            return parse_batch(sys.stdin.buffer.read().decode("utf-8"))
        return read_batch(file)
    except (OSError, UnicodeDecodeError) as err:
        reason = err.strerror if isinstance(err, OSError) else "not UTF-8 text"
        raise Failure(f"cannot read {file}: {reason}", ExitCode.INPUT_UNREADABLE) from err


def _parser(target: Target, migrate_to: str | None, fit: bool) -> Parse:
    """How a line becomes a request: with the options of the group's model (its images
    fitted with --fit or the line's "fit"), then (with --migrate-to) moved to the other
    model, or (auto) to the one the line's task maps to."""
    from sdxl_adapter.batch import BadLine
    from sdxl_adapter.cli.migrate import migration_notes
    from sdxl_adapter.cli.options import FIT_HINT, request_from_mapping
    from sdxl_adapter.errors import InvalidRequest
    from sdxl_adapter.fit import FitError, unfitted
    from sdxl_adapter.migration import migrate
    from sdxl_adapter.request import ModelRequest
    from sdxl_adapter.task_migration import NoTarget

    per_line = migrate_to == AUTO

    def parse(data: dict[str, Any], base_dir: Path) -> tuple[AnyRequest, list[str]]:
        try:
            request, notes = request_from_mapping(data, target.model_id, target.contract,
                                                  base_dir, fit=fit)
        except FitError as err:
            raise BadLine(str(err)) from err
        notes = [f"fit: {note}" for note in notes]
        try:
            request.validate()
        except InvalidRequest as err:
            if unfitted(target.contract, request.to_body()):
                raise BadLine(f"{err.message}; {FIT_HINT} (or \"fit\": true on the line)") \
                    from err
            raise
        if migrate_to is None:
            return request, notes
        try:
            moved = migrate(request.to_body(), None if per_line else migrate_to,
                            source=target.model_id)
        except NoTarget as err:  # a task no live model does (virtual try-on)
            raise BadLine(f"not migrated: {err}") from err
        return (ModelRequest(moved.to, moved.body).validate(),
                notes + migration_notes(moved, chosen=per_line))

    return parse


def _say(text: str, err: bool = False) -> None:
    """One line that quotes outside text (a path, a line's values, a service's message),
    its non-printable characters shown escaped."""
    click.echo(printable(text), err=err)


def _describe(err: BaseException) -> str:
    return describe(err)[0] if describable(err) else f"{type(err).__name__}: {err}"


def _prepare(out_dir: Path) -> None:
    make_dir(out_dir)
    check_writable_dir(out_dir)


def _dry_run(run: BatchRun, target: Target, source: str, model: str | None) -> None:
    """Each line made into its request in turn (its images read then, one line's at a
    time) and printed unless done, with the model it would go to; ``model`` names the
    models in the closing line where that is not ``target``'s."""
    from sdxl_adapter.batch import BadLine, output_name
    from sdxl_adapter.models import contract_of
    from sdxl_adapter.request import elided

    would = done = bad = 0
    for line in run.lines:
        try:
            made = run.make(line)
        except BadLine as err:
            _say(f"{source}:{line.number}: bad line, skipped: {err}", err=True)
            bad += 1
            continue
        for note in made.notes:
            _say(f"{source}:{line.number}: {note}", err=True)
        if run.done(made):
            done += 1
            continue
        record: dict[str, Any] = {
            "line": line.number,
            "file": output_name(line.number, run.last_number, made.extension),
        }
        if line.number in run.changed:
            record["changed"] = True  # edited since its image was made: that image is kept
        record["model_id"] = run.model_of(made)
        record["body"] = elided(contract_of(record["model_id"]), made.request.to_body())
        click.echo(json.dumps(record))
        would += 1
    changed = (f" ({len(run.changed)} of them edited since their image was made: the old "
               "images would be kept beside the new)" if run.changed else "")
    _say(
        f"dry run: nothing sent; {would} would be sent to {target.endpoint} "
        f"({model or f'model {target.model_id}'}){changed}, {done} already done, {bad} bad",
        err=True,
    )
    if bad:
        sys.exit(ExitCode.BATCH_INCOMPLETE)


def _run_with_progress(run: BatchRun, generate: Generate) -> BatchSummary:
    todo = len(run.candidates())

    def stopping(in_flight: int) -> None:
        click.echo(f"\ninterrupted: submitting nothing more; waiting for {in_flight} "
                   "request(s) in flight (Ctrl-C again to abandon them)", err=True)

    with click.progressbar(length=todo, label="generating", file=sys.stderr,
                           show_pos=True) as bar:
        return run.run(generate, on_progress=bar.update, on_interrupt=stopping)


def _finish(run: BatchRun, summary: BatchSummary, source: str, as_json: bool,
            target: Target) -> None:
    from sdxl_adapter.manifest import MANIFEST_NAME

    # By line, each line's notes in the order they were made (a migration's target first).
    for number, note in sorted(summary.notes, key=lambda numbered: numbered[0]):
        _say(f"{source}:{number}: {note}", err=True)
    for number, problem in sorted(summary.bad_lines):
        _say(f"{source}:{number}: bad line, skipped: {problem}", err=True)
    for record in sorted(summary.noted, key=lambda r: r.line):
        _say(f"{source}:{record.line}: {record.file}: {record.note}", err=True)
    for record in sorted(summary.failures, key=lambda r: r.line):
        _say(f"{source}:{record.line}: failed: {record.error}", err=True)
    manifest = run.out_dir / MANIFEST_NAME
    replaced = sorted(summary.replaced, key=lambda r: r.line)
    if as_json:
        click.echo(json.dumps({
            "done": summary.done, "skipped": summary.skipped, "failed": summary.failed,
            "bad": summary.bad,
            "not_started": summary.not_started, "unsaved": summary.unsaved,
            "interrupted": summary.interrupted,
            "replaced": [{"line": r.line, "file": r.file, "kept_as": r.kept_as,
                          "changed": r.changed, "saved": r.saved} for r in replaced],
            "out_dir": str(run.out_dir), "manifest": str(manifest),
            "placeholder": target.is_mock,
        }))
    else:
        _say(f"done {summary.done}, skipped (already done) {summary.skipped}, "
                   f"failed {summary.failed}, bad lines {summary.bad}; images in {run.out_dir}, "
                   f"manifest {manifest}")
        for r in replaced:
            if not r.saved:
                _say(f"line {r.line}: the image that was at {r.file} is kept as "
                           f"{r.kept_as}; the new one could not be written")
            elif r.changed:
                _say(f"line {r.line} was edited since its image was made: regenerated "
                           f"{r.file}; the old image is kept as {r.kept_as}")
            else:
                _say(f"line {r.line}: {r.file} held an image not made for this line's "
                           f"request; it is kept as {r.kept_as}")
        if target.is_mock:
            click.echo(f"note: {PLACEHOLDER_NOTE}")
    if summary.write_failure is not None:
        raise Failure(_write_failure_message(summary.write_failure),
                      ExitCode.OUTPUT_UNWRITABLE)
    if summary.interrupted:
        message = (f"interrupted with {summary.not_started} line(s) not done: re-run the same "
                   "command to resume")
        if run.abandoned.is_set():
            # Abandoned requests are still running on worker threads, which the interpreter
            # would wait for at exit; every finished image and record is already on disk.
            click.echo(message, err=True)
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(ExitCode.INTERRUPTED)
        raise Failure(message, ExitCode.INTERRUPTED)
    if not summary.complete:
        raise Failure(f"{summary.failed} request(s) failed, {summary.bad} bad line(s): re-run "
                      "the same command to retry them (after fixing bad lines)",
                      ExitCode.BATCH_INCOMPLETE)


# Both mean the same to the user: nothing more fits until something is deleted.
_DISK_FULL = {errno.ENOSPC: "no space left on device"}
if hasattr(errno, "EDQUOT"):  # not on Windows
    _DISK_FULL[errno.EDQUOT] = "disk quota exceeded"


def _write_failure_message(failure: WriteFailure) -> str:
    err = failure.error
    code = errno.errorcode.get(err.errno, type(err).__name__) if err.errno else type(err).__name__
    if err.errno in _DISK_FULL:
        return (f"{_DISK_FULL[err.errno]} writing {failure.path} ({code}); free space and "
                "re-run the same command to resume")
    return (f"cannot write {failure.path}: {err.strerror or err} ({code}); re-run the same "
            "command to resume once it can be written")
