"""What an operator station knows of a fleet: per robot, rates of what arrives and e-stop state.

Plain Python (no rclpy): the operator node feeds it arrival times and diagnostics and reports it.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

from physical_ai.core.errors import ConfigError
from physical_ai.core.profiles import normalize_namespace


class RateMeter:
    """Counts arrivals; reports the rate over the last `window` seconds."""

    def __init__(self, window: float = 5.0) -> None:
        self.window = window
        self.times: deque[float] = deque()
        self.count = 0
        self.first: float | None = None

    def add(self, now: float) -> None:
        """Record one arrival at `now` (monotonic seconds)."""
        self.count += 1
        if self.first is None:
            self.first = now
        self.times.append(now)
        self._trim(now)

    def rate(self, now: float) -> float:
        """Return arrivals per second over the window ending at `now` (shorter while warming up)."""
        self._trim(now)
        if self.first is None:
            return 0.0
        span = min(self.window, now - self.first)
        return len(self.times) / span if span > 0 else 0.0

    def full(self, now: float) -> bool:
        """Return whether the first arrival is at least a window old (the rate is a full window's)."""
        return self.first is not None and now - self.first >= self.window

    def _trim(self, now: float) -> None:
        while self.times and self.times[0] < now - self.window:
            self.times.popleft()


@dataclass
class RobotStatus:
    """One robot as the operator sees it."""

    namespace: str
    images: RateMeter
    detections: RateMeter
    image_size: str = ''
    e_stop: bool | None = None  # what this station last commanded (None: nothing yet)
    diagnostics: dict[str, tuple[str, str]] = field(default_factory=dict)  # name -> (level, message)
    # (frames the camera said it published, frames received here) at each camera diagnostics sample
    camera_samples: deque[tuple[int, int]] = field(default_factory=lambda: deque(maxlen=64))
    last_seen: float | None = None

    def delivered(self, samples: int = 6) -> float | None:
        """Return received / published camera frames over the last `samples` diagnostics periods."""
        if len(self.camera_samples) < 2:
            return None
        pub0, got0 = self.camera_samples[-min(samples, len(self.camera_samples))]
        pub1, got1 = self.camera_samples[-1]
        if pub1 <= pub0:
            return None
        return (got1 - got0) / (pub1 - pub0)

    def report(self, now: float) -> dict[str, Any]:
        """Return a JSON-ready summary."""
        delivered = self.delivered()
        return {
            'image_hz': round(self.images.rate(now), 2), 'image_window_full': self.images.full(now),
            'images': self.images.count, 'image_size': self.image_size,
            'detections_hz': round(self.detections.rate(now), 2), 'detections': self.detections.count,
            'camera_delivered': None if delivered is None else round(delivered, 3),
            'e_stop': self.e_stop,
            'diagnostics': {name: f'{lvl}: {text}' for name, (lvl, text) in self.diagnostics.items()},
            'last_seen_s': None if self.last_seen is None else round(now - self.last_seen, 2),
        }


class Fleet:
    """The robots an operator station follows, by namespace."""

    def __init__(self, window: float = 5.0) -> None:
        self.window = window
        self.robots: dict[str, RobotStatus] = {}
        self.all_stopped = False  # 'e_stop all' holds for robots that show up later too

    def add(self, name: str) -> RobotStatus:
        """Follow the robot under namespace `name` ('robot1' or '/robot1'); return its status."""
        ns = normalize_namespace(name, 'robot')
        if not ns:
            raise ConfigError(f'robot {name!r}: a robot of a fleet needs a namespace of its own')
        if ns not in self.robots:
            self.robots[ns] = RobotStatus(ns, RateMeter(self.window), RateMeter(self.window))
        return self.robots[ns]

    def targets(self, target: str) -> list[RobotStatus]:
        """Return the robots a command names: one namespace or 'all'."""
        if target == 'all':
            return list(self.robots.values())
        ns = normalize_namespace(target, 'robot')
        if ns not in self.robots:
            raise ConfigError(f'unknown robot {target!r}; known: {", ".join(self.robots) or "(none yet)"}')
        return [self.robots[ns]]

    def owner(self, hardware_id: str) -> RobotStatus | None:
        """Return the robot whose namespace a diagnostics hardware_id ('/robot1/camera') is under."""
        best = None
        for ns, robot in self.robots.items():
            if hardware_id.startswith(ns + '/') and (best is None or len(ns) > len(best.namespace)):
                best = robot
        return best

    def report(self, now: float) -> dict[str, Any]:
        """Return a JSON-ready summary of every robot."""
        return {ns: robot.report(now) for ns, robot in sorted(self.robots.items())}


def parse_command(line: str) -> tuple[str, str]:
    """Split an operator console line ('e_stop robot1', 'release all', 'report') into (verb, target)."""
    words = line.split()
    if not words:
        return '', ''
    verb = words[0].lower().replace('-', '_')
    if verb in ('e_stop', 'estop', 'stop'):
        verb = 'e_stop'
    if verb not in ('e_stop', 'release', 'report', 'quit'):
        raise ConfigError(f'unknown command {words[0]!r}; commands: e_stop ROBOT|all, release ROBOT|all, '
                          'report, quit')
    target = words[1] if len(words) > 1 else ''
    if verb in ('e_stop', 'release') and not target:
        raise ConfigError(f'{verb}: name a robot (its namespace) or all')
    return verb, target
