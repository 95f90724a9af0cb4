"""The safety gate over real DDS: it passes, times out on the steady clock, and its e-stop holds.

The gate runs as a real process (as it does in every profile); commands and e-stops come from
this test's own nodes with every kind of QoS a publisher may use.
"""

from pathlib import Path
import signal
import sys
import threading
import time

from diagnostic_msgs.msg import DiagnosticArray
from geometry_msgs.msg import Twist, TwistStamped
import pytest
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from std_msgs.msg import Bool

from physical_ai.core.errors import ConfigError
from physical_ai.nodes.safety_node import SafetyNode, default_state_file


def gate_command(state_file, *params):
    args = [str(Path(sys.executable).parent / 'safety_node'), '--ros-args',
            '-p', f'state_file:={state_file}', '-p', 'max_linear_accel:=20.0',
            '-p', 'max_angular_accel:=20.0']
    for p in params:
        args += ['-p', p]
    return args


class Source:
    """Publishes one Twist at 20 Hz from a helper node, like a planner (the value can change)."""

    def __init__(self, ros, topic='planner/cmd_vel', linear=0.3, name='source', msg_type=Twist):
        self.node = ros.node(name)
        self.pub = self.node.create_publisher(msg_type, topic, 10)
        self.linear = linear
        self.msg_type = msg_type
        self.node.create_timer(0.05, self._tick)

    def _tick(self):
        twist = Twist()
        twist.linear.x = self.linear
        self.pub.publish(TwistStamped(twist=twist) if self.msg_type is TwistStamped else twist)


def e_stop_qos(reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.VOLATILE):
    return QoSProfile(depth=1, reliability=reliability, durability=durability)


def publish_until_matched(ros, pub, value, timeout=10.0):
    ros.wait_until(lambda: pub.get_subscription_count() > 0, timeout=timeout)
    pub.publish(Bool(data=value))


def gaps(times):
    return [b - a for a, b in zip(times, times[1:], strict=False)]


def diag_values(msg):
    return {kv.key: kv.value for kv in msg.status[0].values}


def is_gate_diag(msg):
    return bool(msg.status) and msg.status[0].name.startswith('safety')


def test_passes_commands_then_zero_at_its_rate_when_the_source_stops(ros, spawn, tmp_path):
    cmds = ros.collect(Twist, 'cmd_vel', qos=10)
    source = Source(ros)
    spawn(gate_command(tmp_path / 'e_stop.json', 'use_sim_time:=true'), name='gate')
    # use_sim_time with no /clock at all: the steady-clock timeout still runs.
    cmds.wait(1, timeout=30.0, predicate=lambda m: abs(m.linear.x - 0.3) < 1e-9)
    source.linear = 3.0
    cmds.wait(1, timeout=10.0, predicate=lambda m: m.linear.x == 0.5)  # max_linear_speed
    cmds.clear()
    ros.remove(source.node)
    stopped = time.monotonic()
    cmds.wait(1, timeout=5.0, predicate=lambda m: m.linear.x == 0.0)
    zero_at = next(t for m, t in zip(cmds.messages, cmds.times, strict=True) if m.linear.x == 0.0)
    assert zero_at - stopped < 1.5  # cmd_timeout 0.5 s, generous for a loaded machine
    count = len(cmds.messages)
    time.sleep(1.0)
    later = cmds.messages[count:]
    assert len(later) >= 10 and all(m.linear.x == 0.0 for m in later)  # 20 Hz of zeros


@pytest.mark.parametrize('reliability, durability', [
    (ReliabilityPolicy.BEST_EFFORT, DurabilityPolicy.VOLATILE),
    (ReliabilityPolicy.RELIABLE, DurabilityPolicy.VOLATILE),
    (ReliabilityPolicy.RELIABLE, DurabilityPolicy.TRANSIENT_LOCAL),
])
def test_e_stop_from_any_publisher_stops_within_half_a_second(ros, spawn, tmp_path, reliability, durability):
    cmds = ros.collect(Twist, 'cmd_vel', qos=10)
    Source(ros)
    # The e-stop device exists before the gate moves anything, as on a robot: discovery is done
    # both ways (a reader drops samples of a writer it has not matched yet) when it is pressed.
    pub = ros.node('e_stop_source').create_publisher(Bool, 'e_stop', e_stop_qos(reliability, durability))
    presses = ros.collect(Bool, 'e_stop', qos=e_stop_qos(reliability, durability))  # for the press's stamp
    spawn(gate_command(tmp_path / 'e_stop.json'), name='gate')
    matches = 2 if reliability == ReliabilityPolicy.BEST_EFFORT else 3  # ours + gate's (BE: not reliable)
    ros.wait_until(lambda: pub.get_subscription_count() >= matches, timeout=30.0)
    cmds.wait(1, timeout=30.0, predicate=lambda m: m.linear.x > 0.2)
    cmds.clear()
    pub.publish(Bool(data=True))
    presses.wait(1, timeout=5.0)
    cmds.wait(1, timeout=5.0, predicate=lambda m: m.linear.x == 0.0)
    zero = next(i for i, m in enumerate(cmds.messages) if m.linear.x == 0.0)
    first_zero = cmds.times[zero]
    # Timed by the writers' DDS stamps (the press, the gate's first zero): the gate's reaction,
    # not this process's receipt (a stall of the test process once made it 0.508 s in CI).
    assert 0.0 <= (cmds.written[zero] - presses.written[0]) * 1e-9 <= 0.5
    time.sleep(0.5)
    assert all(m.linear.x == 0.0 for m, t in zip(cmds.messages, cmds.times, strict=True) if t > first_zero)


def test_e_stop_survives_its_source_leaving_and_a_kill_9_of_the_gate(ros, spawn, tmp_path):
    state = tmp_path / 'e_stop.json'
    cmds = ros.collect(Twist, 'cmd_vel', qos=10)
    Source(ros)
    gate = spawn(gate_command(state), name='gate')
    cmds.wait(1, timeout=30.0, predicate=lambda m: m.linear.x > 0.2)

    node = ros.node('e_stop_once')
    cmds.clear()
    publish_until_matched(ros, node.create_publisher(Bool, 'e_stop', e_stop_qos()), True)
    cmds.wait(1, timeout=5.0, predicate=lambda m: m.linear.x == 0.0)
    ros.remove(node)  # the e-stop source goes away: nobody will ever send false from it

    gate.proc.send_signal(signal.SIGKILL)
    gate.wait(10.0)
    cmds.clear()
    spawn(gate_command(state), name='gate_again')
    cmds.wait(20, timeout=30.0)
    assert all(m.linear.x == 0.0 for m in cmds.messages), 'restarted gate passed a command while engaged'
    diag = ros.wait_for(DiagnosticArray, '/diagnostics', predicate=is_gate_diag, timeout=10.0)[0]
    values = diag_values(diag)
    assert values['e_stop'] == 'engaged' and values['e_stop_restored'] == 'True'

    # Only an explicit false releases it.
    publish_until_matched(ros, ros.node('operator').create_publisher(Bool, 'e_stop', e_stop_qos()), False)
    cmds.wait(1, timeout=5.0, predicate=lambda m: m.linear.x > 0.2)


def test_higher_priority_source_and_stamped_types(ros, spawn, tmp_path):
    cmds = ros.collect(TwistStamped, 'cmd_vel', qos=10)
    Source(ros, linear=0.3)
    teleop = Source(ros, topic='teleop/cmd_vel', linear=-0.1, name='teleop', msg_type=TwistStamped)
    spawn(gate_command(tmp_path / 'e_stop.json', 'input_names:=[planner, teleop]',
                       'input_topics:=[planner/cmd_vel, teleop/cmd_vel]', 'input_priorities:=[10, 100]',
                       'input_types:=[Twist, TwistStamped]', 'stamped:=true'), name='gate')
    msg = cmds.wait(1, timeout=30.0, predicate=lambda m: m.twist.linear.x == -0.1)[0]
    assert msg.header.frame_id == 'base_link'
    ros.remove(teleop.node)
    cmds.wait(1, timeout=5.0, predicate=lambda m: m.twist.linear.x == 0.3)


def test_nan_command_is_replaced_by_zero_and_counted(ros, spawn, tmp_path):
    cmds = ros.collect(Twist, 'cmd_vel', qos=10)
    source = Source(ros)
    spawn(gate_command(tmp_path / 'e_stop.json'), name='gate')
    cmds.wait(1, timeout=30.0, predicate=lambda m: m.linear.x > 0.2)
    cmds.clear()
    source.linear = float('nan')
    cmds.wait(1, timeout=5.0, predicate=lambda m: m.linear.x == 0.0)
    diag = ros.wait_for(DiagnosticArray, '/diagnostics', timeout=10.0,
                        predicate=lambda m: is_gate_diag(m) and diag_values(m)['rejected_commands'] != '0')[0]
    assert diag_values(diag)['source.planner.rejected'] != '0'
    assert all(m.linear.x == m.linear.x for m in cmds.messages)  # no NaN ever left the gate


def test_deadman_heartbeat(ros, spawn, tmp_path):
    cmds = ros.collect(Twist, 'cmd_vel', qos=10)
    Source(ros)
    spawn(gate_command(tmp_path / 'e_stop.json', 'deadman_timeout:=0.3'), name='gate')
    cmds.wait(20, timeout=30.0)
    assert all(m.linear.x == 0.0 for m in cmds.messages)  # no heartbeat yet
    node = ros.node('operator')
    beat = node.create_publisher(Bool, 'heartbeat', 1)
    running = threading.Event()
    running.set()
    node.create_timer(0.1, lambda: beat.publish(Bool(data=True)) if running.is_set() else None)
    cmds.wait(1, timeout=10.0, predicate=lambda m: m.linear.x > 0.2)
    cmds.clear()
    running.clear()
    stopped = time.monotonic()
    cmds.wait(1, timeout=5.0, predicate=lambda m: m.linear.x == 0.0)
    zero_at = next(t for m, t in zip(cmds.messages, cmds.times, strict=True) if m.linear.x == 0.0)
    assert zero_at - stopped < 1.5


def test_in_process_start_up_errors_are_config_errors(ros, tmp_path):
    from rclpy.parameter import Parameter

    with pytest.raises(ConfigError, match='same length'):
        SafetyNode(context=ros.context, parameter_overrides=[
            Parameter('state_file', value=str(tmp_path / 's.json')),
            Parameter('input_names', value=['a', 'b'])])
    blocker = tmp_path / 'file'
    blocker.write_text('')
    with pytest.raises(ConfigError, match='cannot be created'):
        SafetyNode(context=ros.context, parameter_overrides=[
            Parameter('state_file', value=str(blocker / 'sub' / 's.json'))])


def test_default_state_file_names_namespace_and_node(monkeypatch, tmp_path):
    monkeypatch.setenv('ROS_HOME', str(tmp_path))
    assert default_state_file('/robot1', 'safety') == tmp_path / 'physical_ai' / 'robot1_safety.e_stop.json'
    assert default_state_file('/', 'safety') == tmp_path / 'physical_ai' / 'safety.e_stop.json'
