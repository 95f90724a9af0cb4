"""The command gate: priorities, timeouts on the caller's steady clock, e-stop, deadman, limits."""

import math

import pytest

from physical_ai.core.errors import ConfigError
from physical_ai.core.safety import Command, CommandGate, EStopLatch, GateConfig, Source

TWO = (Source('planner', 10, 'planner/cmd_vel'), Source('teleop', 100, 'teleop/cmd_vel'))
FAST = dict(max_linear_accel=50.0, max_angular_accel=50.0)


def gate(**kwargs):
    return CommandGate(GateConfig(**{'sources': TWO, **FAST, **kwargs}))


def test_fresh_command_passes_and_times_out_to_zero():
    g = gate(cmd_timeout=0.5)
    assert g.output(0.0).command == Command()
    g.offer('planner', Command(0.3, 0.0, 0.2), 1.0)
    out = g.output(1.1)
    assert (out.command, out.source, out.reason) == (Command(0.3, 0.0, 0.2), 'planner', 'ok')
    assert g.output(1.5).command.linear == 0.3
    out = g.output(1.51)
    assert out.command.is_zero() and out.halted and 'cmd_timeout' in out.reason
    assert g.counters.timeouts == 2  # before the first command, and after it went stale


def test_higher_priority_source_wins_while_fresh_then_lower_takes_over():
    g = gate(cmd_timeout=0.5)
    g.offer('planner', Command(0.4), 0.0)
    g.offer('teleop', Command(-0.1), 0.1)
    assert g.output(0.2).source == 'teleop'
    g.offer('planner', Command(0.4), 0.5)
    assert g.output(0.55).source == 'teleop'
    assert g.output(0.61).source == 'planner'


@pytest.mark.parametrize('bad', [math.nan, math.inf, -math.inf])
def test_non_finite_command_becomes_that_sources_zero(bad):
    g = gate()
    g.offer('planner', Command(0.3), 0.0)
    assert g.offer('planner', Command(bad, 0.0, 0.1), 0.1)
    out = g.output(0.15)
    assert out.command == Command() and out.source == 'planner'
    assert g.counters.rejected == 1 and g.sources['planner'].rejected == 1


def test_unknown_source_is_refused():
    assert 'unknown' in gate().offer('nav2', Command(0.1), 0.0)


def test_e_stop_holds_zero_whatever_the_sources_say():
    latch = EStopLatch()
    g = CommandGate(GateConfig(sources=TWO, **FAST), latch)
    latch.engage('test')
    g.offer('teleop', Command(0.5), 0.0)
    out = g.output(0.01)
    assert out.command.is_zero() and out.halted and 'e_stop engaged' in out.reason
    latch.release('test')
    assert g.output(0.02).command.linear == 0.5


def test_deadman_needs_a_heartbeat_within_its_timeout():
    g = gate(deadman_timeout=0.3, cmd_timeout=10.0)
    g.offer('planner', Command(0.2), 0.0)
    assert 'heartbeat' in g.output(0.0).reason
    g.heartbeat(True, 0.0)
    assert g.output(0.1).command.linear == 0.2
    assert 'heartbeat' in g.output(0.31).reason
    g.heartbeat(True, 0.4)
    assert g.output(0.45).command.linear == 0.2
    g.heartbeat(False, 0.5)  # a released deadman switch stops at once
    assert g.output(0.5).command.is_zero()


def test_speed_limits_are_the_last_word():
    g = gate(max_linear_speed=0.5, max_reverse_speed=0.2, max_angular_speed=1.0)
    g.offer('planner', Command(3.0, 1.0, -7.0), 0.0)
    out = g.output(0.1)
    assert out.command == Command(0.5, 0.0, -1.0) and out.reason == 'speed limited'
    g.offer('planner', Command(-3.0), 0.2)
    assert g.output(0.3).command.linear == -0.2


def test_acceleration_is_limited_but_slowing_down_never_is():
    g = gate(max_linear_accel=1.0, max_angular_accel=2.0, max_linear_speed=2.0, cmd_timeout=5.0)
    g.output(0.0)
    g.offer('planner', Command(1.0, 0.0, 1.0), 0.0)
    out = g.output(0.1)
    assert out.command.linear == pytest.approx(0.1) and out.command.angular == pytest.approx(0.2)
    assert out.reason == 'acceleration limited'
    for i in range(2, 12):
        out = g.output(i * 0.1)
    assert out.command.linear == pytest.approx(1.0)
    g.offer('planner', Command(0.0), 1.2)
    assert g.output(1.21).command.linear == 0.0  # stop at once
    g.offer('planner', Command(0.5), 1.3)
    g.output(1.5)
    g.offer('planner', Command(-0.2), 1.6)
    assert g.output(1.65).command.linear == pytest.approx(-0.15)  # reversing starts from zero


def test_a_long_gap_allows_no_jump():
    g = gate(max_linear_accel=1.0, max_linear_speed=2.0, cmd_timeout=100.0)
    g.output(0.0)
    g.offer('planner', Command(2.0), 50.0)
    assert g.output(50.0).command.linear == pytest.approx(0.25)


@pytest.mark.parametrize('kwargs, match', [
    (dict(sources=()), 'at least one'),
    (dict(sources=(Source('a'), Source('a'))), 'unique'),
    (dict(cmd_timeout=0.0), 'cmd_timeout'),
    (dict(max_linear_speed=math.nan), 'max_linear_speed'),
])
def test_bad_config_is_refused(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        GateConfig(**kwargs)


def test_config_from_params_checks_the_parallel_lists():
    base = dict(input_names=['planner', 'teleop'], input_topics=['a', 'b'], input_priorities=[1, 2],
                input_types=[], cmd_timeout=0.5, deadman_timeout=0.0, startup_hold=0.0, max_linear_speed=0.5,
                max_reverse_speed=0.2, max_lateral_speed=0.0, max_angular_speed=1.0, max_linear_accel=1.0,
                max_angular_accel=2.0)
    config = GateConfig.from_params(base)
    assert config.sources == (Source('planner', 1, 'a', 'Twist'), Source('teleop', 2, 'b', 'Twist'))
    with pytest.raises(ConfigError, match='same length'):
        GateConfig.from_params({**base, 'input_topics': ['a']})
    with pytest.raises(ConfigError, match='input_types'):
        GateConfig.from_params({**base, 'input_types': ['Twist']})


def test_startup_hold_keeps_zero_after_the_first_output():
    g = gate(startup_hold=1.0, cmd_timeout=10.0)
    g.offer('planner', Command(0.2), 0.0)
    assert 'startup_hold' in g.output(5.0).reason
    assert g.output(5.9).command.is_zero()
    assert g.output(6.0).command.linear == 0.2
