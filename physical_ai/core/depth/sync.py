"""Approximate-time matching of two streams (detections and depth images) by their header stamps.

`ApproximateSync` pairs each primary message (detections) with the secondary (depth image) whose
stamp is nearest, when it lies within `slop` seconds. Secondaries are kept in a bounded queue (the
detector answers later than the camera, so the depth image of a frame is usually older than its
detections); a primary whose secondary may still come waits in a bounded queue of its own. A
primary is decided as soon as no later secondary can be nearer: matched, or unmatched when the
nearest one is beyond the slop. Every message that leaves without a partner is counted, with the
smallest stamp gap seen, so a diagnostic can say why nothing comes out (stamps never within slop,
one stream missing, a queue too short). Stamps are seconds; messages are expected in stamp order
per stream, a stamp going back (a simulation restart) clears the queues.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
import math
from typing import Any

from physical_ai.core.errors import ConfigError


@dataclass
class SyncCounters:
    """What happened to the messages so far."""

    primaries: int = 0
    secondaries: int = 0
    matched: int = 0
    unmatched: int = 0  # primaries decided without a secondary within the slop
    dropped: int = 0  # primaries pushed out of a full queue before a decision
    unused: int = 0  # secondaries that left the queue without being matched (normal when faster)
    restarts: int = 0  # stamps went back: queues cleared
    last_gap: float = math.nan  # stamp gap (s) to the nearest secondary of the last decided primary
    min_gap: float = math.inf  # smallest gap over the unmatched primaries


class ApproximateSync:
    """Pairs primaries with the nearest secondary within `slop` s; see the module docstring."""

    def __init__(self, slop: float = 0.02, queue_size: int = 10) -> None:
        if not (math.isfinite(slop) and slop >= 0.0):
            raise ConfigError(f'sync slop must be a finite time >= 0 s, got {slop}')
        if queue_size < 1:
            raise ConfigError(f'sync queue_size must be >= 1, got {queue_size}')
        self.slop = slop
        self.queue_size = queue_size
        self._primaries: deque[tuple[float, Any]] = deque()
        self._secondaries: deque[list[Any]] = deque()  # [stamp, item, used]
        self.counters = SyncCounters()

    def _restart_if_back(self, stamp: float, queue: deque[Any]) -> None:
        if queue and stamp < queue[-1][0]:
            self.counters.restarts += 1
            self._primaries.clear()
            self._secondaries.clear()

    def add_secondary(self, stamp: float, item: Any) -> list[tuple[Any, Any]]:
        """Take a secondary; return the (primary, secondary) pairs it decides."""
        self._restart_if_back(stamp, self._secondaries)
        self.counters.secondaries += 1
        self._secondaries.append([stamp, item, False])
        while len(self._secondaries) > self.queue_size:
            _, _, used = self._secondaries.popleft()
            if not used:
                self.counters.unused += 1
        return self._decide()

    def add_primary(self, stamp: float, item: Any) -> list[tuple[Any, Any]]:
        """Take a primary; return the (primary, secondary) pairs decided now (it may wait)."""
        self._restart_if_back(stamp, self._primaries)
        self.counters.primaries += 1
        self._primaries.append((stamp, item))
        while len(self._primaries) > self.queue_size:
            self._primaries.popleft()
            self.counters.dropped += 1
        return self._decide()

    def _nearest(self, stamp: float) -> tuple[list[Any] | None, float]:
        best, gap = None, math.inf
        for entry in self._secondaries:
            distance = abs(entry[0] - stamp)
            if distance < gap:
                best, gap = entry, distance
        return best, gap

    def _decide(self) -> list[tuple[Any, Any]]:
        pairs = []
        newest = self._secondaries[-1][0] if self._secondaries else -math.inf
        while self._primaries:
            stamp, item = self._primaries[0]
            best, gap = self._nearest(stamp)
            exact = best is not None and gap == 0.0
            if not exact and newest < stamp + (0.0 if gap <= self.slop else self.slop):
                break  # a later secondary may still be nearer (or within the slop): wait
            self._primaries.popleft()
            self.counters.last_gap = gap
            if best is not None and gap <= self.slop:
                best[2] = True
                self.counters.matched += 1
                pairs.append((item, best[1]))
            else:
                self.counters.unmatched += 1
                self.counters.min_gap = min(self.counters.min_gap, gap)
        return pairs

    @property
    def waiting(self) -> int:
        """Return how many primaries wait for a secondary."""
        return len(self._primaries)
