"""The planner node over real DDS: reacts to detections, watchdog, e-stop latch, parameters, shutdown."""

import math
from pathlib import Path
import signal
import sys
import threading
import time

from diagnostic_msgs.msg import DiagnosticArray
from geometry_msgs.msg import Twist, TwistStamped
import pytest
from rclpy.parameter import Parameter
from rclpy.qos import qos_profile_sensor_data
from rclpy.serialization import serialize_message
from rosgraph_msgs.msg import Clock
from sensor_msgs.msg import CameraInfo
from std_msgs.msg import Bool
from vision_msgs.msg import (
    BoundingBox2D,
    Detection2D,
    Detection2DArray,
    ObjectHypothesis,
    ObjectHypothesisWithPose,
)
from visualization_msgs.msg import Marker, MarkerArray

from physical_ai.core.errors import ConfigError
from physical_ai.nodes.planner_node import PlannerNode

FX = 500.0
# A 0.25 m ball 3 m away is 41.7 px tall at fx = fy = 500.
FAR_BALL_LEFT = ('ball', 0.9, 200.0, 240.0, 41.7, 41.7)
FAR_BALL_RIGHT = ('ball', 0.9, 460.0, 240.0, 41.7, 41.7)
FAR_BALL_AHEAD = ('ball', 0.9, 320.0, 240.0, 41.7, 41.7)
NAN_BOX = ('ball', 0.9, math.nan, 240.0, 40.0, 40.0)
FAST = [Parameter('max_linear_accel', value=5.0), Parameter('max_angular_accel', value=10.0)]


def camera_info():
    msg = CameraInfo(width=640, height=480, k=[FX, 0.0, 320.0, 0.0, FX, 240.0, 0.0, 0.0, 1.0])
    msg.header.frame_id = 'camera_optical_frame'
    return msg


def detection_array(stamp, boxes, no_class=False):
    msg = Detection2DArray()
    msg.header.stamp.sec = int(stamp)
    msg.header.stamp.nanosec = int(round((stamp - int(stamp)) * 1e9)) % 1_000_000_000
    msg.header.frame_id = 'camera_optical_frame'
    for name, score, cx, cy, w, h in boxes:
        det = Detection2D(bbox=BoundingBox2D(size_x=w, size_y=h))
        det.bbox.center.position.x, det.bbox.center.position.y = cx, cy
        det.results = [ObjectHypothesisWithPose(hypothesis=ObjectHypothesis(class_id=name, score=score))]
        msg.detections.append(det)
    if no_class:
        msg.detections.append(Detection2D())  # malformed: no hypothesis
    return msg


class Feeder:
    """Publishes camera_info and detections at 20 Hz from a helper node, stamped with `now()`."""

    def __init__(self, ros, name='feeder', now=None):
        self.node = ros.node(name)
        self.info_pub = self.node.create_publisher(CameraInfo, 'camera/camera_info', qos_profile_sensor_data)
        self.det_pub = self.node.create_publisher(Detection2DArray, 'detections', 10)
        self.now = now or (lambda: self.node.get_clock().now().nanoseconds * 1e-9)
        self.boxes = None  # None: publish no detections at all
        self.send_info = True
        self.stamp_offset = 0.0
        self.malformed = False
        self.last_sent = None
        self.node.create_timer(0.05, self._tick)

    def _tick(self):
        if self.send_info:
            self.info_pub.publish(camera_info())
        if self.boxes is not None:
            boxes = list(self.boxes) + ([NAN_BOX] if self.malformed else [])
            self.det_pub.publish(detection_array(self.now() + self.stamp_offset, boxes, self.malformed))
            self.last_sent = time.monotonic()


def diag_values(msg):
    return {kv.key: kv.value for kv in msg.status[0].values}


def is_planner_diag(msg):
    return msg.status and msg.status[0].name.startswith('planner')


def test_reacts_to_detections_then_watchdog_zero(ros):
    cmds = ros.collect(Twist, 'cmd_vel', qos=10)
    diags = ros.collect(DiagnosticArray, '/diagnostics', qos=10)
    feeder = Feeder(ros)
    feeder.send_info = False
    feeder.boxes = [FAR_BALL_LEFT]
    node = ros.add(PlannerNode(context=ros.context, parameter_overrides=FAST))

    # No camera_info yet: commands keep coming at the fixed rate, all zero.
    cmds.wait(10, timeout=15.0)
    assert all(m.linear.x == 0.0 and m.angular.z == 0.0 for m in cmds.messages)
    diag = diags.wait(1, timeout=10.0, predicate=is_planner_diag)[0]
    assert diag_values(diag)['last_stop_reason'] == 'no camera_info yet'

    # With intrinsics: forward toward the far ball, turning left (REP 103: positive angular z).
    feeder.send_info = True
    feeder.malformed = True
    cmds.wait(1, timeout=10.0, predicate=lambda m: m.linear.x > 0.05 and m.angular.z > 0.05)
    feeder.boxes = [FAR_BALL_RIGHT]
    cmds.wait(1, timeout=10.0, predicate=lambda m: m.linear.x > 0.0 and m.angular.z < -0.05)

    markers = ros.wait_for(MarkerArray, 'planner/target', qos=1, timeout=10.0,
                           predicate=lambda m: any(x.type == Marker.SPHERE for x in m.markers))[0]
    kinds = {m.type for m in markers.markers}
    assert {Marker.SPHERE, Marker.ARROW, Marker.TEXT_VIEW_FACING} <= kinds
    assert any(m.text.startswith('ball 3.') for m in markers.markers)
    assert markers.markers[1].header.frame_id == 'camera_optical_frame'

    # Malformed detections were ignored, counted and reported; the node kept driving.
    diag = diags.wait(1, timeout=10.0, predicate=lambda m: is_planner_diag(m) and
                      int(diag_values(m)['malformed_detections']) > 0 and
                      diag_values(m)['state'] == 'approaching')[0]
    values = diag_values(diag)
    assert values['target_class'] == 'ball' and diag.status[0].level == b'\x00'
    assert float(values['target_distance_m']) == pytest.approx(3.1, abs=0.1)  # 3 m deep, off-centre
    assert 'non-finite' in values['last_malformed'] or 'hypothesis' in values['last_malformed']

    # Limits change at run time and apply to the next commands.
    assert node.set_parameters([Parameter('max_linear_speed', value=0.1)])[0].successful
    cmds.clear()
    cmds.wait(10, timeout=10.0)
    assert all(m.linear.x <= 0.1 + 1e-9 for m in cmds.messages[2:])

    # Detections stop: zero within detection_timeout + one period (checked with a wide margin).
    feeder.boxes = None
    time.sleep(0.1)
    stopped_at = feeder.last_sent
    cmds.clear()
    cmds.wait(1, timeout=10.0, predicate=lambda m: m.linear.x == 0.0 and m.angular.z == 0.0)
    first_zero = next(t for m, t in zip(cmds.messages, cmds.times, strict=True)
                      if m.linear.x == 0.0 and m.angular.z == 0.0)
    assert first_zero - stopped_at < 0.5 + 0.05 + 1.5
    count = len(cmds.messages)
    cmds.wait(count + 5, timeout=10.0)
    assert all(m.linear.x == 0.0 and m.angular.z == 0.0 for m in cmds.messages[count - 1:])
    diag = diags.wait(1, timeout=10.0, predicate=lambda m: is_planner_diag(m) and
                      diag_values(m)['last_stop_reason'].startswith('watchdog'))[0]
    assert diag.status[0].level == b'\x01'  # WARN


def test_e_stop_latches_until_false(ros):
    cmds = ros.collect(Twist, 'cmd_vel', qos=10)
    diags = ros.collect(DiagnosticArray, '/diagnostics', qos=10)
    feeder = Feeder(ros)
    feeder.boxes = [FAR_BALL_AHEAD]
    ros.add(PlannerNode(context=ros.context, parameter_overrides=FAST))
    cmds.wait(1, timeout=15.0, predicate=lambda m: m.linear.x > 0.05)

    source = ros.node('e_stop_source')
    pub = source.create_publisher(Bool, 'e_stop', 10)
    ros.wait_until(lambda: pub.get_subscription_count() > 0, timeout=10.0, what='e_stop subscriber')
    pub.publish(Bool(data=True))
    cmds.clear()
    cmds.wait(1, timeout=10.0, predicate=lambda m: m.linear.x == 0.0)
    # The publisher disappears while engaged: the lock holds, detections or not.
    ros.remove(source)
    cmds.clear()
    cmds.wait(20, timeout=10.0)  # about one second at 20 Hz
    assert all(m.linear.x == 0.0 and m.angular.z == 0.0 for m in cmds.messages[1:])
    diag = diags.wait(1, timeout=10.0, predicate=lambda m: is_planner_diag(m) and
                      diag_values(m)['e_stop'] == 'engaged')[0]
    assert diag_values(diag)['state'] == 'e_stopped' and diag.status[0].message == 'e_stopped: e_stop engaged'

    release = ros.node('e_stop_release').create_publisher(Bool, 'e_stop', 10)
    ros.wait_until(lambda: release.get_subscription_count() > 0, timeout=10.0, what='e_stop subscriber')
    release.publish(Bool(data=False))
    cmds.wait(1, timeout=10.0, predicate=lambda m: m.linear.x > 0.05)


def test_sim_time_watchdog_and_stamped_output(ros):
    sim = {'now': 1000.0}
    clock_node = ros.node('sim_clock')
    clock_pub = clock_node.create_publisher(Clock, '/clock', 10)
    running = threading.Event()
    running.set()

    start = time.monotonic()

    def advance():  # simulated time runs with the wall clock, from 1000 s
        if running.is_set():
            sim['now'] = 1000.0 + time.monotonic() - start
            msg = Clock()
            msg.clock.sec = int(sim['now'])
            msg.clock.nanosec = int((sim['now'] % 1.0) * 1e9)
            clock_pub.publish(msg)

    clock_node.create_timer(0.01, advance)
    cmds = ros.collect(TwistStamped, 'cmd_vel', qos=10)
    diags = ros.collect(DiagnosticArray, '/diagnostics', qos=10)
    feeder = Feeder(ros, now=lambda: sim['now'])
    feeder.boxes = [FAR_BALL_AHEAD]
    ros.add(PlannerNode(context=ros.context, parameter_overrides=FAST + [
        Parameter('use_sim_time', value=True), Parameter('stamped', value=True)]))

    moving = cmds.wait(1, timeout=15.0, predicate=lambda m: m.twist.linear.x > 0.05)[0]
    assert moving.header.frame_id == 'base_link'
    stamp = moving.header.stamp.sec + moving.header.stamp.nanosec * 1e-9
    assert 1000.0 < stamp <= sim['now']  # stamped with the simulated clock

    # Detections stamped 2 s in the (simulated) past keep arriving: stale, so zero.
    feeder.stamp_offset = -2.0
    cmds.clear()
    cmds.wait(1, timeout=10.0, predicate=lambda m: m.twist.linear.x == 0.0)
    count = len(cmds.messages)
    cmds.wait(count + 5, timeout=10.0)
    assert all(m.twist.linear.x == 0.0 for m in cmds.messages[count - 1:])
    diag = diags.wait(1, timeout=10.0, predicate=lambda m: is_planner_diag(m) and
                      'old' in diag_values(m)['watchdog'])[0]
    assert diag_values(diag)['state'] == 'stopped'

    # Fresh stamps again: moving; then detections stop while the simulated clock runs on: zero.
    feeder.stamp_offset = 0.0
    cmds.wait(1, timeout=10.0, predicate=lambda m: m.twist.linear.x > 0.05)
    feeder.boxes = None
    cmds.clear()
    cmds.wait(1, timeout=10.0, predicate=lambda m: m.twist.linear.x == 0.0)
    running.clear()


def test_parameters_checked_at_start_and_at_run_time(ros):
    node = ros.add(PlannerNode('planner_params', context=ros.context))
    desc = node.describe_parameter('stop_distance')
    assert desc.floating_point_range[0].from_value == 0.05 and desc.description
    assert node.describe_parameter('stamped').read_only

    rejected = {
        'behavior': ('dance', "'dance' is not accepted (one of approach, follow)"),
        'max_linear_speed': (-1.0, 'max_linear_speed out of range Min: 0.0'),  # rclpy's range check
        'stop_distance': (0.0, 'stop_distance out of range Min: 0.05, Max: 100.0'),
        'class_heights': (['ball'], "entry 'ball' is not accepted"),
        'distance_method': ('ground', 'camera_height'),
        'target_class': ('cone', "class 'cone' has no distance estimate"),
    }
    for name, (value, reason) in rejected.items():
        result = node.set_parameters([Parameter(name, value=value)])[0]
        assert not result.successful and reason in result.reason, (name, result.reason)
    assert node.get_parameter('behavior').value == 'approach'
    assert not node.set_parameters([Parameter('rate', value=5.0)])[0].successful  # read-only

    ok = node.set_parameters([Parameter('behavior', value='follow'),
                              Parameter('angular_gain', value=2.5),
                              Parameter('class_heights', value=['ball:0.3', 'person:1.8'])])
    assert all(r.successful for r in ok)
    cfg = node.planner.config
    assert (cfg.behavior, cfg.angular_gain) == ('follow', 2.5)
    assert cfg.class_heights == {'ball': 0.3, 'person': 1.8}


@pytest.mark.parametrize('name,value,message', [
    ('behavior', 'dance', r"parameter behavior: 'dance' is not accepted \(one of approach, follow\)"),
    ('stop_distance', -0.5, r'parameter stop_distance: -0.5 is out of range \(in \[0.05, 100.0\]\)'),
    ('max_angular_speed', -1.0, r'parameter max_angular_speed: -1.0 is out of range'),
])
def test_bad_start_up_value_is_a_clear_error(ros, name, value, message):
    with pytest.raises(ConfigError, match=message):
        PlannerNode('planner_bad', context=ros.context, parameter_overrides=[Parameter(name, value=value)])


def node_executable():
    return str(Path(sys.executable).parent / 'planner_node')


def test_process_start_up_error_exits_1(spawn):
    proc = spawn([node_executable(), '--ros-args', '-p', 'behavior:=dance'], name='planner_bad')
    assert proc.wait(timeout=30.0) == 1
    out = proc.output()
    assert "parameter behavior: 'dance' is not accepted (one of approach, follow)" in out
    assert 'Traceback' not in out


@pytest.mark.parametrize('sig', [signal.SIGINT, signal.SIGTERM])
def test_process_publishes_zero_on_shutdown(ros, spawn, sig):
    cmds = ros.collect(Twist, 'cmd_vel', qos=10)
    feeder = Feeder(ros)
    feeder.boxes = [FAR_BALL_LEFT]
    proc = spawn([node_executable(), '--ros-args', '-p', 'max_linear_accel:=5.0',
                  '-p', 'max_angular_accel:=10.0'], name='planner')
    cmds.wait(1, timeout=30.0, predicate=lambda m: m.linear.x > 0.05)
    assert proc.stop(sig, timeout=15.0) == 0, proc.output()
    # Detections are still coming while it stops: its very last word must still be zero.
    time.sleep(0.5)
    last = cmds.messages[-1]
    assert (last.linear.x, last.angular.z) == (0.0, 0.0), proc.output()
    assert 'zero velocity published on shutdown' in proc.output()


def huge_array(count):
    msg = detection_array(0.0, [FAR_BALL_AHEAD])
    msg.detections = msg.detections * count
    return msg


def test_absurd_box_and_huge_arrays_do_not_stop_the_commands(ros):
    cmds = ros.collect(Twist, 'cmd_vel', qos=10)
    diags = ros.collect(DiagnosticArray, '/diagnostics', qos=10)
    feeder = Feeder(ros)
    # size_y 1e-310 once overflowed the distance to inf and took the node down.
    feeder.boxes = [FAR_BALL_AHEAD, ('ball', 0.95, 320.0, 240.0, 10.0, 1e-310)]
    node = ros.add(PlannerNode(context=ros.context, parameter_overrides=FAST))
    cmds.wait(20, timeout=30.0)
    flood = ros.node('flood').create_publisher(Detection2DArray, 'detections', 10)
    ros.wait_until(lambda: flood.get_subscription_count() > 0, timeout=10.0)
    # Serialized once: serializing 10k Python objects would hold this process (and the commands
    # it collects) for a good part of a second at each publish.
    big = serialize_message(huge_array(10_000))
    start = time.monotonic()
    cmds.clear()
    for _ in range(5):
        flood.publish(big)
        time.sleep(1.0)
    gaps = [b - a for a, b in zip([start, *cmds.times], cmds.times, strict=False)]
    assert len(cmds.messages) >= 40 and max(gaps) <= 0.5
    assert all(math.isfinite(m.linear.x) and math.isfinite(m.angular.z) for m in cmds.messages)
    diag = diags.wait(1, timeout=10.0, predicate=lambda m: is_planner_diag(m)
                      and diag_values(m)['oversized_messages'] != '0')[0]
    assert int(diag_values(diag)['oversized_messages']) >= 1
    assert node.oversized >= 1


def test_distance_method_depth_takes_detections_3d_and_falls_back_without(ros):
    from vision_msgs.msg import Detection3D, Detection3DArray

    diags = ros.collect(DiagnosticArray, '/diagnostics', qos=10)
    feeder = Feeder(ros)
    feeder.boxes = [FAR_BALL_AHEAD]  # 3 m by its height
    stage = ros.node('stage_3d')
    pub = stage.create_publisher(Detection3DArray, 'detections_3d', 10)
    answering = threading.Event()
    answering.set()

    def answer(msg):  # a 3D stage: the ball measured 2 m away, slightly left, no ids
        if not answering.is_set():
            return
        out = Detection3DArray(header=msg.header)
        det = Detection3D()
        det.bbox.center.position.x, det.bbox.center.position.z = -0.02, 2.0
        det.results = [ObjectHypothesisWithPose(hypothesis=ObjectHypothesis(class_id='ball', score=0.9))]
        out.detections.append(det)
        pub.publish(out)

    stage.create_subscription(Detection2DArray, 'detections', answer, 10)
    ros.add(PlannerNode(context=ros.context, parameter_overrides=[
        *FAST, Parameter('distance_method', value='depth'), Parameter('stop_distance', value=0.5)]))

    def planner_diag(predicate):
        return diag_values(diags.wait(1, timeout=15.0, predicate=lambda m: is_planner_diag(m) and
                                      predicate(diag_values(m)))[0])

    values = planner_diag(lambda v: v.get('depth_source') == 'detections_3d'
                          and v['target_distance_m'] != 'none' and float(v['target_distance_m']) < 2.3)
    assert float(values['target_distance_m']) == pytest.approx(2.0, abs=0.05)
    assert int(values['depth_joined_objects']) > 0 and values['distance_method'] == 'depth'
    answering.clear()
    diags.clear()
    values = planner_diag(lambda v: v.get('depth_source') == 'monocular fallback'
                          and float(v['target_distance_m']) > 2.7)
    assert 'no detections_3d' in values['depth_problem']
    assert int(values['depth_frames_without_depth']) > 0
