"""The simulator core: exactly repeatable, intrinsics agree with the image, the base stops at obstacles."""

import math

import numpy as np
import pytest

from physical_ai.core.sim.camera import CameraSpec
from physical_ai.core.sim.robot import BaseLimits
from physical_ai.core.sim.scenario import load_scenario
from physical_ai.core.sim.simulator import Simulator
from physical_ai.core.sim.world import ROBOT_RADIUS

SMALL = CameraSpec(320, 240)
COMMANDS = [((0.6, 0.3), 0.7), ((0.4, -0.5), 0.4), (None, 0.3), ((0.0, 1.5), 0.25), ((0.8, 0.0), 0.6)]


def drive(seed, camera=SMALL):
    sim = Simulator('demo', seed=seed, camera=camera)
    for cmd, dt in COMMANDS:
        sim.step(cmd, dt)
    frame = sim.render()
    sim.close()
    return sim.state, frame


def test_same_seed_and_commands_give_the_same_run():
    state_a, frame_a = drive(5)
    state_b, frame_b = drive(5)
    assert state_a == state_b  # exact: pose, velocities, time
    assert state_a.x > 0.5 and state_a.linear > 0.0
    assert np.array_equal(frame_a.image, frame_b.image)
    assert frame_a.truths == frame_b.truths
    state_c, frame_c = drive(6)
    assert state_c.time == state_a.time
    assert not np.array_equal(frame_c.image, frame_a.image)


def scene(tmp_path, text):
    path = tmp_path / 'scene.yaml'
    path.write_text(text)
    return load_scenario(path)


def test_intrinsics_agree_with_the_rendered_image(tmp_path):
    scenario = scene(tmp_path, 'lighting: fixed\nobjects:\n'
                     '  - {class: ball, position: [3.0, 0.6], size: 0.3}\n'
                     '  - {class: cylinder, position: [5.0, -1.0], size: [0.3, 0.6]}\n')
    for camera in (CameraSpec(320, 240, 60.0), CameraSpec(640, 360, 45.0, pitch=0.1)):
        with Simulator(scenario, camera=camera) as sim:
            frame = sim.render()
            k = sim.intrinsics
            assert len(frame.truths) == 2
            for truth in frame.truths:
                u, v = k.project(*truth.position)
                cu, cv = truth.centre
                assert abs(u - cu) < 1.5 and abs(v - cv) < 1.5, (truth, u, v)
            ball = next(t for t in frame.truths if t.class_name == 'ball')
            x, y, z = ball.position
            assert math.hypot(x, z) == pytest.approx(math.hypot(3.0 - camera.mount_x, 0.6), abs=0.01)
            assert ball.size[0] == pytest.approx(k.fx * 0.3 / z, abs=2.0)


def test_base_stops_against_an_obstacle(tmp_path):
    scenario = scene(tmp_path, 'objects: [{class: box, position: [1.5, 0.0], size: [0.4, 0.6, 0.4], '
                     'yaw: 0.0}]\n')
    sim = Simulator(scenario, camera=SMALL, limits=BaseLimits(cmd_timeout=10.0))
    state = sim.step((0.5, 0.0), dt=5.0)
    assert state.contacts == ('box_0',)
    assert sim.bumps > 0
    assert state.linear == 0.0
    face = 1.5 - 0.2
    assert face - ROBOT_RADIUS - 0.01 < state.x < face - ROBOT_RADIUS + 0.01  # touching the face, not inside
    state = sim.step((-0.3, 0.0), dt=1.0)  # backing off is free
    assert state.contacts == () and state.x < 1.0


def test_odometry_is_relative_to_the_start_pose(tmp_path):
    scenario = scene(tmp_path, 'start_pose: [1.0, 2.0, 1.5707963]\n'
                     'objects: [{class: ball, position: [5, 5]}]\n')
    sim = Simulator(scenario, camera=SMALL)
    state = sim.step((0.5, 0.0), dt=0.2)
    for _ in range(9):
        state = sim.step((0.5, 0.0), dt=0.2)
    assert state.time == pytest.approx(2.0)
    assert state.odom_x > 0.5 and abs(state.odom_y) < 1e-6 and abs(state.odom_yaw) < 1e-6
    assert abs(state.x - 1.0) < 1e-6 and state.y - 2.0 == pytest.approx(state.odom_x)


def test_commands_time_out_in_sim_time():
    sim = Simulator('demo', camera=SMALL)
    sim.step((0.5, 0.0), dt=0.5)
    assert sim.state.linear > 0.0
    state = sim.step(None, dt=1.5)  # no new command for longer than cmd_timeout (0.5 s)
    assert state.linear == 0.0 and state.target == (0.0, 0.0)
    assert not sim.command(float('nan'), 0.0) and sim.ignored_commands == 1
