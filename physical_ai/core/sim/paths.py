"""Where a walking object is at a given sim time: a route of waypoints walked at constant speed.

A route is the object's start position followed by its `path` waypoints (scenario.py). It is
walked from the start at `speed`; at the last waypoint the object turns back and walks the route
in reverse (back and forth), or, with `loop`, walks straight back to the start and round again.
Plain maths, no MuJoCo: the simulator moves the object with it each step and the demo's judge
reads the same positions.
"""

from __future__ import annotations

from collections.abc import Sequence
import math

Point = tuple[float, float]


def route_length(route: Sequence[Point], loop: bool = False) -> float:
    """Return the length (m) of one pass: start to end (and back to the start with `loop`)."""
    points = list(route) + ([route[0]] if loop and len(route) > 1 else [])
    return sum(math.dist(a, b) for a, b in zip(points, points[1:], strict=False))


def route_pose(route: Sequence[Point], speed: float, t: float,
               loop: bool = False) -> tuple[float, float, float]:
    """Return (x, y, heading in rad) at time `t` (s) on the route; a still object faces +x."""
    if len(route) < 2 or speed <= 0.0:
        x, y = route[0]
        return float(x), float(y), 0.0
    points = list(route) + ([route[0]] if loop else [])
    length = route_length(route, loop)
    if length <= 0.0:
        return float(route[0][0]), float(route[0][1]), 0.0
    walked = max(t, 0.0) * speed
    if loop:
        s = walked % length
    else:
        s = walked % (2.0 * length)
        if s > length:  # the way back
            points, s = points[::-1], s - length
    for a, b in zip(points, points[1:], strict=False):
        leg = math.dist(a, b)
        if leg <= 0.0:
            continue
        if s <= leg:
            f = s / leg
            return (a[0] + f * (b[0] - a[0]), a[1] + f * (b[1] - a[1]),
                    math.atan2(b[1] - a[1], b[0] - a[0]))
        s -= leg
    a, b = points[-2], points[-1]
    return float(b[0]), float(b[1]), math.atan2(b[1] - a[1], b[0] - a[0])


def gait(t: float, speed: float, height: float, amplitude: float = 0.35) -> tuple[float, float, float, float]:
    """Return a walking person's limb angles (left arm, right arm, left leg, right leg) at time `t`.

    One stride (two steps) covers about 0.8 body heights; arms swing against the legs.
    """
    if speed <= 0.0:
        return (0.0, 0.0, 0.0, 0.0)
    stride = 0.8 * height
    swing = amplitude * math.sin(2.0 * math.pi * speed * t / stride)
    return (-swing * 0.7, swing * 0.7, swing, -swing)
