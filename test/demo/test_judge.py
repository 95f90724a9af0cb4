"""Episode verdicts and the report's figures, from observation sequences (plain Python)."""

import json
import math

import pytest

from physical_ai.core.errors import ConfigError
from physical_ai.demo.judge import Criteria, Judge, TruthObject, WorldObject
from physical_ai.demo.report import EpisodeResult, batch_summary, format_batch, format_episode, write_summary


def _ball(distance, bearing_x=0.0, object_id='ball_0'):
    return TruthObject('ball', bearing_x, 0.2, (distance ** 2 - bearing_x ** 2) ** 0.5, object_id)


def _drive(judge, t0, t1, speed, distance_at, objects=()):
    t = t0
    while t <= t1 + 1e-9:
        judge.on_command(t, speed, 0.0)
        judge.on_odometry(t, speed, 0.0)
        judge.on_truth(t, [_ball(distance_at(t)), *objects])
        if judge.decide():
            return judge.verdict
        t = round(t + 0.05, 6)
    return None


def test_target_reached_and_held_is_success():
    judge = Judge(Criteria())
    assert _drive(judge, 0.0, 4.0, 0.5, lambda t: 3.0 - 0.5 * t) is None
    judge.on_planner('stopped', 'ball reached (1.02 m)')
    verdict = _drive(judge, 4.05, 6.0, 0.0, lambda t: 1.04)
    assert verdict.success and verdict.at_target and 'error +0.040 m' in verdict.reason
    assert verdict.time == pytest.approx(5.05)  # stopped at 4.05 s, held for 1 s
    assert judge.distance_error == pytest.approx(0.04)


def test_stop_outside_tolerance_fails_once_planner_says_reached():
    judge = Judge(Criteria())
    verdict = _drive(judge, 0.0, 3.0, 0.0, lambda t: 1.3)
    assert verdict is None  # standing still at 1.3 m: maybe not started yet, keep waiting
    judge.on_planner('stopped', 'ball reached (1.01 m)')
    verdict = _drive(judge, 3.05, 4.0, 0.0, lambda t: 1.3)
    assert not verdict.success and 'outside 1 +/- 0.15 m' in verdict.reason


def test_creeping_robot_is_not_stopped_and_times_out():
    judge = Judge(Criteria(time_limit=5.0))
    verdict = _drive(judge, 0.0, 10.0, 0.03, lambda t: 1.0)
    assert not verdict.success and 'time limit of 5 s' in verdict.reason


def test_person_in_the_way():
    person = TruthObject('person', 0.1, -0.5, 1.6, 'person_0')
    judge = Judge(Criteria(kind='stop_for'))
    assert _drive(judge, 0.0, 2.0, 0.4, lambda t: 4.0 - 0.4 * t, [person]) is None
    judge.on_planner('stopped', 'person within safety_distance (1.45 m, limit 1.5 m)')
    verdict = _drive(judge, 2.05, 4.0, 0.0, lambda t: 3.2, [person])
    assert verdict.success and 'stopped for a person (1.60 m' in verdict.reason
    assert judge.closest_stop_object == pytest.approx(person.distance)


def test_reaching_the_target_past_the_person_fails():
    judge = Judge(Criteria(kind='stop_for'))
    judge.on_truth(0.0, [TruthObject('person', 1.2, -0.5, 1.6)])
    judge.on_planner('stopped', 'ball reached (1.01 m)')
    verdict = _drive(judge, 0.1, 3.0, 0.0, lambda t: 1.0)
    assert not verdict.success and 'without stopping for the person (closest 2.00 m)' in verdict.reason


@pytest.mark.parametrize('kind', ['target', 'stop_for'])
def test_a_person_inside_safety_distance_fails_at_once(kind):
    judge = Judge(Criteria(kind=kind, safety_distance=1.5))
    person = TruthObject('person', 0.3, -0.5, 1.6)  # 1.63 m: outside
    assert _drive(judge, 0.0, 1.0, 0.3, lambda t: 3.0 - 0.3 * t, [person]) is None
    judge.on_planner('stopped', 'person 1.52 m ahead (safe side): stopped to stay beyond safety_distance')
    verdict = _drive(judge, 1.05, 1.2, 0.1, lambda t: 2.5, [TruthObject('person', 0.3, -0.5, 1.45)])
    assert not verdict.success
    assert verdict.reason == 'safety: a person came within 1.48 m of the camera, inside safety_distance 1.5 m'
    assert judge.closest_stop_object == pytest.approx(math.hypot(0.3, 1.45))
    # The verdict stands: stopping afterwards does not make it a success.
    assert _drive(judge, 1.25, 4.0, 0.0, lambda t: 2.5, [person]) is verdict


def test_a_person_out_of_view_counts_from_the_true_pose():
    world = [WorldObject('person', 2.0, 1.6, 'person_0'), WorldObject('box', 1.0, 0.0, 'box_0')]
    judge = Judge(Criteria(kind='target'), world=world, camera_x=0.2)
    judge.on_pose(0.0, 0.0, 0.0, 0.0)
    assert judge.closest_stop_object == pytest.approx(math.hypot(1.8, 1.6))  # the box does not count
    judge.on_pose(0.5, 1.0, 0.0, math.pi / 2)  # facing left: the camera at (1.0, 0.2)
    assert judge.closest_stop_object == pytest.approx(math.hypot(1.0, 1.4))
    assert judge.decide() is None
    judge.on_pose(1.0, 2.0, 0.0, math.pi / 2)  # the camera 1.4 m from the person, none in view
    verdict = judge.decide()
    assert not verdict.success and verdict.reason.startswith('safety: a person came within 1.40 m')


def test_safety_distance_zero_is_not_judged():
    judge = Judge(Criteria(kind='stop_for', safety_distance=0.0))
    judge.on_truth(0.0, [TruthObject('person', 0.0, 0.0, 0.9)])
    assert judge.decide() is None


def test_contact_with_a_person_fails_at_once():
    judge = Judge(Criteria(kind='stop_for'))
    judge.on_truth(1.0, [TruthObject('person', 0.0, 0.0, 0.2)])
    verdict = judge.decide()
    assert not verdict.success and verdict.reason.startswith('contact')


def test_bumper_contact_fails_and_a_named_target_is_followed():
    judge = Judge(Criteria(), target_id='ball_1')
    judge.on_truth(0.5, [_ball(3.0, object_id='ball_0'), _ball(4.0, object_id='ball_1')])
    assert judge.target_distance == pytest.approx(4.0)  # the named one, not the nearest
    judge.on_contacts(['none'])
    assert judge.decide() is None
    judge.on_contacts(['box_0'])
    verdict = judge.decide()
    assert not verdict.success and verdict.reason == 'contact: the robot ran into box_0'


def test_bad_kind_is_a_config_error():
    with pytest.raises(ConfigError, match="episode kind 'dance'"):
        Criteria(kind='dance')


def test_report_and_summary(tmp_path):
    results = [
        EpisodeResult('demo', 3, 'target', True, 'ok', final_distance=1.05, distance_error=0.05,
                      stop_error=0.05, sim_time=9.0,
                      wall_time=10.0, camera_frames=270, frames_processed=260, inference_rate_hz=26.0,
                      latency_ms={'count': 180, 'p50': 21.0, 'p99': 49.0}, video='a.mp4', recording='a.mcap'),
        EpisodeResult('demo', 4, 'target', False, 'outside', final_distance=0.8, distance_error=-0.2,
                      stop_error=-0.2),
        EpisodeResult('demo', 6, 'target', False, 'time limit', final_distance=4.8, distance_error=3.8),
        EpisodeResult('person', 5, 'stop_for', True, 'stopped for a person', closest_stop_object=1.62,
                      safety_distance=1.5),
        EpisodeResult('person', 7, 'stop_for', False, 'safety: ...', closest_stop_object=1.41,
                      safety_distance=1.5),
    ]
    text = format_episode(results[0])
    assert 'SUCCESS' in text and 'p50 21.0 ms, p99 49.0 ms' in text and '260 of 270' in text
    summary = batch_summary(results)
    assert summary['succeeded'] == 2 and summary['stop_distance_error_m']['count'] == 2
    assert summary['stop_distance_error_m']['mean'] == pytest.approx(-0.075)
    text = format_batch(results)
    assert 'success rate 2/5 (40 %)' in text
    assert 'over the 2 target episodes that stopped at the target (1 did not): mean -0.075 m' in text
    assert 'closest approach of a stop-class object over 2 episodes: min 1.410 m' in text
    assert '1 inside safety_distance' in text and 'per episode, sorted (m): 1.41 1.62' in text
    line = 'closest stop-class object      1.620 m (safety_distance 1.5 m, +0.120 m)'
    assert line in format_episode(results[3])
    data = json.loads(write_summary(tmp_path / 'run' / 'summary.json', results, seed=3).read_text())
    assert data['success'] is False and data['seed'] == 3 and len(data['results']) == 5
    assert data['closest_stop_object_m']['min'] == pytest.approx(1.41)
    assert data['inside_safety_distance'] == 1
    assert [r['closest_stop_object'] for r in data['results']][3:] == [1.62, 1.41]
    assert data['results'][0]['video'] == 'a.mp4'


def test_a_walking_person_counts_where_it_is_at_that_time():
    walker = WorldObject('person', 5.0, -2.0, 'walker', ((5.0, -2.0), (5.0, 2.0)), 1.0)
    assert walker.at(0.0) == (5.0, -2.0) and walker.at(2.0) == pytest.approx((5.0, 0.0))
    judge = Judge(Criteria(), 'ball_0', [walker], camera_x=0.0)
    judge.on_pose(0.0, 3.0, 0.0, 0.0)
    assert judge.closest_stop_object == pytest.approx(math.hypot(2.0, 2.0))
    judge.on_pose(2.0, 3.0, 0.0, 0.0)  # the walker is now straight ahead, 2 m away
    assert judge.closest_stop_object == pytest.approx(2.0)


def test_follow_episodes_succeed_at_the_time_limit_when_the_target_was_kept():
    criteria = Criteria(kind='follow', target_class='person', stop_classes=(), stop_distance=2.5,
                        time_limit=10.0)
    judge = Judge(criteria, 'walker')
    for i in range(101):
        t = i * 0.1
        judge.on_truth(t, [TruthObject('person', 0.1, 0.0, 2.8, 'walker'),
                           TruthObject('person', 1.0, 0.0, 4.0, 'person_0')])
        judge.on_command(t, 0.3, 0.0)
        assert judge.decide() is None or t >= 10.0
    assert judge.decide().success and 'followed the person for 10.0 s' in judge.verdict.reason

    lost = Judge(criteria, 'walker')
    lost.on_truth(0.0, [TruthObject('person', 0.0, 0.0, 2.5, 'walker')])
    lost.on_truth(6.0, [TruthObject('person', 1.0, 0.0, 4.0, 'person_0')])  # someone else, not the walker
    verdict = lost.decide()
    assert verdict is not None and not verdict.success and 'out of view for 6.0 s' in verdict.reason
