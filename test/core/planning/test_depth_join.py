"""Joining detections_3d to the 2D detections of a frame: by id, else by the box the centre projects into."""

import math

import pytest

from physical_ai.core.planning import Planner, PlannerConfig
from physical_ai.core.planning.depth_join import Object3D, join
from physical_ai.core.planning.geometry import Detection, Intrinsics

K = Intrinsics(500.0, 500.0, 320.0, 240.0, 640, 480)
LEFT = Detection('ball', 0.9, 200.0, 240.0, 40.0, 40.0)
RIGHT = Detection('ball', 0.8, 440.0, 240.0, 40.0, 40.0)


def test_ids_join_first_whatever_the_projection():
    # The 3D object of id "b" projects onto the left box, but it is the right box's id.
    objects = [Object3D('b', 'ball', (-0.48, 0.0, 2.0))]
    out, joined = join([('a', LEFT), ('b', RIGHT)], objects, K)
    assert joined == 1 and out[0].depth is None and out[1].position == (-0.48, 0.0, 2.0)
    assert out[1].depth == pytest.approx(math.hypot(0.48, 2.0))


def test_without_ids_the_centre_projected_into_a_box_of_its_class_joins():
    objects = [Object3D('', 'ball', (0.48, 0.0, 2.0)), Object3D('', 'person', (-0.48, 0.0, 2.0)),
               Object3D('', 'ball', (0.0, 0.0, -1.0))]  # behind the camera: unusable
    out, joined = join([('', LEFT), ('', RIGHT)], objects, K)
    assert joined == 1 and out[0].depth is None and out[1].position == (0.48, 0.0, 2.0)


def test_pitch_gives_the_horizontal_range():
    out, _ = join([('', Detection('ball', 0.9, 320.0, 240.0, 40.0, 40.0))],
                  [Object3D('', 'ball', (0.0, 0.0, 2.0))], K, pitch=0.3)
    assert out[0].depth == pytest.approx(2.0 * math.cos(0.3))


def test_planner_with_distance_method_depth_uses_the_measured_position():
    planner = Planner(PlannerConfig.from_params({'distance_method': 'depth'}))
    planner.set_intrinsics(K)
    measured, _ = join([('', Detection('ball', 0.9, 320.0, 240.0, 41.7, 41.7))],
                       [Object3D('', 'ball', (0.0, 0.0, 2.2))], K)
    planner.observe(measured, 1.0)
    assert planner.target.raw_distance == pytest.approx(2.2) and planner.target.method == 'depth'
    planner.observe([Detection('ball', 0.9, 320.0, 240.0, 41.7, 41.7)], 1.1)  # none: by its height
    assert planner.target.raw_distance == pytest.approx(3.0, abs=0.01) and planner.target.method == 'height'
