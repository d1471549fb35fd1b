"""One batch run at a time per output folder: an exclusive ``flock`` on a lock file in it.

Two runs over one folder would both send every line not done yet and overwrite each other's
images, so a run holds ``<folder>/.sdxl-batch.lock`` for its whole duration and a second one
is refused at once (no waiting). ``flock`` is released by the kernel when its holder dies, so
a killed run never leaves the folder locked; the file a killed run leaves is simply taken
over. A finished run removes the file, so a finished folder holds only images and the
manifest.

Hand-written on ``fcntl.flock`` from the standard library: the lock itself is one call on
every POSIX system (Linux, macOS, the BSDs; Linux emulates it over NFS with POSIX locks),
and removing the file on release safely needs the inode check in ``_acquire``. Windows has
no ``fcntl``: there a run takes no lock.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path

LOCK_NAME = ".sdxl-batch.lock"


class FolderBusy(Exception):
    """Another run holds the folder's lock."""

    def __init__(self, folder: Path, holder: str | None) -> None:
        super().__init__(f"{folder} is locked by process {holder or '(unknown)'}")
        self.folder = folder
        self.holder = holder  # the holder's process id, as it wrote it, if it could


@contextlib.contextmanager
def exclusive(folder: Path) -> Iterator[None]:
    """Hold ``folder``'s batch lock for the block; raise :class:`FolderBusy` if another
    process holds it, OSError if the lock file cannot be made (the folder must exist)."""
    if sys.platform == "win32":
        yield
        return
    fd = _acquire(folder / LOCK_NAME, folder)
    try:
        yield
    finally:
        # Removed while still held, so no run can lock the old file after this one and
        # think it owns the folder; a run that opened it just before retries (_acquire).
        with contextlib.suppress(OSError):
            (folder / LOCK_NAME).unlink()
        os.close(fd)


if sys.platform != "win32":
    import fcntl

    def _acquire(path: Path, folder: Path) -> int:
        while True:
            # O_NOFOLLOW: a symlink planted at the lock's name is not followed (nor locked).
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = _holder(fd)
                os.close(fd)
                raise FolderBusy(folder, holder) from None
            except BaseException:
                os.close(fd)
                raise
            if _still_at(path, fd):
                _write_holder(fd)
                return fd
            # The run before us removed this file between our open and our lock: ours is a
            # lock on nothing. Try again on the file now at the name (or a new one).
            os.close(fd)

    def _still_at(path: Path, fd: int) -> bool:
        try:
            named = os.stat(path, follow_symlinks=False)
        except FileNotFoundError:
            return False
        return os.path.samestat(named, os.fstat(fd))

    def _write_holder(fd: int) -> None:
        # Only for the message of a run refused; a full disk must not stop this run.
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())

    def _holder(fd: int) -> str | None:
        with contextlib.suppress(OSError, UnicodeDecodeError):
            return os.pread(fd, 32, 0).decode("ascii").strip() or None
        return None
