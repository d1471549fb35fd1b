"""Large freed buffers go back to the system in a long-running server process.

glibc's malloc keeps a freed block below its mmap threshold in the arena of the thread that
freed it; a server reading 25 MB bodies on many threads then keeps that memory (40 bodies
of 40 MiB on one HTTP/2 connection peaked at 662 MiB; 197 MiB with the threshold at 1 MiB).
Set for ``mock-bedrock serve`` only, never in a user's process (the in-process mock). No
maintained library exposes ``mallopt``; ctypes calls it, where the C library is glibc.

Small freed blocks stay in the arena of the thread that freed them too; what removed fault
rules held (each pattern's DFA, thousands of small blocks) is handed back with
:func:`return_freed_memory` (``malloc_trim``), which frees nothing a process still uses.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from functools import cache

M_MMAP_THRESHOLD = -3  # glibc's malloc.h
THRESHOLD = 1 << 20  # blocks of 1 MiB or more are mapped, and unmapped when freed


def map_large_blocks() -> bool:
    """Ask glibc to serve large allocations by mmap; False where that cannot be done."""
    libc = _libc()
    try:
        return libc is not None and bool(libc.mallopt(M_MMAP_THRESHOLD, THRESHOLD))
    except AttributeError:  # not glibc (macOS, musl without mallopt)
        return False


def return_freed_memory() -> bool:
    """Give the system the free memory of every malloc arena (glibc's ``malloc_trim``);
    False where that cannot be done."""
    libc = _libc()
    try:
        return libc is not None and bool(libc.malloc_trim(0))
    except AttributeError:  # not glibc
        return False


@cache
def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        return ctypes.CDLL(name)
    except OSError:
        return None
