"""Speed and acceleration limits for (linear, angular) velocity commands."""

from __future__ import annotations

from dataclasses import dataclass
import math

# A longer gap between two commands (a stalled timer, a paused simulation) allows no more change
# than this many seconds' worth of acceleration.
MAX_STEP = 0.25


@dataclass(frozen=True)
class VelocityLimits:
    """Bounds on the command: speeds in m/s and rad/s, accelerations in m/s^2 and rad/s^2."""

    max_linear_speed: float = 0.5
    max_reverse_speed: float = 0.2
    max_angular_speed: float = 1.0
    max_linear_accel: float = 1.0
    max_angular_accel: float = 2.0

    def clamp(self, linear: float, angular: float) -> tuple[float, float]:
        """Return the command with speeds clamped (NaN becomes 0)."""
        linear = 0.0 if math.isnan(linear) else linear
        angular = 0.0 if math.isnan(angular) else angular
        return (min(max(linear, -self.max_reverse_speed), self.max_linear_speed),
                min(max(angular, -self.max_angular_speed), self.max_angular_speed))


def _step(target: float, current: float, max_change: float) -> float:
    return current + min(max(target - current, -max_change), max_change)


class VelocityLimiter:
    """Applies speed limits, then acceleration limits relative to the previous command.

    By default the previous command is the reference (open loop); `measured` lets a caller pass
    the robot's measured velocity instead (closed loop, from odometry). `stop()` sets the
    reference to zero: safety stops bypass the deceleration limit, like a collision monitor
    placed after a velocity smoother.
    """

    def __init__(self, limits: VelocityLimits | None = None) -> None:
        self.limits = limits or VelocityLimits()
        self.last = (0.0, 0.0)

    def stop(self) -> tuple[float, float]:
        """Return a zero command and make it the reference for the next one."""
        self.last = (0.0, 0.0)
        return self.last

    def limit(self, linear: float, angular: float, dt: float,
              measured: tuple[float, float] | None = None) -> tuple[float, float]:
        """Return the command after speed and acceleration limits for a step of `dt` seconds."""
        lim = self.limits
        linear, angular = lim.clamp(linear, angular)
        dt = min(max(dt, 0.0), MAX_STEP) if math.isfinite(dt) else 0.0
        ref_linear, ref_angular = self.last if measured is None else lim.clamp(*measured)
        linear = _step(linear, ref_linear, lim.max_linear_accel * dt)
        angular = _step(angular, ref_angular, lim.max_angular_accel * dt)
        # The reference may itself be outside the (possibly just lowered) speed limits.
        self.last = lim.clamp(linear, angular)
        return self.last
