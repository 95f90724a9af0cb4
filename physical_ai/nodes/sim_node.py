"""Simulator node: the embedded MuJoCo world on the topics a Gazebo robot bridged by ros_gz offers.

Publishes camera/image_raw (rgb8) and camera/camera_info at camera_rate, with the aligned depth
camera/depth/image_raw (32FC1 m or 16UC1 mm, the colour image's size, stamp and frame) and
camera/depth/camera_info while someone subscribes; odom (odom -> base_link), the same transform on
/tf and sim/pose (true pose, world frame) at odom_rate, /clock at clock_rate (all in sim time), and
sim/ground_truth (vision_msgs/Detection2DArray) and sim/ground_truth_3d (Detection3DArray, optical
frame, same ids and stamp), for evaluation only. Once,
transient local: the camera mount base_link -> camera_link -> camera_optical_frame on /tf_static
and the robot's URDF on robot_description (REP 105 frames, see docs/sim.md). Subscribes cmd_vel (Twist,
or TwistStamped with cmd_vel_stamped) and drives the base within its limits; a command older than
cmd_timeout (sim time) stops the base.

One dedicated thread runs the whole loop (physics, rendering, publishing): the EGL context lives
on the thread that created it, and a single loop makes the simulation itself deterministic.
Stamps come from the simulator's own time, never from the node clock, so the node must not be
driven by the /clock it publishes (use_sim_time is harmless but not needed here).
"""

from __future__ import annotations

import math
import threading
import time
from typing import Any

from geometry_msgs.msg import PoseStamped, Twist, TwistStamped
from nav_msgs.msg import Odometry
import numpy as np
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from rclpy.qos_overriding_options import QoSOverridingOptions
from rosgraph_msgs.msg import Clock
from sensor_msgs.msg import CameraInfo, Image
from std_msgs.msg import String
from tf2_msgs.msg import TFMessage
from vision_msgs.msg import Detection2DArray, Detection3DArray

from physical_ai.core.errors import ConfigError
from physical_ai.core.frames import Frames, static_tf_msg
from physical_ai.core.image import array_to_image
from physical_ai.core.sim import gl
from physical_ai.core.sim.camera import CameraSpec, camera_info_msg
from physical_ai.core.sim.frames import camera_mount
from physical_ai.core.sim.messages import (
    clock_msg,
    ground_truth_3d_msg,
    ground_truth_msg,
    odom_tf_msg,
    odometry_msg,
    pose_msg,
    stamp,
)
from physical_ai.core.sim.robot import BaseLimits
from physical_ai.core.sim.scenario import load_scenario
from physical_ai.nodes.common import Diagnostics, SetUpNode, declare_params, node_main, sensor_qos
from physical_ai.params.sim import PARAMS

WARN_PERIOD = 2.0  # seconds between repeats of a per-message warning
START_TIMEOUT = 60.0  # seconds to wait for the renderer to come up
START_WAIT = 5.0  # wall seconds a start waits at most for start_subscribers
LAG_RESYNC = 0.25  # wall seconds behind schedule after which pacing restarts instead of catching up
LIMIT_KEYS = ('max_linear_speed', 'max_angular_speed', 'max_linear_accel', 'max_angular_accel', 'cmd_timeout')


def limits_from(values: dict[str, Any]) -> BaseLimits:
    """Return the base limits of the node's parameters."""
    return BaseLimits(*(float(values[k]) for k in LIMIT_KEYS))


class SimNode(SetUpNode):
    """Runs the embedded simulator and speaks Gazebo's topics; see docs/sim.md."""

    def __init__(self, node_name: str = 'sim', **kwargs: Any) -> None:
        # What destroy_node touches exists before _setup can raise.
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        super().__init__(node_name, **kwargs)

    def _setup(self) -> None:
        self._lock = threading.Lock()
        self._values = values = declare_params(self, PARAMS, apply=self._apply)
        gl.load_mujoco(values['gl_backend'], values['render_threads'])
        # Imported only now: loading them imports mujoco, whose GL backend is chosen just above.
        from physical_ai.core.sim.description import robot_urdf
        from physical_ai.core.sim.simulator import Simulator

        scenario = load_scenario(values['scenario']).with_overrides(
            values['target_class'], values['person_xy'], values['start_pose'])
        self.sim = Simulator(scenario, values['seed'], CameraSpec.from_params(values), values['timestep'],
                             limits_from(values), values['min_visible_pixels'])
        self._pending: tuple[float, float] | None = None
        self._rebase = False
        self.commands = 0
        self.malformed = 0
        self.frames = 0
        self.truth_frames = 0
        self.achieved_rtf = 0.0
        self.render_ms = 0.0
        self.failed = False
        self._frame_id = values['camera_frame']

        overrides = QoSOverridingOptions.with_default_policies()
        reliable = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)
        self._image_pub = self.create_publisher(Image, 'camera/image_raw', sensor_qos(),
                                                qos_overriding_options=overrides)
        self._info_pub = self.create_publisher(CameraInfo, 'camera/camera_info', sensor_qos(),
                                               qos_overriding_options=overrides)
        self._truth_pub = self.create_publisher(Detection2DArray, 'sim/ground_truth', reliable,
                                                qos_overriding_options=overrides)
        self._truth_3d_pub = self.create_publisher(Detection3DArray, 'sim/ground_truth_3d', reliable,
                                                   qos_overriding_options=overrides)
        self._depth_pub = self.create_publisher(Image, 'camera/depth/image_raw', sensor_qos(),
                                                qos_overriding_options=overrides)
        self._depth_info_pub = self.create_publisher(CameraInfo, 'camera/depth/camera_info', sensor_qos(),
                                                     qos_overriding_options=overrides)
        self.depth_frames = 0
        self._odom_pub = self.create_publisher(Odometry, 'odom', reliable, qos_overriding_options=overrides)
        self._pose_pub = self.create_publisher(PoseStamped, 'sim/pose', reliable,
                                               qos_overriding_options=overrides)
        # Absolute: every node's time source listens on /clock. Reliable matches both the best-effort
        # subscription of rclpy/rclcpp time sources and reliable recorders.
        self._clock_pub = self.create_publisher(Clock, '/clock', QoSProfile(depth=10),
                                                qos_overriding_options=overrides)
        self._stamped = values['cmd_vel_stamped']
        self.create_subscription(TwistStamped if self._stamped else Twist, 'cmd_vel', self._on_cmd_vel,
                                 QoSProfile(depth=10), qos_overriding_options=overrides)
        # TF (REP 105): /tf and /tf_static are absolute by convention, like /clock; a namespaced
        # robot remaps them to tf and tf_static (config/robots/sim.yaml does, as Nav2 does).
        self._frames = Frames(values['odom_frame'], values['base_frame'], values['camera_link_frame'],
                              self._frame_id)
        latched = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE,
                             durability=DurabilityPolicy.TRANSIENT_LOCAL)
        self._tf_pub = None
        if values['publish_tf']:
            self._tf_pub = self.create_publisher(TFMessage, '/tf', QoSProfile(depth=100))
            self._tf_static_pub = self.create_publisher(TFMessage, '/tf_static', latched)
            self._tf_static_pub.publish(static_tf_msg(camera_mount(self.sim.spec.camera, self._frames),
                                                      self.sim.time_ns))
        self.robot_description = robot_urdf(self.sim.spec.camera, self._frames)
        self._description_pub = self.create_publisher(String, 'robot_description', latched)
        self._description_pub.publish(String(data=self.robot_description))
        self._info = camera_info_msg(self.sim.intrinsics, self._frame_id)
        self._depth_info = camera_info_msg(self.sim.intrinsics, self._frame_id)
        self._image = Image()
        self._depth_image = Image()

        ready = threading.Event()
        self._start_error: BaseException | None = None
        self._thread = threading.Thread(target=self._loop, args=(ready,), name='sim_loop', daemon=True)
        self._thread.start()
        if not ready.wait(START_TIMEOUT):
            raise ConfigError(f'the renderer did not start within {START_TIMEOUT:.0f} s')
        if self._start_error is not None:
            raise self._start_error
        self._diagnostics = Diagnostics(self, 'simulator', self._fill_diagnostics)
        spec = self.sim.spec
        self.get_logger().info(
            f'scenario {scenario.name} seed {values["seed"]}: '
            + ', '.join(f'{o.name} ({o.x:.2f}, {o.y:.2f})' for o in spec.objects)
            + f'; target {spec.target or "none"}; camera {spec.camera.width}x{spec.camera.height} '
            f'at {values["camera_rate"]:g} Hz, GL {gl.backend()}, '
            f'real_time_factor {values["real_time_factor"]:g}')

    # Parameters and inputs ---------------------------------------------------------------------

    def _apply(self, changed: dict[str, Any]) -> None:
        with self._lock:
            self._values.update(changed)
            if any(k in changed for k in LIMIT_KEYS):
                self.sim.base.limits = limits_from(self._values)
            if 'real_time_factor' in changed:
                self._rebase = True
        self.get_logger().info('parameters changed: ' + ', '.join(f'{k}={v}' for k, v in changed.items()))

    def _on_cmd_vel(self, msg: Twist | TwistStamped) -> None:
        twist = msg.twist if self._stamped else msg
        linear, angular = twist.linear.x, twist.angular.z
        if not (math.isfinite(linear) and math.isfinite(angular)):
            with self._lock:
                self.malformed += 1
            self.get_logger().warning(f'cmd_vel with NaN/Inf ignored ({self.malformed} so far)',
                                      throttle_duration_sec=WARN_PERIOD)
            return
        with self._lock:
            self._pending = (linear, angular)
            self.commands += 1

    # The loop (its own thread) -----------------------------------------------------------------

    def _loop(self, ready: threading.Event) -> None:
        try:
            self.sim.prepare_renderer()
        except BaseException as err:  # reported by the constructor, on the caller's thread
            self._start_error = err
            ready.set()
            return
        ready.set()
        try:
            self._run()
        except Exception as err:
            if not self._stop.is_set():  # publishing fails once the context shuts down: not a fault
                self.get_logger().fatal(f'simulation loop stopped: {type(err).__name__}: {err}')
                self.failed = True
        finally:
            self.sim.close()

    def _run(self) -> None:
        sim = self.sim
        values = self._values
        clock_period, odom_period = 1.0 / values['clock_rate'], 1.0 / values['odom_rate']
        next_clock = next_odom = next_frame = next_truth = 0.0
        wall0, sim0 = time.monotonic(), sim.time
        window_wall, window_sim = wall0, sim0
        starting = True  # before the first step, and again after every pause
        hold_until = 0.0  # wall time until which a start waits for start_subscribers
        while not self._stop.is_set():
            with self._lock:
                paused = values['paused']
                cmd, self._pending = self._pending, None  # while paused: dropped, never applied on resume
                rtf, rate, truth = values['real_time_factor'], values['camera_rate'], values['ground_truth']
                truth_rate, wanted = values['ground_truth_rate'], values['start_subscribers']
                if self._rebase:
                    wall0, sim0, self._rebase = time.monotonic(), sim.time, False
            if paused:
                starting = True
            elif starting:  # camera frames only once the expected subscribers can hear them
                starting, hold_until = False, time.monotonic() + START_WAIT if wanted else 0.0
            if hold_until:
                matched = self._image_pub.get_subscription_count()
                if matched >= wanted or time.monotonic() >= hold_until:
                    if matched < wanted:
                        self.get_logger().warning(
                            f'camera/image_raw has {matched} matched subscriptions of start_subscribers '
                            f'{wanted} after {START_WAIT:.0f} s: running anyway')
                    hold_until = 0.0
            if paused or hold_until:  # time stands still (/clock says so); it resumes from here, no burst
                self._clock_pub.publish(clock_msg(sim.time_ns))
                self._stop.wait(clock_period)
                wall0, sim0 = window_wall, window_sim = time.monotonic(), sim.time
                continue
            state = sim.step(cmd)
            now, now_ns = state.time, sim.time_ns
            if now >= next_clock:
                self._clock_pub.publish(clock_msg(now_ns))
                next_clock = _next(next_clock, clock_period, now)
            if now >= next_odom:
                self._odom_pub.publish(
                    odometry_msg(state, now_ns, values['odom_frame'], values['base_frame']))
                if self._tf_pub is not None:
                    self._tf_pub.publish(odom_tf_msg(state, now_ns, self._frames.odom, self._frames.base))
                self._pose_pub.publish(pose_msg(state, now_ns, values['world_frame']))
                next_odom = _next(next_odom, odom_period, now)
            if now >= next_frame:
                with_truth = truth and now >= next_truth
                self._publish_frame(with_truth)
                next_frame = _next(next_frame, 1.0 / rate, now)
                if with_truth and truth_rate > 0.0:
                    next_truth = _next(next_truth, 1.0 / truth_rate, now)
            wall = time.monotonic()
            if wall - window_wall >= 1.0:
                self.achieved_rtf = (now - window_sim) / (wall - window_wall)
                window_wall, window_sim = wall, now
            if rtf > 0.0:
                ahead = (now - sim0) / rtf - (wall - wall0)
                if ahead > 0.002:
                    self._stop.wait(ahead)
                elif ahead < -LAG_RESYNC:  # cannot keep up: run on from here rather than burst to catch up
                    wall0, sim0 = wall, now

    def _depth_wanted(self) -> bool:
        mode = self._values['depth']
        if mode == 'on_demand':  # reading back and publishing depth costs CPU: only for a listener
            return self._depth_pub.get_subscription_count() > 0 or \
                self._depth_info_pub.get_subscription_count() > 0
        return mode == 'always'

    def _publish_frame(self, ground_truth: bool) -> None:
        started = time.perf_counter()
        depth = self._depth_wanted()
        frame = self.sim.render(ground_truth, depth)
        self.render_ms = 0.9 * self.render_ms + 0.1 * (time.perf_counter() - started) * 1e3 \
            if self.frames else (time.perf_counter() - started) * 1e3
        image = array_to_image(frame.image, 'rgb8', self._image)
        image.header.stamp = stamp(frame.time_ns)
        image.header.frame_id = self._frame_id
        self._info.header = image.header
        self._image_pub.publish(image)
        self._info_pub.publish(self._info)
        if frame.depth is not None:
            depth_image = array_to_image(depth_pixels(frame.depth, self._values['depth_encoding']),
                                         self._values['depth_encoding'], self._depth_image)
            depth_image.header = image.header
            self._depth_info.header = image.header
            self._depth_pub.publish(depth_image)
            self._depth_info_pub.publish(self._depth_info)
            self.depth_frames += 1
        if ground_truth:
            self._truth_pub.publish(ground_truth_msg(frame.truths, image.header))
            self._truth_3d_pub.publish(ground_truth_3d_msg(frame.truths, image.header))
            self.truth_frames += 1
        self.frames += 1

    # Diagnostics and shutdown ------------------------------------------------------------------

    def _fill_diagnostics(self) -> tuple[str, str, dict[str, Any]]:
        sim = self.sim
        state = sim.state
        wanted = self._values['real_time_factor']
        age = sim.base.command_age(state.time)
        values = {
            'sim_time': round(state.time, 3), 'real_time_factor': round(self.achieved_rtf, 3),
            'real_time_factor_requested': wanted, 'frames': self.frames, 'depth_frames': self.depth_frames,
            'ground_truth_frames': self.truth_frames,
            'render_ms': round(self.render_ms, 2),
            'commands': self.commands, 'malformed_commands': self.malformed,
            'command_age': 'none' if age is None else round(age, 3), 'bumps': sim.bumps,
            'contacts': ', '.join(state.contacts) or 'none',
            'pose': f'{state.x:.3f} {state.y:.3f} {state.yaw:.3f}', 'paused': self._values['paused'],
        }
        if self.failed:
            return 'error', 'simulation loop stopped', values
        if self._values['paused']:
            return 'ok', f'paused at {state.time:.3f} s (set paused to false to run)', values
        if state.contacts:
            return 'warn', 'robot against ' + ', '.join(state.contacts), values
        if wanted > 0.0 and self.achieved_rtf and self.achieved_rtf < 0.9 * wanted:
            return 'warn', f'running at {self.achieved_rtf:.2f}x real time, {wanted:g}x requested', values
        return 'ok', f'running at {self.achieved_rtf:.2f}x real time', values

    def shutdown(self) -> None:
        """Stop the simulation loop (and free the renderer on its thread)."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=10.0)

    def destroy_node(self) -> None:
        """Stop the loop before the publishers it uses go away."""
        self.shutdown()
        super().destroy_node()


def depth_pixels(depth: np.ndarray, encoding: str) -> np.ndarray:
    """Return z-depth in metres (NaN = nothing hit) as the pixels of a REP 118 encoding.

    32FC1: metres as they are; 16UC1: millimetres, rounded, 0 where nothing is hit or beyond 65.535 m.
    """
    if encoding == '32FC1':
        return depth
    millimetres = np.nan_to_num(depth * 1000.0, nan=0.0)
    millimetres[millimetres > 65535.0] = 0.0
    return np.rint(millimetres).astype(np.uint16)


def _next(scheduled: float, period: float, now: float) -> float:
    """Return the next time on the grid of `period` after `now` (skipping missed slots)."""
    scheduled += period
    if scheduled <= now:
        scheduled = now + period - (now - scheduled) % period
    return scheduled


main = node_main(SimNode)
