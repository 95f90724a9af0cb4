"""The seeded world: same seed, same world; sizes and colours drawn around the classes' nominal values."""

import pytest

from physical_ai.core.sim.camera import CameraSpec
from physical_ai.core.sim.scenario import load_scenario
from physical_ai.core.sim.world import NOMINAL_HEIGHTS, World, sample_world, world_xml


def test_same_seed_same_world():
    demo = load_scenario('demo')
    a, b = sample_world(demo, 7), sample_world(demo, 7)
    assert a == b and world_xml(a) == world_xml(b)
    c = sample_world(demo, 8)
    assert c != a
    assert [o.class_name for o in c.objects] == [o.class_name for o in a.objects]


def test_positions_stay_within_jitter_and_sizes_near_nominal():
    demo = load_scenario('demo')
    for seed in range(20):
        spec = sample_world(demo, seed)
        for entry, obj in zip(demo.objects, spec.objects, strict=True):
            jitter = demo.jitter if entry.jitter is None else entry.jitter
            assert abs(obj.x - entry.position[0]) <= jitter + 1e-6
            assert abs(obj.y - entry.position[1]) <= jitter + 1e-6
            assert obj.height == pytest.approx(NOMINAL_HEIGHTS[obj.class_name], rel=0.2)
            assert all(0.0 <= c <= 1.0 for colour in obj.colours for c in colour)
        assert spec.target == 'ball_0'


def test_world_compiles_with_an_articulated_person_and_a_camera(tmp_path):
    path = tmp_path / 'crowd.yaml'
    path.write_text('objects: [{class: person, position: [3, 0]}]\n'
                    'random_objects: {count: 6, classes: [person, ball, box, cylinder]}\n')
    spec = sample_world(load_scenario(path), 3, CameraSpec(320, 240))
    assert len(spec.objects) == 7
    world = World(spec)
    assert world.model.vis.global_.offwidth == 320 and world.model.vis.global_.offheight == 240
    person_joints = [world.model.joint(i).name for i in range(world.model.njnt)
                     if world.model.joint(i).name.startswith('person_0/')]
    assert sorted(person_joints) == ['person_0/left_hip', 'person_0/left_shoulder', 'person_0/right_hip',
                                     'person_0/right_shoulder']
    # Random objects keep clear of each other and of the robot's start.
    assert world.robot_contacts() == ()
