"""The planner on synthetic detections: behaviours, safety stops, hysteresis, limits, search."""

import math
import random

import pytest

from physical_ai.core.errors import ConfigError
from physical_ai.core.planning import Detection, Intrinsics, Planner, PlannerConfig

K = Intrinsics(fx=500.0, fy=500.0, cx=320.0, cy=240.0, width=640, height=480)
# A wide lens, so a person within safety distance still fits in the image.
WIDE = Intrinsics(fx=200.0, fy=200.0, cx=320.0, cy=240.0, width=640, height=480)
HEIGHTS = {'ball': 0.25, 'person': 1.7}
DT = 0.05


def box(name, distance, intrinsics=K, u=None, score=0.9):
    """Return a centred-row detection of class `name` whose height puts it `distance` m deep."""
    h = intrinsics.fy * HEIGHTS[name] / distance
    return Detection(name, score, intrinsics.cx if u is None else u, intrinsics.cy, h * 0.5, h)


def config(**overrides):
    values = dict(distance_filter_time=0.0, max_linear_speed=2.0, max_angular_speed=3.0,
                  max_linear_accel=50.0, max_angular_accel=100.0)
    values.update(overrides)
    return PlannerConfig.from_params(values)


def run(planner, frames, start=0.0, intrinsics=K):
    """Feed one frame per step of DT seconds (None = no frame that step); return the plans."""
    return [planner.update(start + i * DT, frame, intrinsics) for i, frame in enumerate(frames)]


@pytest.mark.parametrize('u,sign', [(120.0, 1.0), (520.0, -1.0)])
def test_turns_toward_target_rep103(u, sign):
    plan = run(Planner(config()), [[box('ball', 3.0, u=u)]] * 2)[-1]
    assert plan.state == 'approaching'
    assert sign * plan.angular > 0.0  # left of centre -> positive angular z
    assert sign * plan.target.bearing > 0.0
    centred = run(Planner(config()), [[box('ball', 3.0)]] * 2)[-1]
    assert centred.angular == pytest.approx(0.0, abs=1e-9) and centred.linear > 0.0


def test_approach_speed_falls_to_zero_at_stop_distance():
    speeds = []
    for distance in (4.0, 3.0, 2.0, 1.5, 1.2, 1.05, 1.0, 0.8):
        plan = run(Planner(config(stop_distance=1.0, linear_gain=0.5)), [[box('ball', distance)]] * 2)[-1]
        speeds.append(plan.linear)
        if distance > 1.05:
            assert plan.state == 'approaching'
            assert plan.linear == pytest.approx(0.5 * (distance - 1.0))
    assert speeds == sorted(speeds, reverse=True)
    assert speeds[-2:] == [0.0, 0.0]  # at and inside stop_distance: stopped, never backwards
    plan = run(Planner(config(stop_distance=1.0)), [[box('ball', 1.0)]])[-1]
    assert plan.state == 'stopped' and 'ball reached (1.00 m)' in plan.reason


def test_heading_error_slows_forward_speed():
    ahead = run(Planner(config(heading_tolerance=0.5)), [[box('ball', 3.0)]] * 2)[-1]
    aside = run(Planner(config(heading_tolerance=0.5)), [[box('ball', 3.0, u=500.0)]] * 2)[-1]
    far_aside = run(Planner(config(heading_tolerance=0.3)), [[box('ball', 3.0, u=620.0)]] * 2)[-1]
    assert 0.0 < aside.linear < ahead.linear
    assert far_aside.linear == 0.0 and far_aside.angular < 0.0  # turn in place first


def test_follow_keeps_distance_and_backs_off():
    def follow(distance):
        return run(Planner(config(behavior='follow', stop_distance=1.5)), [[box('ball', distance)]] * 2)[-1]

    assert follow(3.0).linear > 0.0
    assert follow(1.0).linear < 0.0
    assert follow(1.0).linear >= -0.2  # max_reverse_speed
    assert follow(1.5).linear == 0.0
    assert {follow(d).state for d in (3.0, 1.0, 1.5)} == {'following'}


def test_stop_hysteresis_does_not_flicker():
    planner = Planner(config(stop_distance=1.0, stop_hysteresis=0.15))
    # Each distance held for 3 frames (the median of 3 frames lags one frame).
    approach = run(planner, [[box('ball', d)] for d in (1.5, 1.3, 1.1, 1.0) for _ in range(3)])
    assert [p.state for p in approach] == ['approaching'] * 10 + ['stopped'] * 2
    # Noise around the threshold keeps it stopped ...
    jitter = [1.0, 1.08, 0.97, 1.12, 1.03, 1.14, 0.99] * 3
    plans = run(planner, [[box('ball', d)] for d in jitter], start=1.0)
    assert {p.state for p in plans} == {'stopped'}
    assert all(p.linear == 0.0 for p in plans)
    # ... until the target really moves away.
    assert run(planner, [[box('ball', 1.3)]] * 2, start=3.0)[-1].state == 'approaching'


def test_person_within_safety_distance_stops_whatever_the_target_does():
    planner = Planner(config(safety_distance=1.5, safety_release_time=0.3, distance_uncertainty=0.1))
    far_ball = box('ball', 4.0, WIDE)
    moving = run(planner, [[far_ball, box('person', 5.0, WIDE, u=100.0)]] * 3, intrinsics=WIDE)
    assert moving[-1].state == 'approaching' and moving[-1].linear > 0.0
    stop = run(planner, [[far_ball, box('person', 1.4, WIDE)]], start=1.0, intrinsics=WIDE)[-1]
    assert (stop.linear, stop.angular, stop.state, stop.halted) == (0.0, 0.0, 'stopped', True)
    # 1.4 m estimated, taken 10 % closer (distance_uncertainty); the frame is of this instant.
    assert stop.clearance.estimate == pytest.approx(1.4) and stop.clearance.source == 'height'
    assert stop.clearance.distance == pytest.approx(1.26) and stop.clearance.margin < 0.0
    assert stop.reason.startswith('person ') and 'stopped to stay beyond safety_distance 1.5 m' in stop.reason
    assert stop.stop_object[0] == 'person'
    # Standing still, the person beyond safety_distance but within the stop_hysteresis: still stopped.
    plans = run(planner, [[far_ball, box('person', 1.75, WIDE)]] * 10, start=1.05, intrinsics=WIDE)
    assert all(p.state == 'stopped' and p.linear == 0.0 for p in plans)
    assert {p.reason for p in plans} == {stop.reason}  # one reason per stop: one log line
    # Gone (or far): released only after safety_release_time of frames without it.
    plans = run(planner, [[far_ball]] * 10, start=1.55, intrinsics=WIDE)
    states = [p.state for p in plans]
    assert states[:5] == ['stopped'] * 5 and states[-1] == 'approaching'


def test_person_filling_the_frame_stops():
    planner = Planner(config(safety_distance=1.0))
    # 640x480 at fx 500: a person cut by the top and bottom border is nearer than its box says.
    tall = Detection('person', 0.9, 320.0, 240.0, 150.0, 480.0)
    plan = run(planner, [[box('ball', 3.0), tall]])[-1]
    assert plan.state == 'stopped' and 'person' in plan.reason


def test_low_score_and_other_classes_do_not_stop():
    planner = Planner(config(min_score=0.5))
    plans = run(planner, [[box('ball', 3.0, WIDE), box('person', 1.0, WIDE, score=0.3),
                           Detection('box', 0.9, 320.0, 240.0, 300.0, 300.0)]], intrinsics=WIDE)
    assert plans[-1].state == 'approaching'


def test_lost_target_search_turn_then_stop():
    planner = Planner(config(search_turn_speed=0.4, search_timeout=1.0, target_timeout=0.2))
    seen = run(planner, [[box('ball', 3.0, u=200.0)]] * 4)
    assert seen[-1].angular > 0.0
    plans = run(planner, [[]] * 40, start=4 * DT)  # frames keep coming, without the target
    states = [p.state for p in plans]
    searching = [p for p in plans if p.state == 'searching']
    assert states[0] == 'approaching'  # within target_timeout: still on the last estimate
    assert searching and all(p.angular == pytest.approx(0.4) and p.linear == 0.0 for p in searching)
    assert 0.9 <= len(searching) * DT <= 1.1  # bounded by search_timeout
    assert states[-1] == 'stopped' and plans[-1].angular == 0.0 and plans[-1].linear == 0.0
    assert 'ball lost' in plans[-1].reason
    # Seen again (on the right this time): approach resumes; lost again: search turns right.
    run(planner, [[box('ball', 3.0, u=500.0)]] * 3, start=10.0)
    plans = run(planner, [[]] * 10, start=10.15)
    assert plans[-1].state == 'searching' and plans[-1].angular == pytest.approx(-0.4)


def test_no_target_yet_stays_still():
    plan = run(Planner(config()), [[]] * 3)[-1]
    assert (plan.linear, plan.angular, plan.state) == (0.0, 0.0, 'stopped')
    assert plan.reason == 'no ball seen yet'


def test_watchdog_zero_without_fresh_detections():
    planner = Planner(config(detection_timeout=0.5))
    assert run(planner, [[box('ball', 3.0)]] * 3)[-1].linear > 0.0
    # No frames after the one stamped 0.1 s: the command goes on at its rate and turns to zero
    # once the newest detections are older than detection_timeout.
    for i in range(1, 16):
        now = 0.1 + i * DT
        plan = planner.command(now)
        if now - 0.1 < 0.5 - 1e-6:
            assert plan.state == 'approaching' and plan.linear > 0.0
        elif now - 0.1 > 0.5 + 1e-6:
            assert (plan.linear, plan.angular, plan.halted) == (0.0, 0.0, True)
            assert plan.reason == 'watchdog: no detections newer than detection_timeout (0.5 s)'
    # Frames that arrive but are old are no better.
    plan = planner.update(20.0, [box('ball', 3.0)], stamp=18.0)
    assert plan.linear == 0.0 and 'no detections newer' in plan.reason
    assert '2.000 s old' in planner.watchdog.status(20.0)


def test_e_stop_latch_and_release():
    planner = Planner(config(max_linear_accel=1.0))
    frames = [[box('ball', 3.0)]] * 40
    assert run(planner, frames)[-1].linear == pytest.approx(0.8 * 2.0)  # linear_gain * (3 - 1)
    planner.set_e_stop(True)
    plans = run(planner, frames, start=2.0)
    assert all((p.linear, p.angular, p.state) == (0.0, 0.0, 'e_stopped') for p in plans)
    assert plans[-1].reason == 'e_stop engaged'
    planner.set_e_stop(True)  # repeated true, still latched
    assert run(planner, frames[:1], start=4.0)[-1].state == 'e_stopped'
    planner.set_e_stop(False)
    plans = run(planner, frames[:5], start=4.1)
    assert plans[0].state == 'approaching'
    # Restarts from rest through the acceleration limit.
    assert plans[0].linear == pytest.approx(0.1)  # 0.1 s since the last command, at 1 m/s^2
    assert plans[1].linear - plans[0].linear == pytest.approx(1.0 * DT)


def test_no_intrinsics_no_motion():
    planner = Planner(config())
    plan = planner.update(0.0, [box('ball', 3.0)])
    assert (plan.linear, plan.angular, plan.reason) == (0.0, 0.0, 'no camera_info yet')
    assert 'not calibrated' in planner.set_intrinsics(Intrinsics(0.0, 0.0, 0.0, 0.0, 640, 480))
    assert planner.intrinsics is None


def test_malformed_detections_ignored_and_counted():
    planner = Planner(config())
    frame = [Detection('ball', 0.9, math.nan, 240.0, 20.0, 20.0), 'garbage',
             Detection('ball', 0.9, 320.0, 240.0, -5.0, 20.0),
             Detection('ball', 0.9, 5000.0, 240.0, 9.0, 9.0), box('ball', 3.0)]
    plan = run(planner, [frame])[-1]
    assert planner.malformed == 4
    assert plan.state == 'approaching' and plan.target.distance == pytest.approx(3.0)


def test_limits_hold_on_every_command():
    cfg = PlannerConfig.from_params(
        behavior='follow', max_linear_speed=0.4, max_reverse_speed=0.1, max_angular_speed=0.6,
        max_linear_accel=0.5, max_angular_accel=1.0, search_timeout=0.5)
    planner = Planner(cfg)
    rng = random.Random(3)
    previous = None
    for i in range(600):
        frame = [box('ball', rng.uniform(0.3, 8.0), u=rng.uniform(0.0, 640.0))] if rng.random() < 0.7 else []
        if rng.random() < 0.05:
            frame.append(box('person', rng.uniform(0.5, 4.0), WIDE))
        if rng.random() < 0.02:
            planner.set_e_stop(rng.random() < 0.5)
        plan = planner.update(i * DT, frame, K, stamp=i * DT - (1.0 if rng.random() < 0.05 else 0.0))
        assert -0.1 <= plan.linear <= 0.4 and -0.6 <= plan.angular <= 0.6
        if previous is not None and not plan.halted:
            assert abs(plan.linear - previous.linear) <= 0.5 * DT + 1e-9
            assert abs(plan.angular - previous.angular) <= 1.0 * DT + 1e-9
        previous = plan


def test_distance_is_filtered_over_frames():
    rng = random.Random(11)
    planner = Planner(config(distance_filter_time=0.3, stop_distance=1.0))
    raws, filtered = [], []
    for plan in run(planner, [[box('ball', 3.0 * (1.0 + rng.gauss(0.0, 0.05)))] for _ in range(100)]):
        raws.append(plan.target.raw_distance)
        filtered.append(plan.target.distance)
    spread = max(filtered[20:]) - min(filtered[20:])
    assert spread < 0.5 * (max(raws[20:]) - min(raws[20:]))
    assert sum(filtered[20:]) / 80 == pytest.approx(3.0, abs=0.1)


def test_stays_on_tracked_target():
    planner = Planner(config())
    left, right = box('ball', 3.0, u=150.0, score=0.8), box('ball', 2.0, u=500.0, score=0.85)
    run(planner, [[left]] * 3)
    plans = run(planner, [[left, right]] * 5, start=0.15)
    assert all(p.target.detection == left for p in plans)
    # A clearly better detection does win.
    best = box('ball', 2.0, u=500.0, score=1.0)
    assert run(planner, [[left, best]], start=0.5)[-1].target.detection == best


def test_closed_loop_reference():
    planner = Planner(config(max_linear_accel=1.0))
    run(planner, [[box('ball', 3.0)]] * 2)
    plan = planner.update(0.1, [box('ball', 3.0)], measured=(0.3, 0.0))
    assert plan.linear == pytest.approx(0.3 + 1.0 * DT)


def test_config_change_keeps_running_and_applies_limits():
    planner = Planner(config())
    assert run(planner, [[box('ball', 4.0)]] * 3)[-1].linear == pytest.approx(2.0)
    planner.config = config(max_linear_speed=0.3)
    assert run(planner, [[box('ball', 4.0)]], start=0.15)[-1].linear == pytest.approx(0.3)
    planner.config = config(target_class='person')
    assert planner.target is None


def test_defaults_come_from_the_parameter_table():
    from physical_ai.params.planner import PARAMS

    cfg = PlannerConfig.from_params()
    defaults = {spec.name: spec.default for spec in PARAMS}
    assert (cfg.behavior, cfg.target_class, cfg.stop_classes) == ('approach', 'ball', ('person',))
    assert cfg.stop_distance == defaults['stop_distance'] == 1.0
    assert cfg.class_heights['person'] == 1.7
    assert PlannerConfig.from_params(stop_classes=['']).stop_classes == ()


@pytest.mark.parametrize('values,match', [
    ({'behavior': 'dance'}, r"parameter behavior: 'dance' is not accepted \(one of approach, follow\)"),
    ({'stop_distance': 0.0}, r'parameter stop_distance: 0.0 is out of range \(in \[0.05, 100.0\]\)'),
    ({'max_linear_speed': -1.0}, r'parameter max_linear_speed: -1.0 is out of range'),
    ({'max_angular_accel': -0.5}, r'parameter max_angular_accel: -0.5 is out of range'),
    ({'class_heights': ['ball=0.2']}, r"parameter class_heights: entry 'ball=0.2' is not accepted"),
    ({'distance_method': 'ground'}, r'parameter camera_height: distance_method is ground'),
    ({'target_class': 'cone'}, r"parameter target_class: class 'cone' has no distance estimate"),
    ({'stop_classes': ['person', 'dog']}, r"parameter stop_classes: class 'dog' has no distance"),
    ({'target_class': ''}, r'parameter target_class: must name a class'),
    ({'colour': 'red'}, r"unknown parameter 'colour'"),
])
def test_bad_config_names_the_parameter(values, match):
    with pytest.raises(ConfigError, match=match):
        PlannerConfig.from_params(values)


def test_ground_plane_config_allows_classes_without_height():
    cfg = PlannerConfig.from_params(target_class='cone', distance_method='ground', camera_height=0.3,
                                    class_heights=['person:1.7'])
    planner = Planner(cfg)
    # A cone 2 m ahead on the floor, camera 0.3 m up and level: its bottom at cy + fy * 0.3 / 2.
    bottom = 240.0 + 500.0 * 0.3 / 2.0
    plan = planner.update(0.0, [Detection('cone', 0.9, 320.0, bottom - 30.0, 40.0, 60.0)], K)
    assert plan.target.method == 'ground' and plan.target.distance == pytest.approx(2.0)
