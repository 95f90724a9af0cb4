"""Speed and acceleration limits."""

import math

import pytest

from physical_ai.core.planning.limits import MAX_STEP, VelocityLimiter, VelocityLimits

LIMITS = VelocityLimits(max_linear_speed=0.5, max_reverse_speed=0.2, max_angular_speed=1.0,
                        max_linear_accel=1.0, max_angular_accel=2.0)


@pytest.mark.parametrize('cmd,expected', [
    ((2.0, 3.0), (0.5, 1.0)),
    ((-2.0, -3.0), (-0.2, -1.0)),
    ((0.3, -0.4), (0.3, -0.4)),
    ((math.nan, math.nan), (0.0, 0.0)),
    ((math.inf, -math.inf), (0.5, -1.0)),
])
def test_speed_clamp(cmd, expected):
    assert LIMITS.clamp(*cmd) == expected


def test_acceleration_limited_both_ways():
    limiter = VelocityLimiter(LIMITS)
    assert limiter.limit(0.5, 1.0, 0.1) == pytest.approx((0.1, 0.2))
    assert limiter.limit(0.5, 1.0, 0.1) == pytest.approx((0.2, 0.4))
    assert limiter.limit(0.0, 0.0, 0.1) == pytest.approx((0.1, 0.2))  # deceleration limited too
    assert limiter.limit(0.0, 0.0, 0.0) == pytest.approx((0.1, 0.2))  # no time, no change


def test_long_gap_allows_at_most_max_step():
    limiter = VelocityLimiter(LIMITS)
    linear, angular = limiter.limit(0.5, 1.0, 10.0)
    assert linear == pytest.approx(LIMITS.max_linear_accel * MAX_STEP)
    assert angular == pytest.approx(LIMITS.max_angular_accel * MAX_STEP)
    assert limiter.limit(0.5, 1.0, math.nan) == (linear, angular)


def test_measured_velocity_is_the_reference_in_closed_loop():
    limiter = VelocityLimiter(LIMITS)
    assert limiter.limit(0.5, 0.0, 0.1, measured=(0.35, 0.0)) == pytest.approx((0.45, 0.0))


def test_stop_resets_and_lowered_limits_apply_at_once():
    limiter = VelocityLimiter(LIMITS)
    for _ in range(10):
        limiter.limit(0.5, 1.0, 0.1)
    assert limiter.last == pytest.approx((0.5, 1.0))
    limiter.limits = VelocityLimits(0.2, 0.1, 0.3, 1.0, 2.0)
    assert limiter.limit(0.5, 1.0, 0.1) == pytest.approx((0.2, 0.3))
    assert limiter.stop() == (0.0, 0.0)
    assert limiter.limit(0.5, 1.0, 0.1) == pytest.approx((0.1, 0.2))
