"""Planning the stop before a stop-class object: how far the robot still goes, how fast it may go.

The planner sees an object in a frame that is already old when it acts on it, commands a speed
that the base needs time to act on and then to brake from. This module keeps the numbers of
that budget (the approach model of Nav2's collision monitor, with the detection's age added):

- `SpeedHistory`: an upper bound of the base's forward speed over the last seconds (what it was
  told, decaying no faster than it can brake), to know how far it went since a frame's stamp.
- `stopping_distance(v)`: the distance from a stop decision until rest: `v * response_time`
  (transport, controller period, the next planner tick) plus `v^2 / (2 * decel)`.
- `approach_speed(free)`: the highest speed that can still stop within `free` metres, and that
  would not cover them in less than `time_before_collision`.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
import math

# Speeds are remembered this long (s) beyond the oldest detection the watchdog accepts.
HISTORY_SLACK = 1.0
HISTORY_MAX = 4096
# A stop is commanded when the robot, braking now, would come to rest within this distance (m)
# beyond the line: the approach speed alone only tends toward the line.
HALT_SLACK = 0.05


@dataclass(frozen=True)
class Obstacle:
    """The nearest stop-class object of a frame: its distance taken on the safe side (m) at `stamp`."""

    class_name: str
    distance: float
    estimate: float
    source: str  # 'depth', or the monocular method ('ground', 'height'); 'fills_frame' when 0
    stamp: float


@dataclass(frozen=True)
class Clearance:
    """The stop budget at one command: where the robot would come to rest, and the margin kept.

    `distance`: the obstacle's safe-side distance now (the frame's, less the travel since its
    stamp); `rest`: the same once a stop commanded now has brought the base to rest; `margin`:
    `rest - safety_distance` (negative: the line would be crossed); `speed_limit`: the highest
    forward speed allowed now (m/s).
    """

    class_name: str
    estimate: float
    source: str
    age: float
    distance: float
    rest: float
    margin: float
    speed_limit: float


@dataclass(frozen=True)
class StopModel:
    """The base's side of the budget: braking deceleration (m/s^2), response and approach times (s)."""

    decel: float
    response_time: float
    time_before_collision: float

    def stopping_distance(self, speed: float) -> float:
        """Return the distance (m) from a stop decision at `speed` (m/s) until the base rests."""
        v = max(speed, 0.0)
        return v * self.response_time + v * v / (2.0 * self.decel)

    def approach_speed(self, free: float) -> float:
        """Return the highest forward speed (m/s) that stops within `free` m (0 when none is left)."""
        if not free > 0.0:
            return 0.0
        a, t = self.decel, self.response_time
        # Root of v * t + v^2 / (2 a) = free.
        speed = a * (math.sqrt(t * t + 2.0 * free / a) - t)
        if self.time_before_collision > 0.0:
            speed = min(speed, free / self.time_before_collision)
        return speed if math.isfinite(speed) else 0.0


class SpeedHistory:
    """Upper bound of the base's forward speed over time, from the commands sent to it.

    The base follows a command within its acceleration limits, so after a lower command it
    slows no faster than `decel`: between two commands the bound is the larger of the command
    and the previous bound decayed at `decel`. A measured speed (odometry), when given, raises
    it. `travel(since, now)` integrates the bound: how far the base can have gone since a frame
    was taken.
    """

    def __init__(self, decel: float, keep: float) -> None:
        self.decel = decel
        self.keep = keep
        # (time, bound at that time, command in force from then on)
        self._log: deque[tuple[float, float, float]] = deque(maxlen=HISTORY_MAX)

    def clear(self) -> None:
        """Forget the history (time went backwards)."""
        self._log.clear()

    def _decayed(self, bound: float, command: float, elapsed: float) -> float:
        return max(command, bound - self.decel * max(elapsed, 0.0), 0.0)

    def bound(self, now: float) -> float:
        """Return the speed bound in effect at `now` (m/s, >= 0)."""
        if not self._log:
            return 0.0
        t, bound, command = self._log[-1]
        return self._decayed(bound, command, now - t)

    def record(self, now: float, commanded: float, measured: float | None = None) -> float:
        """Record the forward command sent at `now` (m/s); return the bound from then on."""
        if self._log and not now >= self._log[-1][0]:
            self.clear()
        commanded = max(commanded, 0.0) if math.isfinite(commanded) else 0.0
        bound = max(commanded, self.bound(now), measured if measured is not None else 0.0)
        if not math.isfinite(bound):
            bound = commanded
        self._log.append((now, bound, commanded))
        while len(self._log) > 1 and self._log[1][0] < now - self.keep:
            self._log.popleft()
        return bound

    def _area(self, bound: float, command: float, begin: float, end: float) -> float:
        """Integrate max(command, bound - decel * tau) over tau in [begin, end]."""
        if self.decel <= 0.0 or bound <= command:
            return max(bound, command) * (end - begin)
        ramp_end = (bound - command) / self.decel  # the bound meets the command here
        area = 0.0
        a, b = begin, min(end, ramp_end)
        if b > a:
            area += (bound - self.decel * (a + b) / 2.0) * (b - a)
        a = max(begin, ramp_end)
        if end > a:
            area += command * (end - a)
        return area

    def travel(self, since: float, now: float) -> float:
        """Return the most the base can have travelled forward (m) between `since` and `now`."""
        if not self._log or not since < now:
            return 0.0
        entries = list(self._log)
        total = 0.0
        first_t, first_bound, _ = entries[0]
        if since < first_t:  # older than the history: at the oldest bound known
            total += first_bound * (min(first_t, now) - since)
        for i, (t, bound, command) in enumerate(entries):
            end = now if i + 1 == len(entries) else min(entries[i + 1][0], now)
            begin = max(t, since)
            if end > begin:
                total += self._area(bound, command, begin - t, end - t)
        return total if math.isfinite(total) else math.inf
