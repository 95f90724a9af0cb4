"""Differential-drive base kinematics with the limits of a real base controller.

A velocity command (v forward, w counter-clockwise, REP 103) sets the target; every fixed step
moves the actual velocities toward it within the acceleration limits, and integrates the pose
along the exact arc. A command older than `cmd_timeout` (sim time) counts as zero, as
diff_drive_controller and Gazebo's DiffDrive do, so a silent or crashed planner stops the robot.
"""

from __future__ import annotations

from dataclasses import dataclass
import math

from physical_ai.core.errors import ConfigError


@dataclass(frozen=True)
class BaseLimits:
    """Speed (m/s, rad/s) and acceleration (m/s^2, rad/s^2) limits, and the command timeout (s)."""

    max_linear_speed: float = 1.0
    max_angular_speed: float = 2.0
    max_linear_accel: float = 1.0
    max_angular_accel: float = 3.0
    cmd_timeout: float = 0.5

    def __post_init__(self) -> None:
        """Reject negative or non-finite limits."""
        for name, value in vars(self).items():
            if not (math.isfinite(value) and value > 0.0):
                raise ConfigError(f'base limit {name} must be a finite number > 0, got {value}')


@dataclass(frozen=True)
class BaseState:
    """Pose in the world (m, rad), actual velocities and wheel angles (rad)."""

    x: float = 0.0
    y: float = 0.0
    yaw: float = 0.0
    linear: float = 0.0
    angular: float = 0.0
    left_wheel: float = 0.0
    right_wheel: float = 0.0


def _toward(current: float, target: float, step: float) -> float:
    return min(target, current + step) if target >= current else max(target, current - step)


def wrap_angle(angle: float) -> float:
    """Return `angle` in [-pi, pi)."""
    return (angle + math.pi) % (2.0 * math.pi) - math.pi


class DiffDrive:
    """A differential-drive base driven by velocity commands on a simulated clock."""

    def __init__(self, limits: BaseLimits, pose: tuple[float, float, float] = (0.0, 0.0, 0.0),
                 wheel_radius: float = 0.05, wheel_separation: float = 0.32) -> None:
        self.limits = limits
        self.wheel_radius = wheel_radius
        self.wheel_separation = wheel_separation
        self.state = BaseState(pose[0], pose[1], wrap_angle(pose[2]))
        self._target = (0.0, 0.0)
        self._command_time: float | None = None

    def command(self, linear: float, angular: float, now: float) -> bool:
        """Set the target velocity at sim time `now`; returns False (and ignores it) if not finite."""
        if not (math.isfinite(linear) and math.isfinite(angular)):
            return False
        lim = self.limits
        self._target = (max(-lim.max_linear_speed, min(lim.max_linear_speed, linear)),
                        max(-lim.max_angular_speed, min(lim.max_angular_speed, angular)))
        self._command_time = now
        return True

    def target(self, now: float) -> tuple[float, float]:
        """Return the target velocity in effect at `now` (zero once the command is stale)."""
        if self._command_time is None or now - self._command_time > self.limits.cmd_timeout:
            return (0.0, 0.0)
        return self._target

    def command_age(self, now: float) -> float | None:
        """Return the age of the last command (s), None before the first."""
        return None if self._command_time is None else now - self._command_time

    def step(self, dt: float, now: float) -> BaseState:
        """Advance by `dt` seconds (the step that starts at `now`) and return the new state."""
        s, lim = self.state, self.limits
        target_v, target_w = self.target(now)
        v = _toward(s.linear, target_v, lim.max_linear_accel * dt)
        w = _toward(s.angular, target_w, lim.max_angular_accel * dt)
        # Exact integration of the arc at the new constant velocities over the step.
        if abs(w) < 1e-9:
            x = s.x + v * math.cos(s.yaw) * dt
            y = s.y + v * math.sin(s.yaw) * dt
        else:
            x = s.x + v / w * (math.sin(s.yaw + w * dt) - math.sin(s.yaw))
            y = s.y - v / w * (math.cos(s.yaw + w * dt) - math.cos(s.yaw))
        half = w * self.wheel_separation / 2.0
        left = s.left_wheel + (v - half) / self.wheel_radius * dt
        right = s.right_wheel + (v + half) / self.wheel_radius * dt
        self.state = BaseState(x, y, wrap_angle(s.yaw + w * dt), v, w,
                               wrap_angle(left), wrap_angle(right))
        return self.state

    def halt(self, state: BaseState) -> None:
        """Put the base back to `state` with zero velocity (it ran into something)."""
        self.state = BaseState(state.x, state.y, state.yaw, 0.0, 0.0, state.left_wheel, state.right_wheel)
