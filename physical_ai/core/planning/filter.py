"""Distance filtering over frames, so detector noise does not make the robot jitter."""

from __future__ import annotations

from collections import deque
import math
import statistics


class DistanceFilter:
    """Median of the last `window` samples followed by a first-order low-pass in time.

    The median removes single-frame outliers (a box cut by an occlusion for one frame); the
    low-pass with time constant `time_constant` seconds (0 = off) smooths the rest whatever the
    frame rate. A gap longer than `reset_after` seconds, a time going backwards (simulation
    restart) or `reset()` starts over from the next sample.
    """

    def __init__(self, time_constant: float = 0.3, window: int = 3, reset_after: float = 1.0) -> None:
        if window < 1:
            raise ValueError(f'window must be >= 1, got {window}')
        self.time_constant = time_constant
        self.reset_after = reset_after
        self._samples: deque[float] = deque(maxlen=window)
        self._value: float | None = None
        self._stamp: float | None = None

    @property
    def value(self) -> float | None:
        """Return the current filtered distance, or None before the first sample."""
        return self._value

    def reset(self) -> None:
        """Forget the history (the target changed)."""
        self._samples.clear()
        self._value = None
        self._stamp = None

    def update(self, distance: float, stamp: float) -> float:
        """Add a sample taken at `stamp` (seconds) and return the filtered distance."""
        if not math.isfinite(distance):
            raise ValueError(f'distance must be finite, got {distance}')
        if self._stamp is not None and not 0.0 <= stamp - self._stamp <= self.reset_after:
            self.reset()
        self._samples.append(distance)
        sample = statistics.median(self._samples)
        if self._value is None or self._stamp is None or self.time_constant <= 0.0:
            self._value = sample
        else:
            alpha = 1.0 - math.exp(-(stamp - self._stamp) / self.time_constant)
            self._value += alpha * (sample - self._value)
        self._stamp = stamp
        return self._value
