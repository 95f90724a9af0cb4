"""Safety gate node: the last node before the base. Command sources in, `cmd_vel` out.

A thin adapter around physical_ai.core.safety. It processes no detections and imports neither
torch nor OpenCV (only rclpy and its messages), so it starts fast and has little to fail.
Its timer runs on the steady clock, whatever `use_sim_time` says: with `/clock` stopped or ROS
time jumping, the base still hears a zero command at `rate`.
"""

from __future__ import annotations

import os
from pathlib import Path
import threading
import time
from typing import Any

from geometry_msgs.msg import Twist, TwistStamped
from rclpy.clock import Clock, ClockType
from rclpy.duration import Duration
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from rclpy.qos_overriding_options import QoSOverridingOptions
from rclpy.subscription import MessageInfo
from std_msgs.msg import Bool

from physical_ai.core.errors import ConfigError
from physical_ai.core.safety import Command, CommandGate, EStopLatch, GateConfig, GateOutput, LatchStore
from physical_ai.core.safety.latch import SampleOrder
from physical_ai.nodes.common import Diagnostics, SetUpNode, declare_params, node_main
from physical_ai.params.safety import PARAMS

WARN_PERIOD = 2.0  # seconds between repeats of a per-message warning
INPUT_TYPES = {'Twist': Twist, 'TwistStamped': TwistStamped}
# Every kind of e-stop publisher is heard: best effort + volatile matches any publisher, reliable
# + volatile makes a reliable publisher's samples reliable. No transient-local subscription: it
# would be incompatible with every volatile publisher (`ros2 topic pub` included), which then
# warns "No messages will be sent to it" on an e-stop; a restart finds its state in the file.
E_STOP_QOS = (
    (ReliabilityPolicy.BEST_EFFORT, DurabilityPolicy.VOLATILE),
    (ReliabilityPolicy.RELIABLE, DurabilityPolicy.VOLATILE),
)


def default_state_file(namespace: str, name: str) -> Path:
    """Return where the e-stop latch of node `namespace/name` is kept by default."""
    home = Path(os.environ.get('ROS_HOME') or Path.home() / '.ros')
    stem = '_'.join(p for p in (*namespace.strip('/').split('/'), name) if p)
    return home / 'physical_ai' / f'{stem}.e_stop.json'


def _steady() -> float:
    return time.monotonic()


class SafetyNode(SetUpNode):
    """Gates velocity commands: e-stop latch, command timeout, deadman and limits; docs/safety.md."""

    def __init__(self, node_name: str = 'safety', **kwargs: Any) -> None:
        super().__init__(node_name, **kwargs)

    def _setup(self) -> None:
        self._lock = threading.Lock()
        self._closed = False
        # fsync of the latch file runs here, off the executor: on a busy disk it can take a second,
        # and the gate must go on forwarding and stopping meanwhile.
        self._sync_wanted = threading.Event()
        self._syncing = True
        self._syncer = threading.Thread(target=self._sync_loop, name='e_stop_sync', daemon=True)
        self._values = declare_params(self, PARAMS, apply=self._apply)
        config = GateConfig.from_params(self._values)
        store = LatchStore(self._values['state_file']
                           or default_state_file(self.get_namespace(), self.get_name()))
        store.check_writable()
        self.gate = CommandGate(config, EStopLatch(store))
        self._order = SampleOrder()
        self._stamped = self._values['stamped']

        overrides = QoSOverridingOptions.with_default_policies()
        self._cmd_pub = self.create_publisher(
            TwistStamped if self._stamped else Twist, 'cmd_vel', QoSProfile(depth=10),
            qos_overriding_options=overrides)
        for source in config.sources:
            self.create_subscription(
                INPUT_TYPES[source.msg_type], source.topic, self._input_callback(source.name),
                QoSProfile(depth=1, reliability=ReliabilityPolicy.BEST_EFFORT),
                qos_overriding_options=overrides)
        for reliability, durability in E_STOP_QOS:
            self.create_subscription(Bool, 'e_stop', self._on_e_stop,
                                     QoSProfile(depth=10, reliability=reliability, durability=durability))
        self.create_subscription(Bool, 'heartbeat', self._on_heartbeat,
                                 QoSProfile(depth=1, reliability=ReliabilityPolicy.BEST_EFFORT))
        steady = Clock(clock_type=ClockType.STEADY_TIME)
        self._period = 1.0 / self._values['rate']
        self._timer = self.create_timer(self._period, self._tick, clock=steady)
        self._diagnostics = Diagnostics(self, 'safety gate', self._fill_diagnostics)
        self._published_at = 0.0
        self._syncer.start()
        latch = self.gate.latch
        if latch.engaged:
            self.get_logger().warning(
                f'e_stop ENGAGED, restored from {latch.store.path if latch.store else "memory"} '
                f'({latch.state.reason}; from {latch.state.source or "unknown"}): holding zero velocity '
                'until e_stop false')
        if latch.store_problem:
            self.get_logger().error(latch.store_problem)
        names = ', '.join(f'{s.name} ({self.resolve_topic_name(s.topic)}, priority {s.priority})'
                          for s in config.sources)
        self.get_logger().info(f'gating {names} -> {self.resolve_topic_name("cmd_vel")}')

    def _apply(self, changed: dict[str, Any]) -> None:
        with self._lock:
            merged = {**self._values, **changed}
            try:
                config = GateConfig.from_params(merged)
            except ConfigError as err:
                self.get_logger().error(f'parameter change not applied: {err}')
                return
            self._values = merged
            self.gate.reconfigure(config)

    # Inputs -----------------------------------------------------------------------------------

    def _input_callback(self, name: str):
        def callback(msg: Twist | TwistStamped) -> None:
            twist = msg.twist if isinstance(msg, TwistStamped) else msg
            command = Command(twist.linear.x, twist.linear.y, twist.angular.z)
            with self._lock:
                now = _steady()
                problem = self.gate.offer(name, command, now)
                selected = self.gate.selected(now)
                passes = selected is not None and selected.source.name == name
                if passes and not self._closed:
                    self._emit()  # forward at once: the gate adds no period of latency
            if problem:
                self.get_logger().warning(problem, throttle_duration_sec=WARN_PERIOD)
        return callback

    def _on_e_stop(self, msg: Bool, info: MessageInfo) -> None:
        gid = info.get('publisher_gid') or {}
        publisher = bytes(gid.get('data', b'')).hex() if isinstance(gid, dict) else ''
        with self._lock:
            if not self._order.accept(publisher, int(info.get('source_timestamp') or 0)):
                return
            source = f'e_stop publisher {publisher[:12] or "unknown"}'
            latch = self.gate.latch
            changed = latch.engage(source, save=False) if msg.data else latch.release(source, save=False)
            if changed:
                latch.save(sync=False)  # renamed into place: a crash from here on finds it
                if not self._closed:
                    self._emit()  # stop now, not at the next period
                self._sync_wanted.set()  # then to the disk, on the sync thread
            problem = latch.store_problem
        if changed:
            if msg.data:
                self.get_logger().warning('e_stop ENGAGED: holding zero velocity until e_stop false')
            else:
                self.get_logger().info('e_stop released')
        if problem:
            self.get_logger().error(problem, throttle_duration_sec=WARN_PERIOD)

    def _on_heartbeat(self, msg: Bool) -> None:
        with self._lock:
            self.gate.heartbeat(bool(msg.data), _steady())

    def _sync_loop(self) -> None:
        while True:
            self._sync_wanted.wait()
            self._sync_wanted.clear()
            if not self._syncing:
                return
            self.gate.latch.sync()

    # Output -----------------------------------------------------------------------------------

    def _tick(self) -> None:
        with self._lock:
            # Forwarded commands count: publish here only when none went out for a period.
            if not self._closed and _steady() - self._published_at >= 0.9 * self._period:
                self._emit()

    def _emit(self) -> GateOutput:
        previous = self.gate.last_output
        out = self.gate.output(_steady())
        self._publish(out.command)
        if out.halted and out.reason != previous.reason:
            self.get_logger().warning(f'holding zero velocity: {out.reason}')
        elif not out.halted and (previous.halted or previous.source != out.source):
            self.get_logger().info(f'passing commands of {out.source}')
        return out

    def _publish(self, command: Command) -> None:
        twist = Twist()
        twist.linear.x, twist.linear.y, twist.angular.z = (
            float(command.linear), float(command.lateral), float(command.angular))
        if self._stamped:
            msg = TwistStamped(twist=twist)
            msg.header.stamp = self.get_clock().now().to_msg()
            msg.header.frame_id = self._values['base_frame']
            self._cmd_pub.publish(msg)
        else:
            self._cmd_pub.publish(twist)
        self._published_at = _steady()

    def shutdown(self) -> None:
        """Publish a zero command (once) and wait briefly until subscribers have it."""
        pub = getattr(self, '_cmd_pub', None)
        if pub is None:
            return
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._timer.cancel()
            self._publish(Command())
        pub.wait_for_all_acked(Duration(seconds=1.0))
        self.get_logger().info('zero velocity published on shutdown')

    def destroy_node(self) -> None:
        """Publish the final zero command (if not done yet), sync the latch file, destroy the node."""
        try:
            self.shutdown()
        except Exception as err:  # the context may already be gone; destroying must go on
            self.get_logger().debug(f'no zero command on destroy: {err}')
        syncer = getattr(self, '_syncer', None)
        if syncer is not None and syncer.is_alive():
            self._syncing = False
            self._sync_wanted.set()
            syncer.join(timeout=5.0)
            self.gate.latch.sync()
        super().destroy_node()

    # Diagnostics ------------------------------------------------------------------------------

    def _fill_diagnostics(self) -> tuple[str, str, dict[str, Any]]:
        with self._lock:
            now = _steady()
            gate, latch = self.gate, self.gate.latch
            out = gate.last_output
            values: dict[str, Any] = {
                'e_stop': 'engaged' if latch.engaged else 'released',
                'e_stop_reason': latch.state.reason or 'none',
                'e_stop_source': latch.state.source or 'none',
                'e_stop_since': time.strftime('%Y-%m-%dT%H:%M:%S', time.localtime(latch.state.since))
                if latch.state.since else 'never',
                'e_stop_restored': latch.restored,
                'e_stop_engagements': latch.state.engage_count,
                'e_stop_state_file': str(latch.store.path) if latch.store else 'none',
                'output_reason': out.reason,
                'output_source': out.source or 'none',
                'cmd_linear': out.command.linear,
                'cmd_angular': out.command.angular,
                'outputs': gate.counters.outputs,
                'zero_outputs': gate.counters.zero_outputs,
                'timeouts': gate.counters.timeouts,
                'limited_outputs': gate.counters.limited,
                'rejected_commands': gate.counters.rejected,
            }
            if gate.config.deadman_timeout > 0.0:
                values['heartbeat_age_s'] = 'never' if gate.heartbeat_at is None else now - gate.heartbeat_at
            for state in gate.sources.values():
                prefix = f'source.{state.source.name}'
                values[f'{prefix}.received'] = state.received
                values[f'{prefix}.rejected'] = state.rejected
                values[f'{prefix}.age_s'] = 'never' if state.received_at is None else now - state.received_at
            problem = latch.store_problem
        if problem:
            return 'error', problem, values
        level = 'warn' if out.halted else 'ok'
        return level, (f'holding zero: {out.reason}' if out.halted else f'passing {out.source}'), values


main = node_main(SafetyNode)

if __name__ == '__main__':
    import sys

    sys.exit(main())
