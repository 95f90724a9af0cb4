"""Differential-drive kinematics: speed and acceleration limits, command timeout, exact arcs."""

import math

import pytest

from physical_ai.core.errors import ConfigError
from physical_ai.core.sim.robot import BaseLimits, DiffDrive

DT = 0.002


def run(base, seconds, start=0.0):
    t = start
    for _ in range(round(seconds / DT)):
        base.step(DT, t)
        t += DT
    return t


def test_acceleration_and_speed_limits():
    base = DiffDrive(BaseLimits(max_linear_speed=0.8, max_linear_accel=1.0, max_angular_accel=2.0,
                                cmd_timeout=10.0))
    base.command(5.0, 0.0, 0.0)
    base.step(DT, 0.0)
    assert base.state.linear == pytest.approx(1.0 * DT)
    run(base, 0.5, DT)
    assert base.state.linear == pytest.approx(0.5 + DT, abs=1e-9)
    run(base, 1.0, 0.5)
    assert base.state.linear == pytest.approx(0.8)  # clamped to the speed limit
    base.command(0.0, 5.0, 1.5)
    run(base, 0.1, 1.5)
    assert base.state.angular == pytest.approx(2.0 * 0.1, abs=1e-9)


def test_stale_command_stops_the_base():
    base = DiffDrive(BaseLimits(max_linear_accel=2.0, cmd_timeout=0.5))
    base.command(0.5, 0.0, 0.0)
    run(base, 0.5)
    assert base.state.linear == pytest.approx(0.5)
    assert base.target(0.49) == (0.5, 0.0)
    assert base.target(0.51) == (0.0, 0.0)
    run(base, 0.5, 0.5)
    assert base.state.linear == 0.0
    x = base.state.x
    run(base, 0.5, 1.0)
    assert base.state.x == x


def test_full_circle_returns_to_start():
    base = DiffDrive(BaseLimits(max_angular_speed=4.0, max_linear_accel=1e6, max_angular_accel=1e6,
                                cmd_timeout=100.0), (1.0, 2.0, 0.3))
    base.command(0.5, math.pi, 0.0)
    run(base, 2.0)  # one turn in exactly 1000 steps
    assert base.state.x == pytest.approx(1.0, abs=1e-6)
    assert base.state.y == pytest.approx(2.0, abs=1e-6)
    assert base.state.yaw == pytest.approx(0.3, abs=1e-6)


def test_non_finite_command_is_ignored():
    base = DiffDrive(BaseLimits())
    assert base.command(0.3, 0.0, 0.0)
    assert not base.command(float('nan'), 0.0, 0.1)
    assert not base.command(0.0, float('inf'), 0.1)
    assert base.target(0.1) == (0.3, 0.0)


def test_limits_must_be_positive():
    with pytest.raises(ConfigError, match='max_linear_speed'):
        BaseLimits(max_linear_speed=0.0)
