"""Operator station: follows every robot's images, detections and diagnostics; engages e-stops.

Each robot lives under its own namespace; the station subscribes to `<ns>/camera/image_raw`
(sensor QoS), `<ns>/detections` and `/diagnostics`, and publishes `<ns>/e_stop` (std_msgs/Bool,
reliable, transient local: a robot that joins or comes back later still receives the latest
command). `engage('all')` also stops robots found afterwards. The figures are in `fleet`
(physical_ai.core.network.fleet); `physical-ai operator` prints them and reads commands.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from diagnostic_msgs.msg import DiagnosticArray
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import Image
from std_msgs.msg import Bool
from vision_msgs.msg import Detection2DArray

from physical_ai.core.errors import ImageError
from physical_ai.core.network.fleet import Fleet, RobotStatus
from physical_ai.core.wire_image import parse_image
from physical_ai.nodes.common import declare_params, sensor_qos
from physical_ai.params.operator import PARAMS

LEVELS = {0: 'ok', 1: 'warn', 2: 'error', 3: 'stale'}


def e_stop_qos() -> QoSProfile:
    """Return the e-stop publisher QoS: reliable, transient local, keep last 1 (latched)."""
    return QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE,
                      durability=DurabilityPolicy.TRANSIENT_LOCAL)


class OperatorNode(Node):
    """Follows a fleet and commands its e-stops."""

    def __init__(self, node_name: str = 'operator', **kwargs: Any) -> None:
        super().__init__(node_name, **kwargs)
        self._values = declare_params(self, PARAMS)
        self._lock = threading.Lock()
        self.fleet = Fleet(self._values['rate_window'])
        self._e_stop_pubs: dict[str, Any] = {}
        self._subs: dict[str, list[Any]] = {}
        self._diag_publishers: dict[bytes, str] = {}  # endpoint gid -> node namespace
        self.events: list[dict[str, Any]] = []  # e-stop commands as sent, for the console to print
        self.create_subscription(DiagnosticArray, '/diagnostics', self._on_diagnostics, QoSProfile(depth=100))
        for name in self._values['robots']:
            if name:
                self.follow(name)
        if self._values['discover']:
            self.create_timer(self._values['discover_period'], self._discover)

    def follow(self, name: str) -> RobotStatus:
        """Start following the robot in namespace `name`; return its status."""
        with self._lock:
            robot = self.fleet.add(name)
            ns = robot.namespace
            if ns in self._subs:
                return robot
            v = self._values
            self._subs[ns] = [
                # raw: only the size and encoding are read, from the serialized bytes (no pixel copy).
                self.create_subscription(Image, f'{ns}/{v["image_topic"]}',
                                         lambda data, r=robot: self._on_image(r, data), sensor_qos(),
                                         raw=True),
                self.create_subscription(Detection2DArray, f'{ns}/{v["detections_topic"]}',
                                         lambda msg, r=robot: r.detections.add(time.monotonic()),
                                         QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE)),
            ]
            self._e_stop_pubs[ns] = self.create_publisher(Bool, f'{ns}/{v["e_stop_topic"]}', e_stop_qos())
            stop_now = self.fleet.all_stopped
        self.get_logger().info(f'following {ns}')
        if stop_now:
            self._send(robot, True)
        return robot

    def engage(self, target: str) -> list[str]:
        """Engage the e-stop of one robot (its namespace) or 'all'; return the namespaces commanded."""
        with self._lock:
            robots = self.fleet.targets(target)
            if target == 'all':
                self.fleet.all_stopped = True
        for robot in robots:
            self._send(robot, True)
        return [r.namespace for r in robots]

    def release(self, target: str) -> list[str]:
        """Release the e-stop of one robot or 'all'; return the namespaces commanded."""
        with self._lock:
            robots = self.fleet.targets(target)
            if target == 'all':
                self.fleet.all_stopped = False
        for robot in robots:
            self._send(robot, False)
        return [r.namespace for r in robots]

    def report(self) -> dict[str, Any]:
        """Return the fleet's figures now, per robot namespace."""
        with self._lock:
            report = self.fleet.report(time.monotonic())
            pubs = dict(self._e_stop_pubs)
        for ns, pub in pubs.items():  # who would receive an e-stop now (0: the robot is not reachable)
            report[ns]['e_stop_listeners'] = pub.get_subscription_count()
        return report

    def graph(self) -> dict[str, list[str]]:
        """Return the nodes and topics this station discovers (all hosts it can reach)."""
        nodes = sorted(f'{ns.rstrip("/")}/{name}' for name, ns in self.get_node_names_and_namespaces())
        return {'nodes': nodes, 'topics': sorted(name for name, _ in self.get_topic_names_and_types())}

    def _send(self, robot: RobotStatus, engaged: bool) -> None:
        self._e_stop_pubs[robot.namespace].publish(Bool(data=engaged))
        with self._lock:
            robot.e_stop = engaged
            self.events.append({'event': 'e_stop', 'robot': robot.namespace, 'engaged': engaged,
                                't': time.monotonic()})
        how = 'ENGAGED' if engaged else 'released'
        self.get_logger().warning(f'e_stop {how} for {robot.namespace}')

    def _on_image(self, robot: RobotStatus, data: bytes) -> None:
        now = time.monotonic()
        try:
            msg = parse_image(data)
            size = f'{msg.width}x{msg.height} {msg.encoding}'
        except ImageError as err:
            size = f'malformed ({err})'
        with self._lock:
            robot.images.add(now)
            robot.image_size = size
            robot.last_seen = now

    def _publisher_namespace(self, info: Any) -> str:
        # /diagnostics is one topic for the whole fleet, and a status's hardware_id need not name the
        # node (the camera's is its device): the publishing endpoint's namespace says whose it is.
        gid = (info or {}).get('publisher_gid') or {}
        key = bytes(gid.get('data', b''))[:16]
        if key and key not in self._diag_publishers:
            self._diag_publishers = {bytes(e.endpoint_gid)[:16]: e.node_namespace.rstrip('/')
                                     for e in self.get_publishers_info_by_topic('/diagnostics')}
        return self._diag_publishers.get(key, '')

    def _on_diagnostics(self, msg: DiagnosticArray, info: Any) -> None:
        now = time.monotonic()
        ns = self._publisher_namespace(info)
        with self._lock:
            for status in msg.status:
                robot = self.fleet.robots.get(ns) if ns else None
                robot = robot or self.fleet.owner(status.hardware_id)
                if robot is None:
                    continue
                robot.last_seen = now
                level = status.level[0] if isinstance(status.level, bytes) else status.level
                robot.diagnostics[status.name] = (LEVELS.get(level, str(level)), status.message)
                values = {kv.key: kv.value for kv in status.values}
                published = values.get('frames_published', '')
                if published.isdigit():  # the camera node's status
                    robot.camera_samples.append((int(published), robot.images.count))

    def _discover(self) -> None:
        suffix = '/' + self._values['image_topic'].strip('/')
        for topic, _types in self.get_topic_names_and_types():
            if topic.endswith(suffix) and len(topic) > len(suffix):
                ns = topic[:-len(suffix)]
                if ns not in self._subs:
                    self.follow(ns)
