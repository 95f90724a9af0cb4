"""Safety state of the planner: the detection watchdog and the e-stop latch."""

from __future__ import annotations

import math


class Watchdog:
    """Judges whether perception is alive from the stamps of the detection messages.

    Times are seconds on the node's clock (simulated when use_sim_time is set), so a detector
    that is alive but delivers frames older than `timeout` (a stalled pipeline, a clock
    mismatch) counts as dead. A stamp more than `timeout` in the future counts as stale too:
    the clocks disagree and nothing can be judged.
    """

    def __init__(self, timeout: float = 0.5) -> None:
        self.timeout = timeout
        self.last_stamp: float | None = None

    def feed(self, stamp: float) -> None:
        """Record the stamp of the newest detection message (the last one received wins)."""
        if math.isfinite(stamp):
            self.last_stamp = stamp

    def age(self, now: float) -> float | None:
        """Return how old the newest detections are at `now`, or None if none arrived."""
        return None if self.last_stamp is None else now - self.last_stamp

    def fresh(self, now: float) -> bool:
        """Return True when the newest detections are at most `timeout` old (or early) at `now`."""
        age = self.age(now)
        return age is not None and -self.timeout <= age <= self.timeout

    def reason(self, now: float) -> str:
        """Return why the detections are not fresh, in words that do not change with the age."""
        age = self.age(now)
        if age is None:
            return 'no detections yet'
        if age < -self.timeout:
            return 'detection stamps ahead of the clock (clock mismatch? check use_sim_time)'
        if age > self.timeout:
            return f'no detections newer than detection_timeout ({self.timeout:g} s)'
        return 'fresh'

    def status(self, now: float) -> str:
        """Return a one-line state for diagnostics."""
        age = self.age(now)
        if age is None:
            return 'no detections yet'
        if self.fresh(now):
            return f'ok (age {age:.3f} s)'
        if age < 0.0:
            return f'stale: stamps {-age:.3f} s in the future (clock mismatch? check use_sim_time)'
        return f'stale: newest detections {age:.3f} s old (timeout {self.timeout:g} s)'


class EStopLatch:
    """Latches on a true e-stop message; only an explicit false releases it.

    Silence releases nothing: a publisher that disappears while engaged keeps the lock.
    """

    def __init__(self) -> None:
        self.engaged = False
        self.engage_count = 0

    def update(self, active: bool) -> bool:
        """Apply one e-stop message; return True when the state changed."""
        active = bool(active)
        changed = active != self.engaged
        if changed and active:
            self.engage_count += 1
        self.engaged = active
        return changed
