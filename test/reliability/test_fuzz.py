"""Property-based fuzzing (Hypothesis) of every message adapter on the actuation path and of the gate.

Real message classes (vision_msgs, sensor_msgs) filled with arbitrary values: an adapter either
converts or reports a problem (a domain error where it says so), and never raises anything else;
the gate's output is always finite, within its limits, and zero while the e-stop is engaged.
"""

import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sensor_msgs.msg import CameraInfo, Image
from vision_msgs.msg import Detection2D, Detection2DArray, ObjectHypothesisWithPose

from physical_ai.core.errors import ImageError
from physical_ai.core.image import image_to_array
from physical_ai.core.planning.messages import detections_from_msg, intrinsics_from_camera_info
from physical_ai.core.safety import Command, CommandGate, EStopLatch, GateConfig, Source
from physical_ai.core.sim.robot import BaseLimits, DiffDrive

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
floats = st.floats(allow_nan=True, allow_infinity=True, width=64)
tiny_or_huge = st.one_of(floats, st.sampled_from([1e-310, -1e-310, 5e-324, 1e308, -1e308, 0.0, -0.0]))
names = st.text(max_size=12)


def detection(values):
    cx, cy, w, h, score, class_id, hypotheses = values
    det = Detection2D()
    det.bbox.center.position.x, det.bbox.center.position.y = cx, cy
    det.bbox.size_x, det.bbox.size_y = w, h
    for _ in range(hypotheses):
        hyp = ObjectHypothesisWithPose()
        hyp.hypothesis.class_id, hyp.hypothesis.score = class_id, score
        det.results.append(hyp)
    return det


detections = st.lists(st.tuples(tiny_or_huge, tiny_or_huge, tiny_or_huge, tiny_or_huge, tiny_or_huge, names,
                                st.integers(0, 3)).map(detection), max_size=8)


@FUZZ
@given(detections)
def test_detections_adapter_never_raises_and_passes_only_finite_boxes(dets):
    out, problems = detections_from_msg(Detection2DArray(detections=dets))
    assert len(out) + len(problems) == len(dets)
    for d in out:
        assert all(math.isfinite(v) for v in (d.score, d.cx, d.cy, d.width, d.height))


@FUZZ
@given(st.lists(tiny_or_huge, min_size=9, max_size=9), st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1))
def test_camera_info_adapter_never_raises(k, width, height):
    intrinsics = intrinsics_from_camera_info(CameraInfo(k=k, width=width, height=height))
    problem = intrinsics.problem()
    assert problem is None or isinstance(problem, str)


ENCODINGS = ['rgb8', 'bgr8', 'mono8', 'mono16', 'bgra8', 'rgba8', '32FC1', '16UC1', 'yuv422', 'nonsense', '']


@FUZZ
@given(st.integers(0, 64), st.integers(0, 64), st.integers(0, 300), st.sampled_from(ENCODINGS),
       st.integers(0, 3000), st.integers(0, 1))
def test_image_adapter_converts_or_says_why(height, width, step, encoding, size, big_endian):
    msg = Image(height=height, width=width, step=step, encoding=encoding, is_bigendian=big_endian)
    msg.data = bytes(size)
    try:
        arr = image_to_array(msg)
    except ImageError as err:
        assert str(err)
        return
    assert arr.shape[0] == height and arr.shape[1] == width


@st.composite
def gate_events(draw):
    return draw(st.lists(st.tuples(
        st.sampled_from(['offer_planner', 'offer_teleop', 'output', 'engage', 'release', 'heartbeat']),
        st.floats(0.0, 0.3), floats, floats, floats), max_size=60))


@FUZZ
@given(gate_events(), st.floats(0.01, 2.0), st.floats(0.0, 1.0), st.floats(0.0, 2.0), st.floats(0.0, 2.0))
def test_gate_output_is_finite_limited_and_zero_while_engaged(events, cmd_timeout, deadman, speed, accel):
    config = GateConfig(sources=(Source('planner', 1), Source('teleop', 5)), cmd_timeout=cmd_timeout,
                        deadman_timeout=deadman, max_linear_speed=speed, max_reverse_speed=speed / 2,
                        max_angular_speed=speed * 2, max_linear_accel=accel, max_angular_accel=accel)
    latch = EStopLatch()
    gate = CommandGate(config, latch)
    now = 0.0
    for kind, dt, a, b, c in events:
        now += dt
        if kind.startswith('offer'):
            gate.offer(kind.split('_')[1], Command(a, b, c), now)
        elif kind == 'engage':
            latch.engage('fuzz')
        elif kind == 'release':
            latch.release('fuzz')
        elif kind == 'heartbeat':
            gate.heartbeat(math.isfinite(a) and a > 0, now)
        else:
            out = gate.output(now)
            cmd = out.command
            assert cmd.finite()
            assert -config.max_reverse_speed <= cmd.linear <= config.max_linear_speed
            assert abs(cmd.angular) <= config.max_angular_speed and cmd.lateral == 0.0
            if latch.engaged:
                assert cmd.is_zero() and out.halted


@FUZZ
@given(st.lists(st.tuples(floats, floats, st.floats(0.0, 0.05)), max_size=40))
def test_simulated_base_ignores_non_finite_commands(commands):
    base = DiffDrive(BaseLimits())
    now = 0.0
    for linear, angular, dt in commands:
        base.command(linear, angular, now)
        state = base.step(dt, now)
        now += dt
        assert all(math.isfinite(v) for v in (state.x, state.y, state.yaw, state.linear, state.angular))
