"""No input makes the planner core raise; bounded work per frame; property-based fuzzing.

Hypothesis drives `observe`/`command` sequences with arbitrary floats (NaN, Inf, subnormal,
huge, negative), stamps and clocks, e-stop messages and intrinsics: the core never raises, its
commands are finite and within the speed limits, and it is halted whenever the e-stop is
engaged or the detections are stale.
"""

import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
import pytest
from vision_msgs.msg import Detection2D, Detection2DArray, ObjectHypothesisWithPose

from physical_ai.core.planning import Detection, Intrinsics, Planner, PlannerConfig
from physical_ai.core.planning.messages import detections_from_msg

K = Intrinsics(fx=415.7, fy=415.7, cx=320.0, cy=240.0, width=640, height=480)
# The sim profile's planner: ground-plane distances from a camera 0.3 m above the floor.
SIM = dict(target_class='ball', camera_height=0.3, distance_method='ground', min_score=0.35)
CONFIGS = {
    'sim': PlannerConfig.from_params(SIM),
    'height': PlannerConfig.from_params(),
    'follow': PlannerConfig.from_params(behavior='follow', max_linear_speed=1.0, max_reverse_speed=0.3),
}
ODD = [math.nan, math.inf, -math.inf, 1e-310, -1e-310, 5e-324, 1e308, -1e308, 0.0, -0.0, -1.0, 1e-12]


def _msg(*boxes):
    msg = Detection2DArray()
    for class_id, score, cx, cy, sx, sy in boxes:
        det = Detection2D()
        hyp = ObjectHypothesisWithPose()
        hyp.hypothesis.class_id, hyp.hypothesis.score = class_id, score
        det.results.append(hyp)
        det.bbox.center.position.x, det.bbox.center.position.y = cx, cy
        det.bbox.size_x, det.bbox.size_y = sx, sy
        msg.detections.append(det)
    return msg


def test_a_subnormal_box_is_rejected_not_raised():
    planner = Planner(CONFIGS['sim'])
    planner.set_intrinsics(K)
    detections, problems = detections_from_msg(_msg(('ball', 0.9, 320.0, 300.0, 10.0, 1e-310)))
    assert detections == [] and 'empty box (10 x 1e-310 px)' in problems[0]
    # The same box handed to the core directly is rejected and counted as well.
    bad = planner.observe([Detection('ball', 0.9, 320.0, 300.0, 10.0, 1e-310)], 1.0)
    assert bad == 1 and planner.malformed == 1 and 'empty box' in planner.last_problem
    assert planner.command(1.0).linear == 0.0


@pytest.mark.parametrize('field', ['score', 'cx', 'cy', 'width', 'height', 'depth'])
@pytest.mark.parametrize('value', ODD)
@pytest.mark.parametrize('name', sorted(CONFIGS))
def test_odd_values_in_any_field_are_rejected_or_used(name, field, value):
    planner = Planner(CONFIGS[name])
    good = dict(class_name='person' if field == 'depth' else 'ball', score=0.9, cx=320.0, cy=300.0,
                width=20.0, height=20.0)
    good[field] = value
    planner.observe([Detection(**good)], 1.0, K)
    plan = planner.command(1.05)
    assert math.isfinite(plan.linear) and math.isfinite(plan.angular)
    assert planner.malformed in (0, 1)
    if planner.malformed == 0:
        assert planner.target is None or math.isfinite(planner.target.distance)


@pytest.mark.parametrize('stamp', [math.nan, math.inf, -math.inf])
def test_a_frame_with_a_non_finite_stamp_is_ignored(stamp):
    planner = Planner(CONFIGS['sim'])
    assert planner.observe([Detection('ball', 0.9, 320.0, 300.0, 20.0, 20.0)] * 3, stamp, K) == 3
    assert 'not a finite time' in planner.last_problem and planner.watchdog.last_stamp is None
    for now in (math.nan, math.inf, 1.0):
        plan = planner.command(now)
        assert plan.halted and (plan.linear, plan.angular) == (0.0, 0.0)


def test_only_the_best_scored_detections_are_looked_at():
    planner = Planner(PlannerConfig.from_params(SIM, max_detections=100))
    junk = [Detection('box', 0.5, float(i % 640), 300.0, 10.0, 10.0) for i in range(10_000)]
    best = Detection('ball', 0.95, 200.0, 300.0, 20.0, 20.0)
    planner.observe([*junk, best, Detection('ball', math.nan, 1.0, 1.0, 1.0, 1.0)], 1.0, K)
    assert planner.dropped == 10_002 - 100
    assert planner.target is not None and planner.target.detection == best
    assert planner.command(1.0).state == 'approaching'


# Hypothesis ---------------------------------------------------------------------------------

wild = st.floats(allow_nan=True, allow_infinity=True) | st.sampled_from(ODD)
near = st.floats(-5.0, 700.0)  # plausible pixels and times, so the driving paths run too
value = wild | near
detection = st.builds(Detection, class_name=st.sampled_from(['ball', 'person', 'box', '']), score=value,
                      cx=value, cy=value, width=value, height=value, depth=st.none() | value)
intrinsics = st.builds(Intrinsics, fx=value, fy=value, cx=value, cy=value,
                       width=st.integers(-10, 4000), height=st.integers(-10, 4000)) | st.just(K)
event = st.one_of(
    st.tuples(st.just('observe'), st.lists(detection, max_size=5), value),
    st.tuples(st.just('command'), value, st.none() | st.tuples(value, value)),
    st.tuples(st.just('e_stop'), st.booleans()),
    st.tuples(st.just('intrinsics'), intrinsics),
)


def _check(planner, plan, now):
    cfg = planner.config
    assert math.isfinite(plan.linear) and math.isfinite(plan.angular)
    assert -cfg.max_reverse_speed <= plan.linear <= cfg.max_linear_speed
    assert abs(plan.angular) <= cfg.max_angular_speed
    if planner.e_stop.engaged:
        assert plan.halted and plan.state == 'e_stopped' and (plan.linear, plan.angular) == (0.0, 0.0)
    if not (math.isfinite(now) and planner.watchdog.fresh(now)):
        assert plan.halted and (plan.linear, plan.angular) == (0.0, 0.0)


def _play(name, events):
    planner = Planner(CONFIGS[name])
    for item in events:
        kind = item[0]
        if kind == 'observe':
            planner.observe(item[1], item[2])
        elif kind == 'command':
            _check(planner, planner.command(item[1], item[2]), item[1])
        elif kind == 'e_stop':
            planner.set_e_stop(item[1])
        else:
            planner.set_intrinsics(item[1])
    _check(planner, planner.command(0.0), 0.0)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(sorted(CONFIGS)), events=st.lists(event, max_size=30))
def test_fuzz_never_raises_and_stays_within_limits(name, events):
    _play(name, events)


# Frames from a camera whose clock agrees with the planner's: the behaviours and the stop run.
clock_event = st.tuples(
    st.floats(0.0, 0.2),  # time step
    st.floats(-0.05, 0.6),  # age of the frame
    st.lists(st.builds(Detection, class_name=st.sampled_from(['ball', 'person']), score=st.floats(0.0, 1.0),
                       cx=st.floats(0.0, 640.0), cy=st.floats(200.0, 480.0), width=st.floats(1.0, 300.0),
                       height=st.floats(0.5, 480.0)), max_size=4),
    st.none() | st.tuples(st.floats(-2.0, 2.0), st.floats(-3.0, 3.0)),
    st.sampled_from([None, None, None, True, False]),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(sorted(CONFIGS)), events=st.lists(clock_event, max_size=60))
def test_fuzz_on_a_running_clock(name, events):
    planner = Planner(CONFIGS[name])
    planner.set_intrinsics(K)
    now = 100.0
    for step, age, frame, measured, e_stop in events:
        now += step
        planner.observe(frame, now - age)
        if e_stop is not None:
            planner.set_e_stop(e_stop)
        _check(planner, planner.command(now, measured), now)
