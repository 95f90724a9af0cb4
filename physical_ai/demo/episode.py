"""One closed-loop episode: the `sim` profile's real nodes, watched, recorded and judged.

The graph (simulator, inference, planner) runs through the runner in `--processes` mode as a
child process: one process per node, so rendering, the model and the planner's callbacks do not
share one GIL. Measured on 2 cores (demo scenario, 640x480 at 15 Hz, real time): both modes kept
the camera rate, but one process per node halved the detection-to-command latency (p50 about
20 ms against 35 ms) and cut the camera-to-command latency (p50 about 70 ms against 105 ms); the
cost is one shared-memory hop per message and a second or two more start-up.
This process holds only the watchers: a monitor node (sim time) that feeds the Judge, the MCAP
recorder and the video writer, each on a node of its own so their callbacks run side by side.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
import math
import os
from pathlib import Path
import signal
import subprocess
import sys
import threading
import time
from typing import Any

from physical_ai.core.errors import ConfigError
from physical_ai.demo.judge import Criteria, Judge, TruthObject, WorldObject
from physical_ai.demo.recorder import TopicOptions, header_stamp_ns
from physical_ai.demo.report import EpisodeResult, percentiles

# Topics recorded in the MCAP; images at a reduced rate (Hz) to keep the file small.
RECORDED_TOPICS: dict[str, TopicOptions] = {
    'camera/image_raw': TopicOptions(max_rate=5.0),
    'camera/camera_info': TopicOptions(max_rate=1.0),
    'detections': TopicOptions(),
    'detections/labels': TopicOptions(),
    'sim/ground_truth': TopicOptions(),
    'detections_3d': TopicOptions(),
    'sim/ground_truth_3d': TopicOptions(),
    'sim/pose': TopicOptions(),
    'odom': TopicOptions(),
    '/tf': TopicOptions(),
    '/tf_static': TopicOptions(),
    'robot_description': TopicOptions(),
    'cmd_vel': TopicOptions(),
    'planner/target': TopicOptions(max_rate=5.0),
    '/diagnostics': TopicOptions(),
    '/clock': TopicOptions(max_rate=10.0),
}
STOP_TIMEOUT = 10.0  # s to wait for the graph to stop after SIGINT
PROGRESS_PERIOD = 2.0  # s (wall) between progress lines
VERDICT_SHOWN = 1.0  # s (wall) the graph runs on after the verdict, so the video shows it
LIFECYCLE_TYPES = ('inference',)  # node types whose node is a LifecycleNode: up once it reports active
ASK_AGAIN = 2.0  # s (wall) a service request waits for its reply before it is asked again
TRUTH_RATE = 5.0  # Hz of sim time: the simulator's ground truth during an episode (see runner_overrides)


@dataclass
class EpisodeConfig:
    """One episode: scenario, seed, success criteria, outputs and graph settings."""

    scenario: str
    seed: int
    criteria: Criteria
    out_dir: Path
    index: int = 0
    robot: str = 'sim'
    overrides: Sequence[str] = ()  # extra NODE.PARAM=VALUE for the runner
    real_time_factor: float | None = None
    video: bool = True
    record: bool = True
    video_fps: float = 15.0
    processes: bool = True  # one process per node (False: every node in one runner process)
    startup_timeout: float = 60.0  # wall s until the first command
    wall_limit: float | None = None  # wall s for the whole episode (default: from the time limit)
    print_progress: Callable[[str], None] | None = print
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        """Return the scenario's name (a scenario file's stem)."""
        return Path(self.scenario).stem if self.scenario.endswith(('.yaml', '.yml')) else self.scenario

    @property
    def stem(self) -> str:
        """Return the file name stem of this episode's outputs."""
        return f'{self.index:02d}_{self.label}_seed{self.seed}'

    def runner_overrides(self) -> list[str]:
        """Return the --set overrides that pick the scenario, seed and speed of the simulator."""
        # Paused until every node is up (run_episode resumes it): a model still loading costs no frames.
        # Ground truth at 5 Hz: the judge needs no more, and each one costs a segmentation pass in
        # the simulator's loop (on a slow 2-core machine a pass per image held the demo at 0.7 real time).
        sets = [f'sim.scenario={self.scenario}', f'sim.seed={self.seed}', 'sim.paused=true',
                f'sim.ground_truth_rate={TRUTH_RATE:g}']
        if self.real_time_factor is not None:
            sets.append(f'sim.real_time_factor={self.real_time_factor}')
        return sets + list(self.overrides)


def runner_command(config: EpisodeConfig) -> list[str]:
    """Return the command that starts the profile's graph, one process per node, no restarts."""
    cmd = [sys.executable, '-m', 'physical_ai.cli', 'up', '--robot', config.robot]
    if config.processes:
        cmd += ['--processes', '--max-restarts', '0']
    for text in config.runner_overrides():
        cmd += ['--set', text]
    # A simulated episode starts from a released e-stop of its own, not the robot's saved latch.
    for node in check_profile(config).nodes:
        if node.node_type == 'safety':
            state = config.out_dir.resolve() / f'{config.stem}.{node.name}.e_stop.json'
            cmd += ['--set', f'{node.name}.state_file={state}']
    return cmd


def check_profile(config: EpisodeConfig) -> Any:
    """Load the profile with the episode's overrides: a bad value fails here with the nodes' message."""
    from physical_ai.core.profiles import load_profile

    return load_profile(config.robot, overrides=config.runner_overrides())


class Monitor:
    """Watches the running graph (sim time): feeds a Judge, counts frames, measures latencies."""

    def __init__(self, node: Any, judge: Judge, cmd_type: Any, planner_name: str = 'planner',
                 sim_name: str = 'sim') -> None:
        from diagnostic_msgs.msg import DiagnosticArray
        from geometry_msgs.msg import PoseStamped
        from nav_msgs.msg import Odometry
        from rclpy.qos import QoSProfile, ReliabilityPolicy, qos_profile_sensor_data
        from sensor_msgs.msg import Image
        from vision_msgs.msg import Detection2DArray

        self.node = node
        self.judge = judge
        self.lock = threading.Lock()
        self.camera_frames = 0  # distinct frames seen, as an image or as its detections
        self._frame_stamps: set[int] = set()
        self.detections = 0
        self.commands = 0
        self.latency_ms: list[float] = []
        self.frame_age_ms: list[float] = []
        self.first_detection_wall: float | None = None
        self.last_detection_wall: float | None = None
        self.first_command_wall: float | None = None
        # (wall, sim) at the first command heard once /clock runs: the start of the real-time
        # factor's window (before the first /clock this node's clock reads 0 whatever the sim's is).
        self.clock_start: tuple[float, float] | None = None
        self._newest_detection: tuple[float, int] | None = None  # (wall s, header stamp ns)
        self._window: list[tuple[float, int, int]] = []  # (wall, camera frames, detections)
        self.sim_status = ''
        self._states: dict[str, _LifecycleState] = {}  # lifecycle node name -> its state, as last asked
        self.planner_name, self.sim_name = planner_name, sim_name
        reliable = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)
        best_effort = qos_profile_sensor_data
        node.create_subscription(Image, 'camera/image_raw', self._on_camera, best_effort, raw=True)
        node.create_subscription(Detection2DArray, 'detections', self._on_detections, reliable)
        node.create_subscription(Detection2DArray, 'sim/ground_truth', self._on_truth, best_effort)
        node.create_subscription(Odometry, 'odom', self._on_odom, reliable)
        node.create_subscription(PoseStamped, 'sim/pose', self._on_pose, reliable)
        node.create_subscription(cmd_type, 'cmd_vel', self._on_cmd, reliable)
        node.create_subscription(DiagnosticArray, '/diagnostics', self._on_diagnostics, reliable)

    def sim_now(self) -> float:
        """Return the node's clock (simulated time) in seconds."""
        return self.node.get_clock().now().nanoseconds * 1e-9

    def _on_camera(self, data: bytes) -> None:
        stamp = header_stamp_ns(data)
        with self.lock:
            if self.judge.verdict is not None:  # figures are frozen at the verdict
                return
            self._count_frame(stamp)

    def _count_frame(self, stamp: int | None) -> None:
        # A frame is known from its image or from its detections (each processed frame has one
        # message, stamped as the image): the best-effort camera subscription here may miss an
        # image the inference node took, and "N processed of M" must never read N > M.
        if stamp is None or stamp not in self._frame_stamps:
            self.camera_frames += 1
        if stamp is not None:
            self._frame_stamps.add(stamp)

    def _on_detections(self, msg: Any) -> None:
        now = time.monotonic()
        stamp = msg.header.stamp.sec * 1_000_000_000 + msg.header.stamp.nanosec
        with self.lock:
            if self.judge.verdict is not None:  # figures are frozen at the verdict
                return
            self.detections += 1
            self._count_frame(stamp)
            self._newest_detection = (now, stamp)
            if self.first_detection_wall is None:
                self.first_detection_wall = now
            self.last_detection_wall = now

    def _on_truth(self, msg: Any) -> None:
        objects = []
        for det in msg.detections:
            if not det.results:
                continue
            result = det.results[0]
            p = result.pose.pose.position
            objects.append(TruthObject(result.hypothesis.class_id, p.x, p.y, p.z, det.id))
        t = msg.header.stamp.sec + msg.header.stamp.nanosec * 1e-9
        with self.lock:
            if self.judge.verdict is not None:  # figures are frozen at the verdict
                return
            self.judge.on_truth(t, objects)

    def _on_odom(self, msg: Any) -> None:
        t = msg.header.stamp.sec + msg.header.stamp.nanosec * 1e-9
        twist = msg.twist.twist
        with self.lock:
            if self.judge.verdict is not None:  # figures are frozen at the verdict
                return
            self.judge.on_odometry(t, twist.linear.x, twist.angular.z)

    def _on_pose(self, msg: Any) -> None:
        t = msg.header.stamp.sec + msg.header.stamp.nanosec * 1e-9
        p, q = msg.pose.position, msg.pose.orientation
        yaw = math.atan2(2.0 * (q.w * q.z + q.x * q.y), 1.0 - 2.0 * (q.y * q.y + q.z * q.z))
        with self.lock:
            if self.judge.verdict is not None:  # figures are frozen at the verdict
                return
            self.judge.on_pose(t, p.x, p.y, yaw)

    def _on_cmd(self, msg: Any) -> None:
        wall = time.monotonic()
        twist = getattr(msg, 'twist', msg)
        now_ns = self.node.get_clock().now().nanoseconds
        with self.lock:
            if self.judge.verdict is not None:  # figures are frozen at the verdict
                return
            self.commands += 1
            if self.first_command_wall is None:
                self.first_command_wall = wall
            if self.clock_start is None and now_ns > 0:
                self.clock_start = (wall, now_ns * 1e-9)
            if self._newest_detection is not None:
                seen, stamp = self._newest_detection
                self.latency_ms.append((wall - seen) * 1e3)
                if stamp and now_ns >= stamp:
                    self.frame_age_ms.append((now_ns - stamp) * 1e-6)
            self.judge.on_command(now_ns * 1e-9, twist.linear.x, twist.angular.z)

    def _on_diagnostics(self, msg: Any) -> None:
        for status in msg.status:
            node = status.name.partition(':')[0]
            values = {kv.key: kv.value for kv in status.values}
            with self.lock:
                if self.judge.verdict is not None:  # figures are frozen at the verdict
                    return
                if node == self.planner_name:
                    self.judge.on_planner(values.get('state', status.message),
                                          values.get('last_stop_reason', ''),
                                          values.get('target_track_id', ''))
                elif node == self.sim_name:
                    self.sim_status = status.message
                    self.judge.on_contacts(values.get('contacts', '').split(', '))

    def not_up(self, names: Iterable[str], lifecycle: Collection[str] = ()) -> list[str]:
        """Return those of `names` not in the graph yet, or in `lifecycle` and not active yet.

        From the graph and the lifecycle services, not /diagnostics: the nodes' timers run on
        simulated time, which stands still until the simulator runs. Never waits: a lifecycle
        node's state is asked for here and read at a later call.
        """
        present = {name for name, _ in self.node.get_node_names_and_namespaces()}
        for name in lifecycle:
            if name in present and name not in self._states:
                self._states[name] = _LifecycleState(self.node, name)
        return [name for name in names if name not in present
                or (name in self._states and self._states[name].poll() != 'active')]

    def rates(self) -> tuple[float, float]:
        """Return (camera fps, detections fps) over the wall time since the previous call."""
        now = time.monotonic()
        with self.lock:
            sample = (now, self.camera_frames, self.detections)
        self._window.append(sample)
        self._window = self._window[-2:]
        if len(self._window) < 2 or self._window[1][0] <= self._window[0][0]:
            return 0.0, 0.0
        (t0, c0, d0), (t1, c1, d1) = self._window
        return (c1 - c0) / (t1 - t0), (d1 - d0) / (t1 - t0)


class _LifecycleState:
    """A lifecycle node's state from its get_state service, asked without waiting."""

    def __init__(self, node: Any, name: str) -> None:
        from lifecycle_msgs.srv import GetState

        self._request = GetState.Request()
        self._client = node.create_client(GetState, f'{name}/get_state')
        self._future: Any = None
        self._asked = 0.0
        self.label = ''

    def poll(self) -> str:
        """Return the state last heard ('' before the first answer); ask again once it is in.

        A request unanswered for ASK_AGAIN seconds is dropped and asked again: a service whose
        reply writer has not matched the client's reader yet drops the reply ("failed to send
        response (timeout)"), and a future waited on forever would hold the episode at "not up".
        """
        now = time.monotonic()
        if self._future is not None and self._future.done():
            self.label, self._future = self._future.result().current_state.label, None
        elif self._future is not None and now - self._asked > ASK_AGAIN:
            self._client.remove_pending_request(self._future)
            self._future = None
        if self._future is None and self._client.service_is_ready():
            self._future, self._asked = self._client.call_async(self._request), now
        return self.label


def _node_of(profile: Any, node_type: str) -> Any:
    nodes = [n for n in profile.nodes if n.node_type == node_type]
    if len(nodes) != 1:
        raise ConfigError(f'robot profile {profile.name}: the demo needs exactly one {node_type} node, '
                          f'found {len(nodes)}')
    return nodes[0]


def _param(node: Any, name: str) -> Any:
    from physical_ai.params import node_params

    if name in node.parameters:
        return node.parameters[name]
    return node_params(node.node_type)[name].default


def param_of(profile: Any, node_type: str, name: str) -> Any:
    """Return a parameter of the profile's only node of `node_type` (its default when not set)."""
    return _param(_node_of(profile, node_type), name)


def target_name(scenario: Any) -> str:
    """Return the name the simulator gives the scenario's target object ('' if none).

    Objects without a name are called <class>_<n>, counted per class in file order, skipping
    names taken explicitly (physical_ai.core.sim.world.sample_world).
    """
    taken = {o.name for o in scenario.objects if o.name}
    counts: dict[str, int] = {}
    for entry in scenario.objects:
        name = entry.name
        while not name:
            candidate = f'{entry.class_name}_{counts.get(entry.class_name, 0)}'
            counts[entry.class_name] = counts.get(entry.class_name, 0) + 1
            if candidate not in taken:
                taken.add(candidate)
                name = candidate
        if entry.target:
            return name
    return ''


def world_objects(config: EpisodeConfig) -> tuple[WorldObject, ...]:
    """Return the objects of the episode's world as the simulator draws them (same scenario and seed)."""
    from physical_ai.core.sim.scenario import load_scenario
    from physical_ai.core.sim.world import sample_world

    sim = _node_of(check_profile(config), 'sim')
    scenario = load_scenario(_param(sim, 'scenario')).with_overrides(
        _param(sim, 'target_class'), _param(sim, 'person_xy'), _param(sim, 'start_pose'))
    spec = sample_world(scenario, int(_param(sim, 'seed')))
    return tuple(WorldObject(o.class_name, o.x, o.y, o.name, o.route, o.speed, o.loop) for o in spec.objects)


def episode_setup(config: EpisodeConfig) -> tuple[Any, Criteria, str]:
    """Return the checked profile, the criteria with the planner's settings, and the target's name."""
    from dataclasses import replace

    from physical_ai.core.sim.scenario import load_scenario

    profile = check_profile(config)
    sim, planner = _node_of(profile, 'sim'), _node_of(profile, 'planner')
    scenario = load_scenario(_param(sim, 'scenario')).with_overrides(
        _param(sim, 'target_class'), _param(sim, 'person_xy'), _param(sim, 'start_pose'))
    criteria = replace(config.criteria, target_class=_param(planner, 'target_class'),
                       stop_classes=tuple(_param(planner, 'stop_classes')),
                       stop_distance=float(_param(planner, 'stop_distance')),
                       safety_distance=float(_param(planner, 'safety_distance')))
    target = target_name(scenario)
    if config.criteria.kind in ('target', 'follow') and scenario.target is not None \
            and scenario.target.class_name != criteria.target_class:
        raise ConfigError(f'scenario {scenario.name}: its target is a {scenario.target.class_name} but the '
                          f'planner drives to {criteria.target_class} (planner.target_class)')
    return profile, criteria, target


def overlay_lines(judge: Judge, scenario: str) -> list[str]:
    """Return the text drawn on the video: time, planner state, target distance, speeds."""
    dist = '--' if judge.target_distance is None else f'{judge.target_distance:.2f} m'
    lines = [f'{scenario}  t={judge.elapsed:5.1f} s  target {dist}  '
             f'cmd v={judge.command[0]:+.2f} w={judge.command[1]:+.2f}',
             f'planner: {judge.planner_state or "-"}'
             + (f' ({judge.planner_reason})' if judge.planner_reason and judge.planner_state == 'stopped'
                else '')]
    if judge.verdict is not None:
        lines.append(('SUCCESS: ' if judge.verdict.success else 'FAILURE: ') + judge.verdict.reason)
    return lines


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return '\n'.join(path.read_text(errors='replace').splitlines()[-lines:])
    except OSError:
        return ''


class NodeThreads:
    """Spins each node in a single-threaded executor on a thread of its own (add_node/remove_node).

    The watchers' callbacks (monitor, recorder, video) run side by side as in a multi-threaded
    executor, but an idle node sleeps in rcl_wait with the GIL released: rclpy's
    MultiThreadedExecutor dispatches in a Python loop that, measured in the demo, took 45 % of a core
    in the watcher process, more than the video and recording work it dispatched.
    """

    def __init__(self, context: Any) -> None:
        self.context = context
        self._spinning: dict[Any, tuple[Any, threading.Thread]] = {}

    def add_node(self, node: Any) -> None:
        """Start spinning `node` on a new thread."""
        from rclpy.executors import SingleThreadedExecutor

        executor = SingleThreadedExecutor(context=self.context)
        executor.add_node(node)
        thread = threading.Thread(target=spin_until_shutdown, args=(executor,), daemon=True,
                                  name=f'spin {node.get_name()}')
        thread.start()
        self._spinning[node] = (executor, thread)

    def remove_node(self, node: Any, timeout: float = 2.0) -> None:
        """Stop spinning `node` (its callback in progress, if any, finishes first)."""
        executor, thread = self._spinning.pop(node)
        executor.remove_node(node)
        executor.shutdown(timeout_sec=timeout)
        thread.join(timeout)

    def shutdown(self, timeout_sec: float = 2.0) -> None:
        """Stop spinning every node."""
        for node in list(self._spinning):
            self.remove_node(node, timeout_sec)


def spin_until_shutdown(executor: Any) -> None:
    """Spin `executor` until it or its context shuts down."""
    from rclpy.executors import ExternalShutdownException

    try:
        executor.spin()
    except ExternalShutdownException:
        pass


def run_episode(config: EpisodeConfig, context: Any, executor: Any) -> EpisodeResult:
    """Run one episode in the given rclpy context (spun by `executor`); return its result."""
    from geometry_msgs.msg import Twist, TwistStamped
    from rclpy.node import Node
    from rclpy.parameter import Parameter
    from rclpy.parameter_client import AsyncParameterClient

    say = config.print_progress or (lambda text: None)
    profile, criteria, target = episode_setup(config)
    planner, sim = _node_of(profile, 'planner'), _node_of(profile, 'sim')
    # The base hears the safety gate (the last node before it) where the profile has one.
    base_side = next((n for n in profile.nodes if n.node_type == 'safety'), planner)
    cmd_type = TwistStamped if _param(base_side, 'stamped') else Twist
    config.out_dir.mkdir(parents=True, exist_ok=True)
    log_path = config.out_dir / f'{config.stem}.log'
    from physical_ai.core.sim.camera import CameraSpec

    judge = Judge(criteria, target, world_objects(config), CameraSpec.mount_x)
    nodes: list[Any] = []

    def add(name: str, sim_time: bool) -> Any:
        node = Node(name, context=context,
                    parameter_overrides=[Parameter('use_sim_time', value=sim_time)])
        executor.add_node(node)
        nodes.append(node)
        return node

    recorder = video = proc = log = None
    verdict = None
    failure = ''
    started = wall_end = time.monotonic()
    try:
        monitor = Monitor(add(f'demo_monitor_{config.index}', True), judge, cmd_type, planner.name, sim.name)
        if config.record:
            from physical_ai.demo.recorder import TopicRecorder

            recorder = TopicRecorder(add(f'demo_recorder_{config.index}', False),
                                     config.out_dir / f'{config.stem}.mcap', RECORDED_TOPICS)
        if config.video:
            from physical_ai.demo.video import VideoRecorder

            def overlay(_stamp: float) -> list[str]:
                with monitor.lock:
                    return overlay_lines(judge, config.label)

            video_path = config.out_dir / f'{config.stem}.mp4'
            video = VideoRecorder(add(f'demo_video_{config.index}', False), video_path, config.video_fps,
                                  overlay, source='raw')

        wall_limit = config.wall_limit or criteria.time_limit * 4 + config.startup_timeout
        started = time.monotonic()
        log = open(log_path, 'wb')
        proc = subprocess.Popen(runner_command(config), stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True, env=dict(os.environ))
        next_progress = started + PROGRESS_PERIOD
        graph = [node.name for node in profile.nodes]
        lifecycle = {node.name for node in profile.nodes if node.node_type in LIFECYCLE_TYPES}
        # The camera's subscribers: the inference nodes (they subscribe when they activate) and this
        # process's monitor, recorder and video. The simulator runs once it has matched them all
        # (start_subscribers): a subscription this process sees may not be matched there yet, and
        # up to 0.6 s of frames went to nobody when it was resumed at the inference node's 'active'.
        camera_topic = sim.resolve_topic('camera/image_raw')
        camera_readers = {node.name for node in profile.nodes if node.node_type == 'inference'}
        camera_readers |= {node.get_name() for node in nodes}
        sim_params = AsyncParameterClient(monitor.node, sim.name)
        resume: Any = None  # the set_parameters future that starts the simulator, sent at `asked`
        asked, running = 0.0, False
        while True:
            time.sleep(0.05)
            now = time.monotonic()
            if not running:
                waiting = monitor.not_up(graph, lifecycle)
                heard = {i.node_name for i in monitor.node.get_subscriptions_info_by_topic(camera_topic)}
                waiting += [f'{name} (its {camera_topic} subscription)' for name in sorted(camera_readers)
                            if name not in heard]
                if resume is not None and resume.done():
                    results = resume.result().results
                    if not all(r.successful for r in results):
                        failure = f'the simulator refused to resume: {"; ".join(r.reason for r in results)}'
                        break
                    running = True
                    say(f'[{config.label} seed {config.seed}] wall {now - started:5.1f} s  every node is up: '
                        'the simulation runs')
                elif (not waiting and sim_params.services_are_ready()
                      and (resume is None or now > asked + ASK_AGAIN)):
                    resume = sim_params.set_parameters([
                        Parameter('start_subscribers', value=len(camera_readers)),
                        Parameter('paused', value=False)])
                    asked = now
                elif now - started > config.startup_timeout:
                    missing = ', '.join(waiting) or f'{sim.name} (its parameter service)'
                    failure = f'not up {config.startup_timeout:.0f} s in: {missing}; see {log_path}'
                    break
            with monitor.lock:
                verdict = judge.decide() if monitor.commands and running else None
            if verdict is not None:
                wall_end = time.monotonic()
                if config.video:
                    time.sleep(VERDICT_SHOWN)  # the video ends with the verdict on screen
                break
            if proc.poll() is not None:
                failure = f'the graph stopped (exit code {proc.returncode}); see {log_path}'
                break
            if monitor.first_command_wall is None and now - started > config.startup_timeout:
                failure = f'no cmd_vel within {config.startup_timeout:.0f} s of starting; see {log_path}'
                break
            if now - started > wall_limit:
                failure = f'wall-clock limit of {wall_limit:.0f} s reached; see {log_path}'
                break
            if now >= next_progress:
                next_progress += PROGRESS_PERIOD
                camera_fps, det_fps = monitor.rates()
                with monitor.lock:
                    say(_progress(config, judge, now - started, camera_fps, det_fps))
    finally:
        if verdict is None:
            wall_end = time.monotonic()
        if proc is not None:
            _stop(proc)
        if log is not None:
            log.close()
        # Let the last messages (the zero command) reach the recorder, then close the files.
        time.sleep(0.2)
        for item in (recorder, video):
            if item is not None:
                item.close()
        for node in nodes:
            executor.remove_node(node)
            node.destroy_node()

    with monitor.lock:
        if verdict is None:
            tail = _tail(log_path)
            reason = failure + (f'\n--- last lines of {log_path.name} ---\n{tail}' if tail else '')
            success = False
        else:
            reason, success = verdict.reason, verdict.success
        active = (monitor.last_detection_wall or wall_end) - (monitor.first_detection_wall or wall_end)
        rate = (monitor.detections - 1) / active if active > 0 and monitor.detections > 1 else 0.0
        start_wall, start_sim = monitor.clock_start or (wall_end, judge.now)
        run_wall = wall_end - start_wall
        return EpisodeResult(
            scenario=config.label, seed=config.seed, kind=criteria.kind, success=success,
            reason=reason, final_distance=judge.target_distance, distance_error=judge.distance_error,
            stop_error=judge.distance_error if verdict is not None and verdict.at_target else None,
            closest_stop_object=judge.closest_stop_object, safety_distance=criteria.safety_distance,
            sim_time=judge.elapsed,
            wall_time=wall_end - started, camera_frames=monitor.camera_frames,
            frames_processed=monitor.detections, inference_rate_hz=rate,
            real_time_factor=(judge.now - start_sim) / run_wall if run_wall > 0 else 0.0,
            latency_ms=percentiles(monitor.latency_ms), frame_age_ms=percentiles(monitor.frame_age_ms),
            planner_state=judge.planner_state, planner_reason=judge.planner_reason,
            video=str(video.path) if video is not None and video.writer.frames else None,
            recording=str(recorder.path) if recorder is not None else None, log=str(log_path))


def _progress(config: EpisodeConfig, judge: Judge, wall: float, camera_fps: float, det_fps: float) -> str:
    dist = '--' if judge.target_distance is None else f'{judge.target_distance:.2f} m'
    state = judge.planner_state or 'waiting'
    track = f'  track {judge.target_track} ({judge.track_changes} changes)' if judge.target_track else ''
    return (f'[{config.label} seed {config.seed}] wall {wall:5.1f} s  sim {judge.elapsed:5.1f} s  '
            f'target {dist}{track}  v {judge.command[0]:+.2f} m/s  planner {state}  '
            f'camera {camera_fps:4.1f} fps  inference {det_fps:4.1f} fps')


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGINT)
    except ProcessLookupError:
        return
    try:
        proc.wait(STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()


def criteria_for(kind: str, time_limit: float | None = None, **values: Any) -> Criteria:
    """Return the success criteria of an episode kind ('target' or 'stop_for'), checked."""
    if time_limit is not None:
        values['time_limit'] = time_limit
    try:
        return Criteria(kind=kind, **values)
    except TypeError as err:
        raise ConfigError(f'episode criteria: {err}') from err
