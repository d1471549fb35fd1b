"""An HTTP/2 request body as wsgi.input: fed by the connection thread, read by the app.

The client's flow-control window is credited only as the app reads, so the client is never
more than a window ahead of the app, and what waits here is bounded by that window.
"""

from __future__ import annotations

import io
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from mock_bedrock.doors import http2_limits as limits


class BodyStalled(TimeoutError):
    """No byte of the body arrived for BODY_IDLE_TIMEOUT while the app waited for one."""


class LargeBodyTurn:
    """Past LARGE_BODY bytes, the streams of one connection read their bodies in turn, each
    keeping the turn until its answer is done: so an HTTP/2 connection holds no more large
    bodies at once (in the app, which reads them whole) than an HTTP/1.1 connection does."""

    def __init__(self) -> None:
        self._holder: BodyPipe | None = None
        self._changed = threading.Condition()

    def take(self, pipe: BodyPipe) -> bool:
        """Wait for the turn; False if the pipe was aborted meanwhile."""
        with self._changed:
            while self._holder is not None and self._holder is not pipe:
                if pipe.aborted:
                    return False
                self._changed.wait()
            self._holder = pipe
            return True

    def give_back(self, pipe: BodyPipe) -> None:
        with self._changed:
            if self._holder is pipe:
                self._holder = None
                self._changed.notify_all()

    def wake(self) -> None:
        """A pipe was aborted: its reader, if waiting for the turn, stops."""
        with self._changed:
            self._changed.notify_all()


class BodyPipe(io.RawIOBase):
    """``credit(size)`` hands ``size`` read bytes back to the client's window, ``widen()``
    widens the window once the app starts reading; the caller of :meth:`feed` and
    :meth:`discard` credits what they return (bytes not kept)."""

    def __init__(self, credit: Callable[[int], None], widen: Callable[[], None],
                 turn: LargeBodyTurn) -> None:
        self._credit = credit
        self._widen: Callable[[], None] | None = widen
        self._turn = turn
        self._has_turn = False
        self._read = 0  # bytes given to the app
        self._chunks: deque[bytes] = deque()
        self._held = 0  # kept and not yet read (so not yet credited)
        self._kept = 0  # all the body bytes handed to the app or waiting for it
        self._received = 0  # all the body bytes the client sent
        self.ended = False  # the client sent the whole body, or as much as is kept
        self.stalled = False
        self.aborted = False
        self._discarding = False
        # When the client last had reason to send: a byte arrived or was read (crediting it).
        self._moved_at = time.monotonic()
        self._ready = threading.Condition()

    def feed(self, data: bytes) -> int:
        """Keep what the app may read of ``data``; returns how many bytes were not kept."""
        with self._ready:
            self._moved_at = time.monotonic()
            self._received += len(data)
            if self._discarding or self.ended:
                return len(data)
            # One byte past the limit is kept, then the body ends: the app can tell the body
            # is too long and refuse it in its own words (as over HTTP/1.1, where werkzeug's
            # max_content_length has the same byte of slack), and nothing more is held.
            room = limits.BODY_LIMIT + 1 - self._kept
            kept = data[:room]
            if len(data) >= room:
                self.ended = True
            if kept:
                self._chunks.append(kept)
                self._held += len(kept)
                self._kept += len(kept)
            self._ready.notify_all()
            return len(data) - len(kept)

    @property
    def received(self) -> int:
        """The body bytes the client has sent so far."""
        return self._received

    @property
    def over_limit(self) -> bool:
        """Whether the client sent more than the app may be given."""
        return self._received > limits.BODY_LIMIT + 1

    def end(self, *, aborted: bool = False) -> None:
        with self._ready:
            self.ended = True
            self.aborted = self.aborted or aborted
            self._ready.notify_all()
        if aborted:
            self._turn.wake()

    def discard(self) -> int:
        """The answer is done: what is held and whatever comes later is dropped; returns the
        bytes dropped here, for the caller to credit."""
        with self._ready:
            self._discarding = True
            self._chunks.clear()
            dropped, self._held = self._held, 0
        self._turn.give_back(self)
        return dropped

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._widen is not None:
            # Not a reason to wait longer for a body that never came: _moved_at stays.
            widen, self._widen = self._widen, None
            if not self.ended:
                widen()
        if self._read >= limits.LARGE_BODY and not self._has_turn:
            if not self._turn.take(self):
                raise ConnectionResetError("the client reset the stream mid-body")
            self._has_turn = True
            with self._ready:
                self._moved_at = time.monotonic()  # the client waited for us, not we for it
        with self._ready:
            while not self._chunks and not self.ended:
                left = self._moved_at + limits.BODY_IDLE_TIMEOUT - time.monotonic()
                if left <= 0:
                    self.stalled = True
                    raise BodyStalled(f"no byte of the body for {limits.BODY_IDLE_TIMEOUT:g} s")
                self._ready.wait(left)
            if self.aborted:
                raise ConnectionResetError("the client reset the stream mid-body")
            if not self._chunks:
                return 0
            chunk = self._chunks.popleft()
            size = min(len(buffer), len(chunk))
            buffer[:size] = chunk[:size]
            if size < len(chunk):
                self._chunks.appendleft(chunk[size:])
            self._held -= size
            self._read += size
            self._moved_at = time.monotonic()
        self._credit(size)  # outside the pipe's lock: it takes the connection's
        return size
