"""Walking objects: routes in time, scenario `path` keys, and the simulator moving them with stable ids."""

import math

import pytest

from physical_ai.core.errors import ConfigError
from physical_ai.core.sim.camera import CameraSpec
from physical_ai.core.sim.paths import gait, route_length, route_pose
from physical_ai.core.sim.scenario import load_scenario, parse_scenario
from physical_ai.core.sim.simulator import Simulator

ROUTE = ((0.0, 0.0), (2.0, 0.0), (2.0, 1.0))


@pytest.mark.parametrize(('t', 'loop', 'expected'), [
    (0.0, False, (0.0, 0.0, 0.0)),
    (1.0, False, (1.0, 0.0, 0.0)),
    (2.5, False, (2.0, 0.5, math.pi / 2)),
    (3.5, False, (2.0, 0.5, -math.pi / 2)),  # on the way back
    (6.0, False, (0.0, 0.0, 0.0)),  # back at the start, turning round
    (3.5, True, (2.0 - 0.5 * 2 / math.sqrt(5), 1.0 - 0.5 / math.sqrt(5), math.atan2(-1.0, -2.0))),
])
def test_route_pose(t, loop, expected):
    assert route_pose(ROUTE, 1.0, t, loop) == pytest.approx(expected)


def test_route_edge_cases():
    assert route_length(ROUTE) == pytest.approx(3.0)
    assert route_length(ROUTE, loop=True) == pytest.approx(3.0 + math.sqrt(5))
    assert route_pose(((1.0, 2.0),), 1.0, 5.0) == (1.0, 2.0, 0.0)
    assert route_pose(ROUTE, 0.0, 5.0) == (0.0, 0.0, 0.0)
    assert gait(0.3, 0.0, 1.7) == (0.0, 0.0, 0.0, 0.0)
    left_arm, right_arm, left_leg, right_leg = gait(0.3, 1.0, 1.7)
    assert left_leg == -right_leg and left_arm == -right_arm and left_leg * left_arm < 0


def test_shipped_tracking_scenarios():
    walker = next(o for o in load_scenario('follow_person').objects if o.target)
    assert walker.class_name == 'person' and walker.speed > 0 and len(walker.path) >= 3
    crossing = load_scenario('crossing')
    assert crossing.target.class_name == 'ball' and any(o.path for o in crossing.objects)
    balls = [o for o in load_scenario('two_balls').objects if o.class_name == 'ball']
    assert len(balls) == 2 and sum(bool(o.path) for o in balls) == 1


@pytest.mark.parametrize(('item', 'match'), [
    ('{class: person, position: [1, 0], speed: 1.0}', 'need a `path`'),
    ('{class: person, position: [1, 0], path: [[2, 0]]}', 'a path needs a walking speed'),
    ('{class: person, position: [1, 0], path: [[2]], speed: 1.0}', r'path\[0\]: expected a list of 2'),
    ('{class: person, position: [1, 0], path: [], speed: 1.0}', 'expected a list of 1 to'),
    ('{class: person, position: [1, 0], path: [[2, 0]], speed: 9.0}', r'speed: 9.0 is out of range'),
    ('{class: person, position: [1, 0], path: [[2, 0]], speed: 1.0, loop: 1}', 'loop: expected true or'),
])
def test_bad_paths_are_refused(item, match):
    import yaml

    with pytest.raises(ConfigError, match=match):
        parse_scenario(yaml.safe_load(f'objects: [{item}]'), 'scene.yaml')


def test_a_walking_person_moves_with_a_stable_ground_truth_id():
    scenario = parse_scenario({'lighting': 'fixed', 'objects': [
        {'class': 'person', 'name': 'walker', 'position': [4.0, -1.0], 'path': [[4.0, 1.0]], 'speed': 0.5}]},
        'walk.yaml')
    seen = []
    with Simulator(scenario, seed=0, camera=CameraSpec(160, 120)) as sim:
        for _ in range(3):
            frame = sim.render()
            (truth,) = frame.truths
            seen.append((truth.name, truth.position[0]))
            sim.step(dt=1.0)
        index = sim.world.names.index('walker')
        assert sim.world.object_centre(index)[:2] == pytest.approx([4.0, 0.5], abs=1e-6)
    names, xs = zip(*seen, strict=True)
    assert set(names) == {'walker'}
    # Optical x is to the right: walking toward +y (the robot's left) moves it left in the image.
    assert xs[0] > xs[1] > xs[2] and xs[0] - xs[2] == pytest.approx(1.0, abs=0.05)
