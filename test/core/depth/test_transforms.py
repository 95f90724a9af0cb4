"""The small TF buffer: chains, interpolation, static transforms, errors."""

import math

import numpy as np
import pytest

from physical_ai.core.depth.transforms import TransformBuffer, TransformError, quaternion_from_matrix
from physical_ai.core.frames import OPTICAL_ROTATION, yaw_quaternion


def point(matrix, p):
    return matrix[:3, :3] @ np.asarray(p, float) + matrix[:3, 3]


def test_optical_point_into_odom_through_static_and_timed_transforms():
    tf = TransformBuffer()
    assert tf.set_transform('base_link', 'camera_link', 0.0, (0.17, 0.0, 0.3), (0, 0, 0, 1), static=True)
    tf.set_transform('camera_link', 'camera_optical_frame', 0.0, (0, 0, 0), OPTICAL_ROTATION, static=True)
    tf.set_transform('odom', 'base_link', 1.0, (0.0, 0.0, 0.0), yaw_quaternion(0.0))
    tf.set_transform('odom', 'base_link', 2.0, (1.0, 0.0, 0.0), yaw_quaternion(math.pi / 2))
    # 2 m ahead of the camera (optical z) at t = 1.5: base at x 0.5, turned 45 degrees.
    m = tf.lookup('odom', 'camera_optical_frame', 1.5)
    ahead = 2.17
    assert point(m, (0, 0, 2.0)) == pytest.approx((0.5 + ahead * math.cos(math.pi / 4),
                                                   ahead * math.sin(math.pi / 4), 0.3), abs=1e-6)
    back = tf.lookup('camera_optical_frame', 'odom', 1.5)
    assert point(back, point(m, (0.1, 0.2, 3.0))) == pytest.approx((0.1, 0.2, 3.0))


def test_unknown_frames_old_times_and_bad_transforms():
    tf = TransformBuffer(tolerance=0.1)
    tf.set_transform('odom', 'base_link', 5.0, (0, 0, 0), (0, 0, 0, 1))
    with pytest.raises(TransformError, match='not in one tree'):
        tf.lookup('map', 'base_link', 5.0)
    with pytest.raises(TransformError, match='5.000 to 5.000'):
        tf.lookup('odom', 'base_link', 7.0)
    assert not tf.set_transform('odom', 'x', 1.0, (math.nan, 0, 0), (0, 0, 0, 1))
    assert not tf.set_transform('odom', 'y', 1.0, (0, 0, 0), (0, 0, 0, 0))
    assert tf.rejected == 2


def test_quaternion_of_a_matrix_round_trips():
    tf = TransformBuffer()
    tf.set_transform('a', 'b', 0.0, (0, 0, 0), OPTICAL_ROTATION, static=True)
    q = quaternion_from_matrix(tf.lookup('a', 'b', 0.0)[:3, :3])
    assert q == pytest.approx(OPTICAL_ROTATION) or q == pytest.approx(tuple(-c for c in OPTICAL_ROTATION))
