"""The capture thread: reads a Source into a one-slot buffer, reconnects with backoff, counts.

The thread reads as fast as the source delivers (or at the source's `rate`), stamps each frame the
moment it is read and puts it in a single slot: a frame still there when the next one arrives is
replaced (counted as dropped), so a consumer always gets the newest frame and never a queue of
stale ones. A source that fails (unplugged, dropped, moved away) is closed and opened again after
0.5 s, 1 s, 2 s, 4 s, then every 5 s, until it delivers again; recoveries count as reconnects.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
import threading
import time
from typing import Any

import numpy as np

from physical_ai.core.camera.sources import Source, SourceEndedError, SourceError, as_bgr

RETRY_MIN = 0.5  # seconds before the first retry
RETRY_MAX = 5.0  # longest wait between retries


class Backoff:
    """Delays between retries: `initial`, doubling on each failure, at most `maximum`."""

    def __init__(self, initial: float = RETRY_MIN, maximum: float = RETRY_MAX) -> None:
        self.initial = initial
        self.maximum = maximum
        self._next = initial

    def next(self) -> float:
        """Return the delay before the coming retry and double the one after it."""
        delay = self._next
        self._next = min(self._next * 2.0, self.maximum)
        return delay

    def reset(self) -> None:
        """Start again from `initial` (after a success)."""
        self._next = self.initial


class Pacer:
    """Evenly spaced deadlines at `period`; after falling behind by a period, it restarts from now.

    Used for real-time playback: a source paced by it neither bursts to catch up nor drifts.
    """

    def __init__(self) -> None:
        self._due: float | None = None

    def delay(self, now: float, period: float) -> float:
        """Return how long to wait before the next frame and take that slot."""
        if self._due is None or now - self._due > period:
            self._due = now
        wait = max(0.0, self._due - now)
        self._due += period
        return wait

    def reset(self) -> None:
        """Forget the schedule (the next frame is due at once)."""
        self._due = None


class RateLimiter:
    """Caps an average rate at 1/period while tolerating jitter of up to half a period.

    After a publish at `now`, the next is allowed at max(previous slot + period, now + period / 2):
    a source delivering exactly at the cap loses no frame to jitter, and no two publishes are ever
    closer than half a period.
    """

    def __init__(self) -> None:
        self._due = float('-inf')

    def wait_time(self, now: float) -> float:
        """Return how long to wait before publishing is allowed (0 when it is now)."""
        return max(0.0, self._due - now)

    def mark(self, now: float, period: float) -> None:
        """Record a publish at `now`."""
        first = self._due == float('-inf')
        self._due = now + period if first else max(self._due + period, now + period / 2.0)


@dataclass(frozen=True)
class Frame:
    """A captured frame: BGR pixels, the stamp taken when it was read, and its sequence number."""

    image: np.ndarray
    stamp: Any  # what the capture's stamp callable returned (the node passes its clock's now)
    age: float  # seconds the frame existed before it was read (driver timestamp), 0 when unknown
    seq: int
    captured: float  # time.monotonic() of the read


@dataclass(frozen=True)
class CaptureStats:
    """A snapshot of the capture thread's counters and state."""

    state: str  # 'opening', 'streaming', 'reconnecting', 'ended', 'stopped'
    captured: int
    dropped: int
    reconnects: int
    failures: int
    last_error: str
    last_error_time: float | None  # time.monotonic() of the last failure
    retry_at: float | None  # time.monotonic() of the next attempt while reconnecting
    down_since: float | None  # time.monotonic() of the failure that started the current outage
    frame_size: tuple[int, int] | None  # (width, height) of the newest frame
    opened: str  # what the source said when it last opened


class Capture:
    """Runs one Source in a thread of its own and keeps only its newest frame.

    `stamp()` is called right after each read (the node passes its clock's now, which honours
    use_sim_time). `on_event(kind, text)` reports 'opened', 'fault', 'recovered' and 'ended'.
    """

    def __init__(self, source: Source, stamp: Callable[[], Any] = time.time,
                 on_event: Callable[[str, str], None] | None = None,
                 retry_min: float = RETRY_MIN, retry_max: float = RETRY_MAX) -> None:
        self.source = source
        self._stamp = stamp
        self._on_event = on_event or (lambda kind, text: None)
        self._backoff = Backoff(retry_min, retry_max)
        self._pacer = Pacer()
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._slot: Frame | None = None
        self._seq = 0
        self._state = 'opening'
        self._dropped = 0
        self._reconnects = 0
        self._failures = 0
        self._last_error = ''
        self._last_error_time: float | None = None
        self._retry_at: float | None = None
        self._down_since: float | None = None
        self._frame_size: tuple[int, int] | None = None
        self._opened = ''

    # Control ---------------------------------------------------------------------------------

    def start(self, name: str = 'camera_capture') -> None:
        """Start the thread."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the thread (a blocked read may take up to the source's timeout) and close the source."""
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
            if not thread.is_alive():
                self.source.close()
        with self._cond:
            self._state = 'stopped'

    @property
    def running(self) -> bool:
        """Return whether the thread is running."""
        return self._thread is not None and self._thread.is_alive()

    # Consumer side ---------------------------------------------------------------------------

    def take(self, timeout: float | None = None) -> Frame | None:
        """Return the newest frame not taken yet, waiting up to `timeout` s; None if none came."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while self._slot is None and not self._stop.is_set():
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    break
                self._cond.wait(left)
            frame, self._slot = self._slot, None
            return frame

    def stats(self) -> CaptureStats:
        """Return the counters and state now."""
        with self._cond:
            return CaptureStats(
                state=self._state, captured=self._seq, dropped=self._dropped, reconnects=self._reconnects,
                failures=self._failures, last_error=self._last_error, last_error_time=self._last_error_time,
                retry_at=self._retry_at, down_since=self._down_since, frame_size=self._frame_size,
                opened=self._opened)

    # Thread ----------------------------------------------------------------------------------

    def _run(self) -> None:
        source = self.source
        is_open = False
        while not self._stop.is_set():
            if not is_open:
                try:
                    opened = source.open()
                except Exception as err:  # the thread must outlive any failure of the source
                    self._fault(err)
                    continue
                is_open = True
                self._pacer.reset()
                with self._cond:
                    self._opened = opened
                    if self._down_since is None:
                        self._state = 'streaming'
                if self._down_since is None:
                    self._on_event('opened', opened)
            rate = source.rate
            if rate:
                wait = self._pacer.delay(time.monotonic(), 1.0 / rate)
                if wait > 0 and self._stop.wait(wait):
                    break
            try:
                image = as_bgr(source.read())
            except SourceEndedError as err:
                source.close()
                is_open = False
                self._end(str(err))
                continue
            except Exception as err:  # the thread must outlive any failure of the source
                source.close()
                is_open = False
                self._fault(err)
                continue
            self._put(image, source.age)
        source.close()

    def _put(self, image: np.ndarray, age: float) -> None:
        stamp = self._stamp()
        now = time.monotonic()
        recovered = None
        with self._cond:
            self._seq += 1
            if self._slot is not None:
                self._dropped += 1
            self._slot = Frame(image=image, stamp=stamp, age=age, seq=self._seq, captured=now)
            self._frame_size = (image.shape[1], image.shape[0])
            if self._down_since is not None:
                self._reconnects += 1
                recovered = (now - self._down_since, self._reconnects)
                self._down_since = None
                self._retry_at = None
            self._state = 'streaming'
            self._cond.notify_all()
        if recovered is not None:
            self._backoff.reset()
            self._on_event('recovered', f'{self._opened}: delivering again after {recovered[0]:.1f} s '
                                        f'(reconnect {recovered[1]})')

    def _fault(self, err: Exception) -> None:
        text = str(err) if isinstance(err, SourceError) else f'{type(err).__name__}: {err}'
        delay = self._backoff.next()
        now = time.monotonic()
        with self._cond:
            self._failures += 1
            self._last_error = text
            self._last_error_time = now
            if self._down_since is None:
                self._down_since = now
            self._retry_at = now + delay
            self._state = 'reconnecting'
        self._on_event('fault', f'{text}; retrying in {delay:.1f} s')
        self._stop.wait(delay)

    def _end(self, text: str) -> None:
        with self._cond:
            self._state = 'ended'
        self._on_event('ended', text)
        # Idle until stopped, or until `loop` is switched on at run time.
        while not self._stop.wait(0.2):
            if self.source.loop:
                with self._cond:
                    self._state = 'opening'
                return
