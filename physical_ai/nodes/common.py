"""Helpers every node shares: parameters from specs, diagnostics, a main() that shuts down cleanly."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
import copy
import gc
import signal
import sys
import threading
import time
from typing import Any

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from rcl_interfaces.msg import FloatingPointRange, IntegerRange, ParameterDescriptor, SetParametersResult
import rclpy
from rclpy.callback_groups import CallbackGroup
from rclpy.exceptions import ParameterUninitializedException
from rclpy.executors import Executor, ExternalShutdownException, MultiThreadedExecutor
from rclpy.impl.implementation_singleton import rclpy_implementation as _rclpy
from rclpy.node import Node
from rclpy.parameter import Parameter
from rclpy.qos import QoSProfile, qos_profile_sensor_data
from rclpy.signals import SignalHandlerOptions

from physical_ai.core.errors import ConfigError, PhysicalAIError
from physical_ai.params import ParamSpec

DIAGNOSTIC_LEVELS = {
    'ok': DiagnosticStatus.OK,
    'warn': DiagnosticStatus.WARN,
    'error': DiagnosticStatus.ERROR,
    'stale': DiagnosticStatus.STALE,
}


_PARAM_TYPES = {
    'bool': Parameter.Type.BOOL, 'integer': Parameter.Type.INTEGER,
    'double': Parameter.Type.DOUBLE, 'string': Parameter.Type.STRING,
    'bool[]': Parameter.Type.BOOL_ARRAY, 'integer[]': Parameter.Type.INTEGER_ARRAY,
    'double[]': Parameter.Type.DOUBLE_ARRAY, 'string[]': Parameter.Type.STRING_ARRAY,
}


def descriptor_for(spec: ParamSpec) -> ParameterDescriptor:
    """Return the ROS ParameterDescriptor of a spec: description, type, range, read-only."""
    descriptor = ParameterDescriptor(
        name=spec.name, description=spec.description, read_only=spec.read_only,
        type=_PARAM_TYPES[spec.type_name].value, additional_constraints=spec.constraints())
    if spec.min_value is not None or spec.max_value is not None:
        if spec.type_name == 'integer':
            descriptor.integer_range = [IntegerRange(
                from_value=int(spec.min_value if spec.min_value is not None else -2**63),
                to_value=int(spec.max_value if spec.max_value is not None else 2**63 - 1))]
        elif spec.type_name == 'double':
            descriptor.floating_point_range = [FloatingPointRange(
                from_value=float(spec.min_value if spec.min_value is not None else -sys.float_info.max),
                to_value=float(spec.max_value if spec.max_value is not None else sys.float_info.max))]
    return descriptor


def declare_params(node: Node, specs: Iterable[ParamSpec],
                   apply: Callable[[dict[str, Any]], None] | None = None,
                   check_together: Callable[[dict[str, Any]], object] | None = None) -> dict[str, Any]:
    """Declare every spec on `node`, check the start-up values, and guard run-time changes.

    Returns the values (overrides from the command line or a profile applied). A start-up value
    that breaks its spec raises ConfigError naming the parameter and the accepted range. At run
    time the on-set callback only validates (and never rejects parameters it does not own); the
    post-set callback passes the accepted changes to `apply`. `check_together` guards rules across
    parameters: it gets the returned values (which `apply` keeps up to date) with a change merged
    in, and a ConfigError it raises rejects the change.
    """
    table = {spec.name: spec for spec in specs}
    values = {}
    for spec in table.values():
        default = Parameter.Type(_PARAM_TYPES[spec.type_name]) if spec.default in ([], ()) \
            else (list(spec.default) if isinstance(spec.default, tuple) else spec.default)
        try:
            node.declare_parameter(spec.name, default, descriptor_for(spec))
        except (rclpy.exceptions.InvalidParameterValueException,
                rclpy.exceptions.InvalidParameterTypeException) as err:
            # rclpy checks an override against the descriptor before us: give the project's message.
            override = getattr(node, '_parameter_overrides', {}).get(spec.name)
            value = override.value if override is not None else None
            spec.check(value)  # raises ConfigError naming the value and the accepted range
            raise ConfigError(f'parameter {spec.name}: expected {spec.type_name}, got {value!r}'
                              + (' (write 1.0 for a double)' if spec.type_name == 'double' else '')) from err
        try:
            value = node.get_parameter(spec.name).value
        except ParameterUninitializedException:
            value = []  # a list declared empty: rclpy cannot hold a typed empty default
        values[spec.name] = spec.check(list(value) if isinstance(value, tuple | list) else value)

    def validate(params: list[Parameter]) -> SetParametersResult:
        for param in params:
            spec = table.get(param.name)
            if spec is None:
                continue
            try:
                spec.check(param.value)
            except ConfigError as err:
                return SetParametersResult(successful=False, reason=str(err))
        changes = {p.name: p.value for p in params if p.name in table}
        if check_together is not None and changes:
            merged = dict(values)
            merged.update({k: list(v) if isinstance(v, tuple | list) else v for k, v in changes.items()})
            try:
                check_together(merged)
            except ConfigError as err:
                return SetParametersResult(successful=False, reason=str(err))
        return SetParametersResult(successful=True)

    def post_set(params: list[Parameter]) -> None:
        changed = {p.name: table[p.name].check(p.value) for p in params if p.name in table}
        if changed and apply is not None:
            apply(changed)

    node.add_on_set_parameters_callback(validate)
    node.add_post_set_parameters_callback(post_set)
    return values


def sensor_qos() -> QoSProfile:
    """Return a new sensor-data profile with keep last 1 (best effort, volatile): newest image only.

    A new object each time: rclpy applies QoS-override parameters to the profile object it is given,
    in place, so passing the shared `qos_profile_sensor_data` (which also keeps 5, not 1) would
    change it for every later user in the process.
    """
    qos = copy.copy(qos_profile_sensor_data)
    qos.depth = 1
    return qos


class TakenByCaller(CallbackGroup):
    """A callback group the executor never runs: its subscriptions are taken by a thread of their own.

    The thread waits on the subscription in a wait set and takes the samples itself when it is ready
    for one (no executor wake-up, no hand-over between threads); the subscription's callback is
    never called.
    """

    def can_execute(self, entity: Any) -> bool:
        """Return False: the executor never takes from this group."""
        return False

    def beginning_execution(self, entity: Any) -> bool:
        """Return False: nothing of this group ever runs in the executor."""
        return False

    def ending_execution(self, entity: Any) -> None:
        """Do nothing (nothing began)."""


def never_called(data: Any) -> None:
    """Stand in as the callback of a subscription in a TakenByCaller group."""
    raise AssertionError('this subscription is taken by its own thread, never by the executor')


class SetUpNode(Node):
    """A node built by its `_setup()`: when that raises, what it made is destroyed and the error goes on.

    `destroy_node` then runs on a half-built node, so a subclass's must cope with attributes
    `_setup` had not set yet.
    """

    def __init__(self, node_name: str, **kwargs: Any) -> None:
        super().__init__(node_name, **kwargs)
        try:
            self._setup()
        except Exception:
            self.destroy_node()
            raise

    def _setup(self) -> None:
        raise NotImplementedError


class Diagnostics:
    """Publishes one DiagnosticStatus on /diagnostics at a fixed period, filled by a callback.

    The callback returns (level, message, values): level one of 'ok', 'warn', 'error', 'stale'.
    """

    def __init__(self, node: Node, task: str,
                 fill: Callable[[], tuple[str, str, Mapping[str, Any]]],
                 period: float = 1.0, hardware_id: str = '') -> None:
        self._node = node
        self._fill = fill
        self._name = f'{node.get_name()}: {task}'
        self._hardware_id = hardware_id or node.get_fully_qualified_name()
        # Absolute on purpose: aggregators and rqt_robot_monitor listen on /diagnostics.
        self._pub = node.create_publisher(DiagnosticArray, '/diagnostics', 10)
        self._timer = node.create_timer(period, self.publish)

    def publish(self) -> None:
        """Build and publish the status now."""
        level, message, values = self._fill()
        status = DiagnosticStatus(
            level=DIAGNOSTIC_LEVELS[level], name=self._name, message=message,
            hardware_id=self._hardware_id, values=_key_values(values.items()))
        msg = DiagnosticArray(status=[status])
        msg.header.stamp = self._node.get_clock().now().to_msg()
        self._pub.publish(msg)

    def destroy(self) -> None:
        """Stop publishing."""
        self._node.destroy_timer(self._timer)
        self._node.destroy_publisher(self._pub)


def _key_values(items: Iterable[tuple[str, Any]]) -> list[KeyValue]:
    out = []
    for key, value in items:
        if isinstance(value, float):
            value = f'{value:.4g}'
        out.append(KeyValue(key=str(key), value=str(value)))
    return out


def freeze_start_up_objects() -> None:
    """Collect the garbage of start-up once, then leave every object alive so far out of collections.

    A node process holds about 200,000 Python objects once torch, rclpy and a model are loaded; one
    full collection of them took 105-120 ms on a 2-core machine, a stall of that length for whatever
    frame it falls on. `gc.freeze` moves them to a permanent generation, so later collections only
    traverse what was allocated since (docs/performance.md).
    """
    gc.collect()
    gc.freeze()


def spin_nodes(factories: Iterable[Callable[[], Node]], args: list[str] | None = None,
               threads: int | None = None, stop_when: Callable[[], bool] | None = None) -> int:
    """Create nodes, spin them in one executor until SIGINT/SIGTERM, shut down cleanly.

    `threads=1` gives a single-threaded executor (what a node alone in its process gets from
    `node_main`), otherwise a multi-threaded one with `threads` threads (None: rclpy's default).

    rclpy's own signal handling would invalidate the context before nodes can say goodbye, so
    the signals only stop the loop here; then each node's `shutdown()` hook runs (the planner
    publishes its zero command there), nodes are destroyed and rclpy shuts down.
    `stop_when`, checked every 0.1 s, ends the loop too (the runner's supervisor gave up).
    Returns the process exit code: 0 on a clean stop, 1 when a node could not start, 2 when rcl
    refused the command line (a malformed `--ros-args`).
    """
    stop = threading.Event()
    try:
        rclpy.init(args=args, signal_handler_options=SignalHandlerOptions.NO)
    except _rclpy.RCLError as err:
        # rcl's text ends with its source location ('..., at .../arguments.c:356'): not for users.
        reason = str(err).removeprefix('failed to initialize rcl: ').rsplit(', at ', 1)[0]
        rclpy.logging.get_logger('physical_ai').fatal(
            f'invalid ROS arguments: {reason}; expected e.g. --ros-args -p name:=value -r from:=to')
        return 2
    previous = {sig: signal.signal(sig, lambda *_: stop.set())
                for sig in (signal.SIGINT, signal.SIGTERM)}
    nodes: list[Node] = []
    code = 0
    # threads=1: a single-threaded executor, which sleeps in rcl_wait (GIL released) when idle. Measured:
    # rclpy's MultiThreadedExecutor re-dispatches queued callbacks in a hot Python loop once ~1 MB images
    # arrive at 45+ Hz, starving a node's own worker thread (inference 99 -> 3 fps at 145 Hz).
    executor = rclpy.executors.SingleThreadedExecutor() if threads == 1 \
        else MultiThreadedExecutor(num_threads=threads)
    try:
        for factory in factories:
            node = factory()
            nodes.append(node)
            executor.add_node(node)
        freeze_start_up_objects()  # the nodes are set up (an autostarted model is loaded)
        while not stop.is_set() and rclpy.ok() and not (stop_when and stop_when()):
            executor.spin_once(timeout_sec=0.1)
            if any(getattr(n, 'failed', False) for n in nodes):
                code = 1
                break
    except PhysicalAIError as err:
        # A start-up error already says what to fix; a traceback would bury it.
        rclpy.logging.get_logger('physical_ai').fatal(str(err))
        code = 1
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        # Stop dispatching first; hooks only publish, which needs the context, not the executor.
        for node in nodes:
            executor.remove_node(node)
        _finish_running_callbacks(executor, timeout=1.0)
        executor.shutdown(timeout_sec=1.0)
        for node in reversed(nodes):
            hook = getattr(node, 'shutdown', None)
            if callable(hook):
                try:
                    hook()
                except Exception as err:  # one node's hook must not stop the others
                    node.get_logger().error(f'shutdown hook failed: {err}')
        for node in nodes:
            node.destroy_node()
        if rclpy.ok():
            rclpy.shutdown()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return code


def _finish_running_callbacks(executor: Executor, timeout: float) -> None:
    """Wait for callbacks the multi-threaded executor is still running.

    rclpy 9's shutdown() destroys its wake-up guard condition without waiting for them, so a
    callback finishing later fails on it ("exception was never retrieved ... destruction was
    requested" at exit). Its in-flight tasks are only reachable through a private attribute.
    """
    deadline = time.monotonic() + timeout
    for task in list(getattr(executor, '_futures', ())):
        while not task.done() and time.monotonic() < deadline:
            time.sleep(0.005)
        if task.done():
            task.exception()  # retrieved: a failure here is already logged by the node


def node_main(factory: Callable[[], Node]) -> Callable[[list[str] | None], int]:
    """Return a console-script main() that runs one node with `spin_nodes`."""

    def main(args: list[str] | None = None) -> int:
        return spin_nodes([factory], args=sys.argv if args is None else args, threads=1)

    return main
