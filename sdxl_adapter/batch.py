"""Batch runs: many requests from a JSON Lines file, run concurrently, resumable.

Each line is a prompt (a JSON string) or an object keyed like ``sdxl generate``'s
parameters; how an object becomes a request is the caller's (``parse``). Line N's image is
``<out dir>/<N, zero-padded>.<format's extension>``, so names are the same on
every run, and a line counts as done when the manifest records its success for the line's
request as it is now *and* its image exists: a re-run after an interruption does only the
rest and never touches a finished image, and an edited line is made again, its old image
kept beside the new. Images are written to a temporary file and renamed, so a kill never
leaves a truncated one. A write that fails (a full disk) stops the run; a re-run resumes.
A paid image is never dropped for a fault of its own: one whose parameters cannot be
embedded is saved as the service sent it (the record says so), and any other failure to save
one line's image is that line's failure, recorded with why, while the other lines go on.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sdxl_adapter import errors
from sdxl_adapter.batch_identity import (
    carries,
    file_sha256,
    latest_by_file,
    latest_ok_by_line,
    request_sha256,
)
from sdxl_adapter.manifest import Manifest, Record, read_records
from sdxl_adapter.output_names import free_name
from sdxl_adapter.pngtext import write_atomically
from sdxl_adapter.request import AnyRequest
from sdxl_adapter.result import EXTENSIONS, GenerationResult

Generate = Callable[[AnyRequest], GenerationResult]
# A batch line's object -> its request and notes about it (e.g. fields a migration
# dropped); raises BadLine, InvalidRequest, or OSError for an image it cannot read.
Parse = Callable[[dict[str, Any], Path], tuple[AnyRequest, list[str]]]


class BadLine(ValueError):
    """A batch line that does not describe a request; the message says why."""


@dataclass(frozen=True)
class BatchLine:
    """One non-blank line of the batch file: a request, or why it is not one."""

    number: int  # 1-based, as an editor shows it
    request: AnyRequest | None = None
    problem: str | None = None
    notes: tuple[str, ...] = ()

    @property
    def extension(self) -> str:
        fmt = self.request.output_format if self.request is not None else "png"
        return EXTENSIONS.get(fmt, "." + fmt)


def read_batch(path: Path, parse: Parse) -> list[BatchLine]:
    """Every non-blank line of a batch file, parsed and checked against the contract.
    Raises OSError / UnicodeDecodeError when the file cannot be read."""
    return parse_batch(path.read_text(encoding="utf-8"), path.parent, parse)


def parse_batch(text: str, base_dir: Path, parse: Parse) -> list[BatchLine]:
    """Every non-blank line of a batch's text; image paths are relative to ``base_dir``."""
    return [
        _parse_line(number, raw, base_dir, parse)
        for number, raw in enumerate(text.splitlines(), start=1)
        if raw.strip()
    ]


def _parse_line(number: int, raw: str, base_dir: Path, parse: Parse) -> BatchLine:
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as err:
        return BatchLine(number, problem=f"not valid JSON: {err}")
    if isinstance(data, str):
        data = {"prompt": data}
    if not isinstance(data, dict):
        return BatchLine(number, problem="must be a JSON string (the prompt) or an object")
    try:
        request, notes = parse(data, base_dir)
        request.validate()
    except BadLine as err:
        return BatchLine(number, problem=str(err))
    except errors.InvalidRequest as err:
        return BatchLine(number, problem=err.message)
    except OSError as err:  # an image named by the line cannot be read
        return BatchLine(number, problem=f"cannot read {err.filename}: {err.strerror}")
    return BatchLine(number, request=request, notes=tuple(notes))


def output_name(number: int, last_number: int, extension: str = ".png") -> str:
    """Line N's image name; the width fits the file's last line number (at least 4), so
    names sort in line order and stay the same across runs of the same file."""
    width = max(4, len(str(last_number)))
    return f"{number:0{width}d}{extension}"


def _plain(err: BaseException) -> str:
    return f"{type(err).__name__}: {err}"


@dataclass(frozen=True)
class Replaced:
    """A line whose new image took the name of another image, which was kept."""

    line: int
    file: str  # the line's new image
    kept_as: str  # where the image that was there is now
    changed: bool  # the line was edited since that image was made for it (else: a file
    # no record made for this request sat at the line's name)
    saved: bool = True  # False: the new image could not be written (a full disk)


@dataclass(frozen=True)
class WriteFailure:
    """The first write into the out dir that failed; the run stopped there."""

    path: Path
    error: OSError


@dataclass
class BatchSummary:
    done: int = 0  # generated by this run
    skipped: int = 0  # already done by an earlier run
    failed: int = 0  # requests that failed
    bad: int = 0  # lines that are no request
    not_started: int = 0  # left over by an interruption or a failed write
    unsaved: int = 0  # generated, but its image or record could not be written
    interrupted: bool = False
    failures: list[Record] = field(default_factory=list)
    noted: list[Record] = field(default_factory=list)  # successes with a note
    replaced: list[Replaced] = field(default_factory=list)
    write_failure: WriteFailure | None = None

    @property
    def complete(self) -> bool:
        return not (self.failed or self.bad or self.not_started or self.unsaved
                    or self.interrupted or self.write_failure)


class BatchRun:
    """One run over the lines of a batch file into ``out_dir``.

    A line is done when its last success names an image that is still there, still that
    record's (no later record names the file), and made for the line's request as it is
    now (same :func:`request_sha256`). Before a line's image is written, a file at its name
    made for any other request is moved aside to ``NNNN.prev-<8 hex>.<ext>``, never
    overwritten: the hex digits are the old request's hash, or the old file's own SHA-256
    when no record names its request.

    Manifests from before records carried the request's hash are read, not rewritten: such
    a success counts as done when its image :func:`carries` the line's parameters. Trusting
    every old record would keep the image of a line edited since; regenerating every one
    would pay again (on Bedrock) for every finished image of a batch resumed after an
    upgrade. The embedded parameters tell an edited prompt, seed or option apart; only an
    edit of nothing but an input image or SDXL's size goes unseen there.

    Hold the out dir's lock (:func:`sdxl_adapter.folder_lock.exclusive`) from before a run
    is made (it reads the manifest) until it ends.
    """

    def __init__(
        self,
        lines: list[BatchLine],
        out_dir: Path,
        *,
        model_id: str,
        concurrency: int = 4,
        keep_filtered: bool = False,
        describe: Callable[[BaseException], str] = _plain,
    ) -> None:
        """``model_id``: where requests that name no model (SDXLRequest) are sent;
        ``describe`` words a line's failure for its manifest record."""
        self.lines = lines
        self.describe = describe
        self.out_dir = out_dir
        self.model_id = model_id
        self.concurrency = concurrency
        self.keep_filtered = keep_filtered
        self.last_number = max((line.number for line in lines), default=1)
        self.manifest = Manifest(out_dir)
        records = list(read_records(self.manifest.path))
        self._by_file = latest_by_file(records)
        self._last_ok = latest_ok_by_line(records)
        self._keys = {line.number: request_sha256(line.request, model_id)
                      for line in lines if line.request is not None}
        self._pending: list[BatchLine] | None = None
        self._changed: dict[int, Record] = {}
        self.summary = BatchSummary()
        # Set by a second Ctrl-C: in-flight requests finish but their results are dropped.
        self.abandoned = threading.Event()
        self._counting = threading.Lock()

    def pending(self) -> list[BatchLine]:
        """The good lines not done yet (what a run would send), as the manifest was when the
        run was made."""
        if self._pending is None:
            self._pending = [line for line in self.lines
                             if line.request is not None and not self._done(line)]
        return self._pending

    @property
    def changed(self) -> dict[int, Record]:
        """Pending lines done before for another request than theirs now (edited lines),
        by line number: the record of their old image."""
        self.pending()
        return self._changed

    def _done(self, line: BatchLine) -> bool:
        assert line.request is not None
        record = self._last_ok.get(line.number)
        if record is None or record.file is None or self._by_file.get(record.file) is not record:
            return False
        if not (self.out_dir / record.file).is_file():
            return False
        if record.request_sha256 is not None:
            done = record.request_sha256 == self._keys[line.number]
        else:  # a manifest from before requests were hashed (see the class docstring)
            done = carries(self.out_dir / record.file, line.request, self.model_id)
        if not done:
            self._changed[line.number] = record
        return done

    def bad_lines(self) -> list[BatchLine]:
        return [line for line in self.lines if line.problem is not None]

    def run(
        self,
        generate: Generate,
        on_progress: Callable[[int], None] = lambda n: None,
        on_interrupt: Callable[[int], None] = lambda in_flight: None,
    ) -> BatchSummary:
        """Run every pending line through ``generate``; record bad lines.

        ``on_progress(1)`` is called after each request; ``on_interrupt(in_flight)`` on the
        first Ctrl-C, after which no line is submitted. The first write into the out dir
        that fails (a full disk) also stops submitting: ``summary.write_failure``."""
        todo = self.pending()
        summary = self.summary
        summary.skipped = sum(
            1 for line in self.lines if line.request is not None
        ) - len(todo)
        self._remove_stale_temp_files(todo)
        try:
            self.manifest.open()
        except OSError as err:
            self._write_failed(self.manifest.path, err)
            summary.not_started = len(todo)
            return summary
        try:
            for line in self.bad_lines():
                self._append(Record(line.number, ok=False, error=f"bad line: {line.problem}"))
                summary.bad += 1
            self._run_concurrently(todo, generate, on_progress, on_interrupt)
        finally:
            try:
                self.manifest.close()  # writes what a failed write left buffered, if it can
            except OSError as err:
                self._write_failed(self.manifest.path, err)
        return summary

    def _remove_stale_temp_files(self, todo: Iterable[BatchLine]) -> None:
        # A run killed mid-save leaves write_atomically's hidden temporary file
        # (".<name>.<random>.tmp") beside the image it was writing; that line is redone now.
        for line in todo:
            name = output_name(line.number, self.last_number, line.extension)
            for stale in self.out_dir.glob(f".{name}.*.tmp"):
                stale.unlink(missing_ok=True)

    def _run_concurrently(
        self,
        todo: Iterable[BatchLine],
        generate: Generate,
        on_progress: Callable[[int], None],
        on_interrupt: Callable[[int], None],
    ) -> None:
        queue = list(todo)
        queue.reverse()  # pop() from the end takes lines in file order
        in_flight: set[Future[None]] = set()
        # Workers are not joined on a second Ctrl-C; shutdown(wait=False) below lets the
        # command return while their (dropped) requests finish.
        pool = ThreadPoolExecutor(self.concurrency, thread_name_prefix="sdxl-batch")
        try:
            while (queue and self.summary.write_failure is None) or in_flight:
                # Submit lazily, so an interruption leaves nothing queued inside the pool.
                # After a failed write nothing more is sent: every image would fail the
                # same way, and on Bedrock each generation is paid for.
                while (queue and len(in_flight) < self.concurrency
                       and self.summary.write_failure is None):
                    in_flight.add(pool.submit(self._one, queue.pop(), generate))
                if not in_flight:
                    break
                finished, in_flight = wait(in_flight, return_when=FIRST_COMPLETED)
                for future in finished:
                    future.result()  # _one records its own failures; this re-raises bugs
                    on_progress(1)
            self.summary.not_started = len(queue)
        except KeyboardInterrupt:
            self.summary.interrupted = True
            self.summary.not_started = len(queue)
            on_interrupt(len(in_flight))
            try:
                wait(in_flight)
                self.summary.not_started += sum(1 for f in in_flight if f.cancelled())
            except KeyboardInterrupt:
                self.abandoned.set()
                self.summary.not_started += sum(1 for f in in_flight if not f.done())
        finally:
            pool.shutdown(wait=not self.abandoned.is_set(), cancel_futures=True)

    def _one(self, line: BatchLine, generate: Generate) -> None:
        assert line.request is not None
        name = output_name(line.number, self.last_number, line.extension)
        key = self._keys[line.number]
        try:
            result = generate(line.request)
        except (errors.ContentFiltered, errors.GenerationFailed) as err:
            kept = self.keep_filtered and isinstance(err, errors.ContentFiltered)
            previous = note = None
            if kept and not self.abandoned.is_set():
                try:
                    previous, note = self._save(line, name, err.result)
                except OSError as write_err:
                    self._write_failed(self.out_dir / name, write_err, generated=True)
                    return
            self._record(
                Record(
                    line.number,
                    ok=False,
                    file=name if kept else None,
                    seed=err.result.seed,
                    finish_reason=err.result.finish_reason,
                    error=self.describe(err),
                    request_id=err.result.request_id,
                    request_sha256=key,
                    previous=previous,
                    note=note,
                )
            )
            return
        except Exception as err:  # any failure of one line is that line's, not the batch's
            self._record(Record(line.number, ok=False, error=self.describe(err),
                                request_sha256=key))
            return
        if self.abandoned.is_set():
            return  # the user gave up on this request: neither image nor record
        try:
            previous, note = self._save(line, name, result)
        except OSError as err:
            # Not the line's failure but the out dir's (a full disk): no record, the line is
            # simply not done, and a re-run once the disk has room does it.
            self._write_failed(self.out_dir / name, err, generated=True)
            return
        except Exception as err:  # this line's alone: recorded, and the others go on
            self._record(Record(line.number, ok=False, seed=result.seed,
                                finish_reason=result.finish_reason,
                                error=f"its image could not be saved: {_plain(err)}",
                                request_id=result.request_id, request_sha256=key))
            return
        self._record(
            Record(
                line.number,
                ok=True,
                file=name,
                seed=result.seed,
                finish_reason=result.finish_reason,
                request_id=result.request_id,
                request_sha256=key,
                previous=previous,
                note=note,
            )
        )

    def _save(self, line: BatchLine, name: str,
              result: GenerationResult) -> tuple[str | None, str | None]:
        """Write the line's image; returns where an image it displaced (or, for an edited
        line, its old image under another name) is now, which the summary lists, and a
        note when the image went without its parameters."""
        kept_as = self._move_aside(line, name)
        old = self.changed.get(line.number)
        if kept_as is None and old is not None and old.file != name:
            kept_as = old.file  # an edit changed the format: the old image keeps its name
        note = None
        try:
            data = result.with_parameters()
        except Exception as err:  # the image was paid for: keep it as the service sent it
            data, note = result.data, f"saved without its parameters ({_plain(err)})"
        try:
            write_atomically(self.out_dir / name, data)
        except OSError:
            self._replaced(line, name, kept_as, saved=False)  # still say where it went
            raise
        self._replaced(line, name, kept_as, saved=True)
        return kept_as, note

    def _replaced(self, line: BatchLine, name: str, kept_as: str | None, saved: bool) -> None:
        if kept_as is not None:
            with self._counting:
                self.summary.replaced.append(Replaced(
                    line.number, name, kept_as, changed=line.number in self.changed,
                    saved=saved))

    def _move_aside(self, line: BatchLine, name: str) -> str | None:
        """Move the file at ``name`` out of the way unless it was made for this very request
        (a kept filtered image being retried, or one a kill left unrecorded); returns its
        new name. The caller holds the folder's lock: no other run names files here."""
        assert line.request is not None
        path = self.out_dir / name
        if not path.is_file():
            return None
        owner = self._by_file.get(name)
        if owner is not None and owner.request_sha256 is not None:
            if owner.request_sha256 == self._keys[line.number]:
                return None
            tag = owner.request_sha256[:8]
        elif carries(path, line.request, self.model_id):
            return None
        else:
            tag = file_sha256(path)[:8]
        suffix = Path(name).suffix
        aside = free_name(self.out_dir, f"{name.removesuffix(suffix)}.prev-{tag}", suffix)
        os.rename(path, aside)
        return aside.name

    def _record(self, record: Record) -> None:
        if self.abandoned.is_set():
            return
        written = self._append(record)
        with self._counting:
            if record.ok and not written:
                self.summary.unsaved += 1  # its image is there, but no record says so
            else:
                self._count(record)

    def _append(self, record: Record) -> bool:
        try:
            self.manifest.append(record)
        except OSError as err:
            self._write_failed(self.manifest.path, err)
            return False
        return True

    def _write_failed(self, path: Path, err: OSError, *, generated: bool = False) -> None:
        with self._counting:
            if generated:
                self.summary.unsaved += 1
            if self.summary.write_failure is None:
                self.summary.write_failure = WriteFailure(path, err)

    def _count(self, record: Record) -> None:
        if record.ok:
            self.summary.done += 1
            if record.note:
                self.summary.noted.append(record)
        else:
            self.summary.failed += 1
            self.summary.failures.append(record)
