"""Test harness: real rclpy in an isolated context, real DDS on loopback, real processes.

Used by the project's pytest fixtures (test/conftest.py); nothing here mocks ROS.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
import os
from pathlib import Path
import signal
import subprocess
import sys
import tempfile
import threading
import time
from typing import Any

_STACK_ENV_MARK = 'PHYSICAL_AI_BENCH_ENV'


def reexec_with_stack_environment(script: str) -> None:
    """Run `script` again, once, with the stack's loopback DDS profile and malloc tuning in its environment.

    glibc reads its tunables and Fast DDS its profile when the process starts, so a benchmark started
    without them measures another configuration than the nodes run in. In the process started again
    this returns at once; otherwise it replaces the process.
    """
    if os.environ.get(_STACK_ENV_MARK) == '1':
        return
    from physical_ai.core.environment import ros_environment

    env = ros_environment('loopback', override=True) | {_STACK_ENV_MARK: '1'}
    os.execve(sys.executable, [sys.executable, os.path.abspath(script), *sys.argv[1:]], env)


def isolate_environment() -> int:
    """Confine DDS to loopback, give this run its own ROS_DOMAIN_ID and temporary log and state folders.

    Stale Fast DDS shared-memory files (physical_ai.core.network.shm) are removed first.

    Must run before rclpy creates a participant. The domain is held with a lock file for the life
    of the process, so concurrent test runs on one machine never share a graph. Returns the id.
    """
    from physical_ai.core.environment import claim_domain_id, ros_environment
    from physical_ai.core.network.shm import remove_stale_files

    # Files killed processes left in /dev/shm would hand this run ports made with other settings.
    remove_stale_files()
    os.environ.update(ros_environment('loopback', override=True))
    if not os.environ.get('PHYSICAL_AI_TEST_LOG_DIR'):
        os.environ['PHYSICAL_AI_TEST_LOG_DIR'] = tempfile.mkdtemp(prefix='physical_ai_ros_log_')
    os.environ['ROS_LOG_DIR'] = os.environ['PHYSICAL_AI_TEST_LOG_DIR']
    # State the nodes keep (the safety gate's e-stop latch) stays out of the user's ~/.ros.
    os.environ['ROS_HOME'] = os.path.join(os.environ['PHYSICAL_AI_TEST_LOG_DIR'], 'ros_home')
    os.environ.pop('ROS_LOCALHOST_ONLY', None)
    domain = claim_domain_id()
    os.environ['ROS_DOMAIN_ID'] = str(domain)
    return domain


class RosTest:
    """An rclpy context of its own with a background executor and helpers to wait for topics."""

    def __init__(self) -> None:
        import rclpy
        from rclpy.context import Context
        from rclpy.executors import SingleThreadedExecutor

        self.context = Context()
        rclpy.init(context=self.context)
        # Single-threaded: it sleeps in rcl_wait when idle, while rclpy's multi-threaded executor
        # spins in Python and starves the GIL-bound threads of nodes under test (the simulator).
        self.executor = SingleThreadedExecutor(context=self.context)
        self._nodes: list[Any] = []
        self._helper = self.node('test_helper')
        self._thread = threading.Thread(target=self._spin, daemon=True)
        self._thread.start()

    def _spin(self) -> None:
        from rclpy.executors import ExternalShutdownException
        from rclpy.impl.implementation_singleton import rclpy_implementation as _rclpy

        for _ in range(1000):
            try:
                self.executor.spin()
                return
            except ExternalShutdownException:
                return
            except _rclpy.InvalidHandle:
                # rclpy's executor can race a subscription the test thread destroys (wait_for,
                # Collector.close) and raise from its QoS event handler (ros2/rclpy#1284); the next
                # turn leaves the destroyed entity out. Without this the spin thread died and every
                # later wait in the test timed out.
                continue
            except _rclpy.RCLError:
                # The context shut down (teardown) while the executor built its next wait set.
                if not self.context.ok():
                    return
                raise
        raise RuntimeError('the test executor kept failing on destroyed entities')

    def node(self, name: str, **kwargs: Any) -> Any:
        """Create a plain helper node in this context and spin it."""
        from rclpy.node import Node

        return self.add(Node(name, context=self.context, **kwargs))

    def add(self, node: Any) -> Any:
        """Spin a node created by the test (it must use `context=self.context`)."""
        self._nodes.append(node)
        self.executor.add_node(node)
        return node

    def remove(self, node: Any) -> None:
        """Stop spinning a node and destroy it."""
        self.executor.remove_node(node)
        self._nodes.remove(node)
        node.destroy_node()

    def publisher(self, msg_type: Any, topic: str, qos: Any = 10) -> Any:
        """Create a publisher on the helper node."""
        return self._helper.create_publisher(msg_type, topic, qos)

    def collect(self, msg_type: Any, topic: str, qos: Any = None) -> Collector:
        """Start collecting messages of `topic`; see Collector."""
        from rclpy.qos import qos_profile_sensor_data

        return Collector(self._helper, msg_type, topic,
                         qos_profile_sensor_data if qos is None else qos)

    def wait_for(self, msg_type: Any, topic: str, count: int = 1, timeout: float = 10.0,
                 predicate: Callable[[Any], bool] | None = None, qos: Any = None) -> list[Any]:
        """Return the first `count` messages on `topic` that satisfy `predicate`, or fail."""
        collector = self.collect(msg_type, topic, qos)
        try:
            return collector.wait(count, timeout, predicate)
        finally:
            collector.close()

    def wait_until(self, condition: Callable[[], bool], timeout: float = 10.0,
                   what: str = 'condition') -> None:
        """Poll `condition` until it holds; raise AssertionError naming `what` on timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return
            time.sleep(0.02)
        raise AssertionError(f'timed out after {timeout:.1f} s waiting for {what}')

    def shutdown(self) -> None:
        """Destroy every node and the context."""
        import rclpy

        for node in list(self._nodes):
            self.executor.remove_node(node)
            node.destroy_node()
        self._nodes.clear()
        rclpy.shutdown(context=self.context)
        self.executor.shutdown(timeout_sec=2.0)
        self._thread.join(timeout=5.0)


class Collector:
    """Subscribes to a topic and keeps every message with its arrival time (monotonic).

    `written` holds each message's DDS source timestamp (ns, system clock): when its publisher
    wrote it, whatever this process was doing when it arrived. Two of them, of messages from
    different processes on one machine, time the process between them without this one's stalls.
    """

    def __init__(self, node: Any, msg_type: Any, topic: str, qos: Any) -> None:
        self._node = node
        self._cond = threading.Condition()
        self.messages: list[Any] = []
        self.times: list[float] = []
        self.written: list[int] = []
        self._sub = node.create_subscription(msg_type, topic, self._on_msg, qos)
        self.topic = topic

    def _on_msg(self, msg: Any, info: Any) -> None:
        with self._cond:
            self.messages.append(msg)
            self.times.append(time.monotonic())
            self.written.append(int(info.get('source_timestamp') or 0))
            self._cond.notify_all()

    def wait(self, count: int = 1, timeout: float = 10.0,
             predicate: Callable[[Any], bool] | None = None) -> list[Any]:
        """Block until `count` messages (matching `predicate`) have arrived; return them."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                matching = [m for m in self.messages if predicate is None or predicate(m)]
                if len(matching) >= count:
                    return matching[:count]
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f'timed out after {timeout:.1f} s on {self.topic}: {len(matching)} of '
                        f'{count} matching messages ({len(self.messages)} received)')
                self._cond.wait(left)

    def clear(self) -> None:
        """Forget what was received so far."""
        with self._cond:
            self.messages.clear()
            self.times.clear()
            self.written.clear()

    def close(self) -> None:
        """Stop receiving."""
        self._node.destroy_subscription(self._sub)


class NodeProcess:
    """A real node (or any command) in its own process, with output kept in a file."""

    def __init__(self, args: Sequence[str], log_dir: Path, env: dict[str, str] | None = None,
                 name: str = 'process', log_path: Path | None = None) -> None:
        self.args = list(args)
        self.log_path = Path(log_path or Path(log_dir) / f'{name}-{os.getpid()}-{time.monotonic_ns()}.log')
        self._log = open(self.log_path, 'wb')
        self.proc = subprocess.Popen(
            self.args, stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env=env if env is not None else dict(os.environ), start_new_session=True)

    def output(self) -> str:
        """Return what the process printed so far."""
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(errors='replace')

    def stop(self, sig: int = signal.SIGINT, timeout: float = 10.0) -> int:
        """Send `sig`, wait up to `timeout` s (then kill) and return the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self._log.close()
        return self.proc.returncode

    def wait(self, timeout: float) -> int:
        """Wait for the process to exit by itself; return its exit code."""
        code = self.proc.wait(timeout)
        self._log.close()
        return code


def python_command(*args: str) -> list[str]:
    """Return a command line that runs this interpreter with `args`."""
    return [sys.executable, *args]
