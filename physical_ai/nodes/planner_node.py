"""Planner node: detections in, cmd_vel out at a fixed rate, with watchdog, e-stop latch and limits.

A thin adapter around physical_ai.core.planning.Planner. It is a plain Node, not a lifecycle
node: it holds no heavy resource, and it publishes a zero command from `shutdown()` (called by
spin_nodes on SIGINT/SIGTERM) and again from `destroy_node()` when embedded elsewhere.
"""

from __future__ import annotations

from collections.abc import Callable
import math
import threading
import time
from typing import Any

from geometry_msgs.msg import Point, Twist, TwistStamped
from nav_msgs.msg import Odometry
from rclpy.duration import Duration
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from rclpy.qos_overriding_options import QoSOverridingOptions
from rclpy.serialization import deserialize_message
from sensor_msgs.msg import CameraInfo
from std_msgs.msg import Bool
from vision_msgs.msg import Detection2DArray, Detection3DArray
from visualization_msgs.msg import Marker, MarkerArray

from physical_ai.core.errors import ConfigError
from physical_ai.core.planning import Plan, Planner, PlannerConfig
from physical_ai.core.planning.depth_join import Object3D, join, objects_from_msg
from physical_ai.core.planning.messages import detections_from_msg, intrinsics_from_camera_info, stamp_seconds
from physical_ai.core.planning.stopping import Clearance
from physical_ai.nodes.common import Diagnostics, SetUpNode, declare_params, node_main, sensor_qos
from physical_ai.params.planner import PARAMS

DEFAULT_CAMERA_FRAME = 'camera_optical_frame'
WARN_PERIOD = 2.0  # seconds between repeats of a per-frame warning
# distance_method depth: detections wait this long (steady s) for the 3D of their frame, then go
# on with the monocular estimate; detections_3d silent this long counts as absent.
DEPTH_WAIT = 0.15
DEPTH_STALE = 1.0
DEPTH_FRAMES = 8  # 3D frames kept for joining
STATE_COLOURS = {
    'approaching': (0.1, 0.8, 0.1), 'following': (0.1, 0.8, 0.1), 'searching': (0.9, 0.7, 0.1),
    'stopped': (0.2, 0.4, 1.0), 'e_stopped': (1.0, 0.1, 0.1),
}


class PlannerNode(SetUpNode):
    """Turns detections into velocity commands for a mobile base; see docs/planner.md."""

    def __init__(self, node_name: str = 'planner', **kwargs: Any) -> None:
        super().__init__(node_name, **kwargs)

    def _setup(self) -> None:
        self._lock = threading.RLock()
        self._closed = False
        self._values = declare_params(self, PARAMS, apply=self._apply,
                                      check_together=PlannerConfig.from_params)
        self.planner = Planner(PlannerConfig.from_params(self._values))
        self.malformed = 0
        self.last_problem = ''
        self._odom: tuple[float, float, float] | None = None  # (stamp, linear, angular)
        self._camera_frame = DEFAULT_CAMERA_FRAME
        self._stamped = self._values['stamped']
        self._base_frame = self._values['base_frame']
        self.plan = Plan(0.0, 0.0, 'stopped', 'starting', halted=True)
        self._changed_at = time.monotonic()

        overrides = QoSOverridingOptions.with_default_policies()
        self._cmd_pub = self.create_publisher(
            TwistStamped if self._stamped else Twist, 'cmd_vel', QoSProfile(depth=10),
            qos_overriding_options=overrides)
        self._marker_pub = self.create_publisher(
            MarkerArray, 'planner/target', QoSProfile(depth=1), qos_overriding_options=overrides)
        self.callback_errors = 0
        self.oversized = 0
        self._depth_frames: dict[tuple[int, int], list[Object3D]] = {}
        self._depth_seen: float | None = None  # steady time of the last detections_3d
        self._depth_frame_ok = True
        self._pending: tuple[Detection2DArray, float] | None = None
        self.depth_counts = {'frames_3d': 0, 'joined_objects': 0, 'frames_with_depth': 0,
                             'frames_without_depth': 0, 'frames_3d_other_frame': 0}
        self.depth_problem = ''
        # Newest detections only: an old frame is worth nothing to a moving robot. Taken serialized:
        # rclpy needs seconds to turn a 10k-detection array into Python objects (holding this
        # process), so the size is checked first and only what passes is deserialized.
        self.create_subscription(
            Detection2DArray, 'detections', self._guarded(self._on_serialized_detections),
            QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE), qos_overriding_options=overrides,
            raw=True)
        # 3D positions from a 3D stage (distance_method depth), bounded like the detections.
        self.create_subscription(
            Detection3DArray, 'detections_3d', self._guarded(self._on_serialized_detections_3d),
            QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE), qos_overriding_options=overrides,
            raw=True)
        self.create_subscription(CameraInfo, 'camera/camera_info', self._guarded(self._on_camera_info),
                                 sensor_qos(), qos_overriding_options=overrides)
        self.create_subscription(Odometry, 'odom', self._guarded(self._on_odom), QoSProfile(depth=10),
                                 qos_overriding_options=overrides)
        # Best effort matches every e-stop publisher; the safety gate is the one that must hear them all.
        self.create_subscription(
            Bool, 'e_stop', self._guarded(self._on_e_stop),
            QoSProfile(depth=10, reliability=ReliabilityPolicy.BEST_EFFORT,
                       durability=DurabilityPolicy.VOLATILE),
            qos_overriding_options=overrides)
        self._timer = self.create_timer(1.0 / self._values['rate'], self._guarded(self._tick))
        self._diagnostics = Diagnostics(self, 'planner', self._fill_diagnostics)

    # Parameters -------------------------------------------------------------------------------

    def _apply(self, changed: dict[str, Any]) -> None:
        with self._lock:
            self._values.update(changed)
            try:
                self.planner.config = PlannerConfig.from_params(self._values)
            except ConfigError as err:  # guarded by check_together; kept safe regardless
                self.get_logger().error(f'parameter change not applied: {err}')
                return
        self.get_logger().info('parameters changed: ' + ', '.join(f'{k}={v}' for k, v in changed.items()))

    # Inputs -----------------------------------------------------------------------------------

    def _guarded(self, callback: Callable[..., None]) -> Callable[..., None]:
        """Wrap a callback so that any failure is counted, logged and answered with a zero command.

        A planner that raises would leave the base with its last command (or, in one process,
        take the whole stack down); this one stays up and stops.
        """
        def guarded(*args: Any) -> None:
            try:
                callback(*args)
            except Exception as err:  # the node must outlive any one message
                with self._lock:
                    self.callback_errors += 1
                    self.last_problem = f'{callback.__name__} failed: {type(err).__name__}: {err}'
                    self.plan = Plan(0.0, 0.0, 'stopped', 'internal error (see log)', halted=True)
                    if not self._closed:
                        self.planner.limiter.stop()
                        self._publish(0.0, 0.0)
                self.get_logger().error(f'{self.last_problem}; zero velocity published',
                                        throttle_duration_sec=WARN_PERIOD)
        guarded.__name__ = callback.__name__
        return guarded

    def _now(self) -> float:
        return self.get_clock().now().nanoseconds * 1e-9

    def _on_serialized_detections(self, data: bytes) -> None:
        limit = self._values['max_message_bytes']
        if len(data) > limit:
            with self._lock:
                self.oversized += 1
                self.last_problem = f'detections message of {len(data)} bytes (max_message_bytes {limit})'
            self.get_logger().warning(f'ignoring a {len(data)}-byte detections message ({self.oversized} so '
                                      f'far): larger than max_message_bytes ({limit})',
                                      throttle_duration_sec=WARN_PERIOD)
            return
        self._on_detections(deserialize_message(data, Detection2DArray))

    def _on_serialized_detections_3d(self, data: bytes) -> None:
        limit = self._values['max_message_bytes']
        if len(data) > limit:
            with self._lock:
                self.oversized += 1
                self.last_problem = f'detections_3d message of {len(data)} bytes (max_message_bytes {limit})'
            self.get_logger().warning(f'ignoring a {len(data)}-byte detections_3d message: larger than '
                                      f'max_message_bytes ({limit})', throttle_duration_sec=WARN_PERIOD)
            return
        msg = deserialize_message(data, Detection3DArray)
        if msg.header.frame_id and msg.header.frame_id != self._camera_frame:
            with self._lock:
                self.depth_counts['frames_3d_other_frame'] += 1
                self.depth_problem = (f'detections_3d in {msg.header.frame_id}, not the camera frame '
                                      f'{self._camera_frame}: not used (leave the 3D stage\'s '
                                      'target_frame empty)')
            self.get_logger().warning(self.depth_problem, throttle_duration_sec=WARN_PERIOD)
            return
        key = (msg.header.stamp.sec, msg.header.stamp.nanosec)
        with self._lock:
            self.depth_counts['frames_3d'] += 1
            self._depth_seen = time.monotonic()
            self._depth_frames[key] = objects_from_msg(msg)
            while len(self._depth_frames) > DEPTH_FRAMES:
                del self._depth_frames[min(self._depth_frames)]
            pending = self._pending
            if pending is not None and _stamp_key(pending[0]) == key:
                self._pending = None
            else:
                pending = None
        if pending is not None:
            self._observe(pending[0])

    def _on_detections(self, msg: Detection2DArray) -> None:
        if self._values['distance_method'] != 'depth':
            self._observe(msg)
            return
        now = time.monotonic()
        with self._lock:
            earlier, self._pending = self._pending, None
            alive = self._depth_seen is not None and now - self._depth_seen < DEPTH_STALE
            if _stamp_key(msg) not in self._depth_frames and alive:
                self._pending = (msg, now)  # its 3D comes from the 3D stage shortly after
        if earlier is not None:
            self._observe(earlier)
        if self._pending is None or self._pending[0] is not msg:
            self._observe(msg)

    def _observe(self, msg: Detection2DArray) -> None:
        detections, problems = detections_from_msg(msg)
        with self._lock:
            if self._values['distance_method'] == 'depth':
                detections = self._with_depth(msg, detections)
            before = self.planner.malformed
            self.planner.observe(detections, stamp_seconds(msg.header.stamp))
            off_image = self.planner.malformed - before
            self.malformed += len(problems) + off_image
            if off_image:
                problems.append(self.planner.last_problem)
        if problems:
            self.last_problem = problems[-1]
            self.get_logger().warning(
                f'ignoring {len(problems)} malformed detection(s) ({self.malformed} so far): {problems[0]}',
                throttle_duration_sec=WARN_PERIOD)

    def _with_depth(self, msg: Detection2DArray, detections: list[Any]) -> list[Any]:
        """Return the detections joined to the 3D of their frame (under the lock); count the fallbacks."""
        objects = self._depth_frames.get(_stamp_key(msg))
        if objects is None:
            self.depth_counts['frames_without_depth'] += 1
            if detections:
                self.depth_problem = self._no_depth_reason()
                self.get_logger().warning(f'{self.depth_problem}: monocular distance estimate used',
                                          throttle_duration_sec=WARN_PERIOD)
            return detections
        ids = _ids_by_box(msg)
        pairs = [(ids.get(_box_key(d), ''), d) for d in detections]
        joined, count = join(pairs, objects, self.planner.intrinsics, self.planner.config.camera_pitch)
        self.depth_counts['frames_with_depth'] += 1
        self.depth_counts['joined_objects'] += count
        return joined

    def _no_depth_reason(self) -> str:
        if self._depth_seen is None:
            return 'no detections_3d received (is the 3D stage running, on the same detections?)'
        age = time.monotonic() - self._depth_seen
        if age >= DEPTH_STALE:
            return f'no detections_3d for {age:.1f} s'
        return f'no detections_3d with this frame\'s stamp within {DEPTH_WAIT:g} s'

    def _on_camera_info(self, msg: CameraInfo) -> None:
        with self._lock:
            problem = self.planner.set_intrinsics(intrinsics_from_camera_info(msg))
        if problem:
            self.get_logger().warning(f'camera_info not usable, ignored: {problem}',
                                   throttle_duration_sec=WARN_PERIOD)
        else:
            self._camera_frame = msg.header.frame_id or DEFAULT_CAMERA_FRAME

    def _on_odom(self, msg: Odometry) -> None:
        linear, angular = msg.twist.twist.linear.x, msg.twist.twist.angular.z
        if not (math.isfinite(linear) and math.isfinite(angular)):
            self.get_logger().warning('odom with NaN/Inf velocity ignored', throttle_duration_sec=WARN_PERIOD)
            return
        self._odom = (stamp_seconds(msg.header.stamp), linear, angular)

    def _on_e_stop(self, msg: Bool) -> None:
        with self._lock:
            changed = self.planner.set_e_stop(msg.data)
        if changed:
            if msg.data:
                self.get_logger().warning('e_stop engaged: holding zero velocity until e_stop false')
                self._tick()  # stop now, not at the next period
            else:
                self.get_logger().info('e_stop released')

    # Output -----------------------------------------------------------------------------------

    def _measured(self, now: float) -> tuple[float, float] | None:
        if self._values['feedback'] != 'closed_loop' or self._odom is None:
            return None
        stamp, linear, angular = self._odom
        return (linear, angular) if abs(now - stamp) <= self._values['odom_timeout'] else None

    def _tick(self) -> None:
        with self._lock:
            pending = self._pending
            if pending is not None and time.monotonic() - pending[1] > DEPTH_WAIT:
                self._pending = None
            else:
                pending = None
        if pending is not None:
            self._observe(pending[0])  # its 3D did not come: the monocular estimate it is
        with self._lock:
            if self._closed:
                return
            now = self._now()
            previous = self.plan
            plan = self.planner.command(now, self._measured(now))
            self.plan = plan
            self._publish(plan.linear, plan.angular)
        if (plan.state, plan.reason) != (previous.state, previous.reason):
            self._changed_at = time.monotonic()
            # rclpy ties severity and throttling to the call site: one site per kind of line.
            if plan.halted:
                self.get_logger().warning(f'{plan.state}: {plan.reason}')
            elif plan.state == 'stopped':
                self.get_logger().info(f'stopped: {plan.reason}')
            else:
                self.get_logger().info(plan.state)
        elif plan.halted and plan.state == 'stopped' and time.monotonic() - self._changed_at > WARN_PERIOD:
            self.get_logger().warning(f'holding zero velocity: {plan.reason}',
                                      throttle_duration_sec=WARN_PERIOD)
        if self._marker_pub.get_subscription_count() > 0:
            self._marker_pub.publish(self._markers(plan, now))

    def _publish(self, linear: float, angular: float) -> None:
        twist = Twist()
        twist.linear.x = float(linear)
        twist.angular.z = float(angular)
        if self._stamped:
            msg = TwistStamped(twist=twist)
            msg.header.stamp = self.get_clock().now().to_msg()
            msg.header.frame_id = self._base_frame
            self._cmd_pub.publish(msg)
        else:
            self._cmd_pub.publish(twist)

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
            self.planner.limiter.stop()
            self._publish(0.0, 0.0)
        pub.wait_for_all_acked(Duration(seconds=1.0))
        self.get_logger().info('zero velocity published on shutdown')

    def destroy_node(self) -> None:
        """Publish the final zero command (if not done yet), then destroy the node."""
        try:
            self.shutdown()
        except Exception as err:  # the context may already be gone; destroying must go on
            self.get_logger().debug(f'no zero command on destroy: {err}')
        super().destroy_node()

    # Visualisation and diagnostics -----------------------------------------------------------

    def _markers(self, plan: Plan, now: float) -> MarkerArray:
        """Return the target (in the image's frame) and the planned motion (in the base frame).

        Both frames are in the robot's TF tree (camera_optical_frame below base_link, base_link
        below odom), so rviz shows them in odom as the robot moves.
        """
        stamp = self.get_clock().now().to_msg()
        colour = STATE_COLOURS.get(plan.state, (1.0, 1.0, 1.0))

        def marker(mid: int, kind: int, ns: str, frame_id: str) -> Marker:
            m = Marker(id=mid, type=kind, ns=ns, action=Marker.ADD)
            m.header.frame_id = frame_id
            m.header.stamp = stamp
            m.pose.orientation.w = 1.0
            m.color.r, m.color.g, m.color.b, m.color.a = (*colour, 0.9)
            m.lifetime = Duration(seconds=1.0).to_msg()
            return m

        markers = [Marker(action=Marker.DELETEALL)]
        cfg = self.planner.config
        target = plan.target
        if target is not None:
            x, y, z = target.position  # optical frame of the detections' image
            size = max(0.1, min(cfg.class_heights.get(target.class_name, 0.3), 2.0))
            body = marker(0, Marker.SPHERE, 'target', self._camera_frame)
            body.pose.position = Point(x=x, y=y, z=z)
            body.scale.x = body.scale.y = body.scale.z = size
            label = marker(1, Marker.TEXT_VIEW_FACING, 'target', self._camera_frame)
            label.pose.position = Point(x=x, y=y - size / 2.0 - 0.15, z=z)
            label.scale.z = 0.15
            label.text = f'{target.class_name} {target.distance:.2f} m'
            markers += [body, label]
        # Planned motion: where 1 s of the command leads, in the base frame (x forward, y left).
        v, w = plan.linear, plan.angular
        fwd, left = (v, 0.0) if abs(w) < 1e-6 else (v / w * math.sin(w), v / w * (1.0 - math.cos(w)))
        if math.hypot(fwd, left) < 0.05:
            left = 0.5 * w  # turning in place: point to the side of the turn
        arrow = marker(2, Marker.ARROW, 'motion', self._base_frame)
        arrow.points = [Point(z=0.05), Point(x=fwd, y=left, z=0.05)]
        arrow.scale.x, arrow.scale.y, arrow.scale.z = 0.04, 0.08, 0.1
        state = marker(3, Marker.TEXT_VIEW_FACING, 'motion', self._base_frame)
        state.pose.position = Point(x=0.0, y=0.0, z=0.8)
        state.scale.z = 0.12
        state.text = plan.state if plan.state not in ('stopped', 'e_stopped') \
            else f'{plan.state}: {plan.reason}'
        markers += [arrow, state]
        return MarkerArray(markers=markers)

    def _fill_diagnostics(self) -> tuple[str, str, dict[str, Any]]:
        with self._lock:
            plan, planner = self.plan, self.planner
            now = self._now()
            target = plan.target
            values: dict[str, Any] = {
                'state': plan.state,
                'last_stop_reason': plan.reason,
                'behavior': planner.config.behavior,
                'target_class': planner.config.target_class,
                'target_distance_m': target.distance if target else 'none',
                'target_bearing_rad': target.bearing if target else 'none',
                'target_track_id': planner.locked_id or 'none',
                'stop_object': f'{plan.stop_object[0]} at {plan.stop_object[1]:.2f} m'
                if plan.stop_object else 'none',
                'stop_clearance': _clearance_text(plan.clearance),
                'stop_margin_m': plan.clearance.margin if plan.clearance else 'none',
                'stop_speed_limit': plan.clearance.speed_limit if plan.clearance else 'none',
                'watchdog': planner.watchdog.status(now),
                'e_stop': 'engaged' if planner.e_stop.engaged else 'released',
                'e_stop_engagements': planner.e_stop.engage_count,
                'camera_info': 'ok' if planner.intrinsics else 'missing',
                'malformed_detections': self.malformed,
                'oversized_messages': self.oversized,
                'callback_errors': self.callback_errors,
                'last_malformed': self.last_problem or 'none',
                'detections_dropped': planner.dropped,
                'distance_method': planner.config.distance_method,
                **({f'depth_{k}': v for k, v in self.depth_counts.items()}
                   if planner.config.distance_method == 'depth' else {}),
                'cmd_linear': plan.linear,
                'cmd_angular': plan.angular,
            }
            if self._odom is not None:
                values['odom_linear'], values['odom_angular'] = self._odom[1], self._odom[2]
        message = plan.state if plan.state not in ('stopped', 'e_stopped') else f'{plan.state}: {plan.reason}'
        level = 'warn' if plan.halted else 'ok'
        if values['distance_method'] == 'depth':
            fresh = self._depth_seen is not None and time.monotonic() - self._depth_seen < DEPTH_STALE
            values['depth_source'] = 'detections_3d' if fresh else 'monocular fallback'
            values['depth_problem'] = self.depth_problem or 'none'
            if not fresh:
                level = 'warn'
                message += (f'; distance_method depth without 3D: {self._no_depth_reason()}, '
                            'monocular fallback')
        return level, message, values


def _stamp_key(msg: Any) -> tuple[int, int]:
    return (msg.header.stamp.sec, msg.header.stamp.nanosec)


def _box_key(det: Any) -> tuple[str, float, float, float, float]:
    return (det.class_name, det.cx, det.cy, det.width, det.height)


def _ids_by_box(msg: Detection2DArray) -> dict[tuple[str, float, float, float, float], str]:
    """Return {(class, box): Detection2D.id} of a message, to find the ids of the parsed detections."""
    ids = {}
    for det in msg.detections:
        if det.id and det.results:
            best = max(det.results, key=lambda r: r.hypothesis.score
                       if math.isfinite(r.hypothesis.score) else -math.inf)
            box = det.bbox
            ids[(best.hypothesis.class_id, float(box.center.position.x), float(box.center.position.y),
                 float(box.size_x), float(box.size_y))] = det.id
    return ids


def _clearance_text(clearance: Clearance | None) -> str:
    if clearance is None:
        return 'none'
    return (f'{clearance.class_name}: estimated {clearance.estimate:.2f} m ({clearance.source}), '
            f'{clearance.distance:.2f} m on the safe side {clearance.age:.3f} s after the frame, '
            f'rest at {clearance.rest:.2f} m if stopped now')


main = node_main(PlannerNode)

if __name__ == '__main__':
    import sys

    sys.exit(main())
