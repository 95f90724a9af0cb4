"""The simulated robot's frames and URDF: one mount, the same in /tf_static and robot_description."""

import math
import xml.etree.ElementTree as ET

import pytest

from physical_ai.core.frames import OPTICAL_ROTATION, Frames, rpy_quaternion, static_tf_msg, yaw_quaternion
from physical_ai.core.sim.camera import CameraSpec
from physical_ai.core.sim.description import robot_urdf
from physical_ai.core.sim.frames import camera_mount


@pytest.mark.parametrize('pitch', [0.0, 0.3, -0.2])
def test_mount_rotations_agree_with_their_rpy(pitch):
    mount, optical = camera_mount(CameraSpec(mount_z=0.5, pitch=pitch))
    assert mount.translation == (0.17, 0.0, 0.5)
    assert rpy_quaternion(*mount.rpy) == pytest.approx(mount.rotation)
    assert rpy_quaternion(*optical.rpy) == pytest.approx(OPTICAL_ROTATION)
    assert yaw_quaternion(math.pi) == pytest.approx((0.0, 0.0, 1.0, 0.0))
    assert rpy_quaternion(0.0, 0.0, 0.7) == pytest.approx(yaw_quaternion(0.7))
    half = pitch / 2
    assert rpy_quaternion(0.0, pitch, 0.0) == pytest.approx((0.0, math.sin(half), 0.0, math.cos(half)))


def test_urdf_joints_are_the_static_transforms():
    camera = CameraSpec(mount_z=0.45, pitch=0.25)
    frames = Frames('odom', 'base', 'cam', 'cam_optical')
    robot = ET.fromstring(robot_urdf(camera, frames))
    links = {link.get('name') for link in robot.iter('link')}
    assert links == {'base', 'cam', 'cam_optical'}
    joints = [(j.get('type'), j.find('parent').get('link'), j.find('child').get('link'),
               [float(v) for v in j.find('origin').get('xyz').split()],
               [float(v) for v in j.find('origin').get('rpy').split()]) for j in robot.iter('joint')]
    for (kind, parent, child, xyz, rpy), fixed in zip(joints, camera_mount(camera, frames), strict=True):
        assert (kind, parent, child) == ('fixed', fixed.parent, fixed.child)
        assert xyz == pytest.approx(fixed.translation) and rpy == pytest.approx(fixed.rpy, abs=1e-5)
    static = static_tf_msg(camera_mount(camera, frames), 1_500_000_000)
    assert [(t.header.frame_id, t.child_frame_id) for t in static.transforms] == [('base', 'cam'),
                                                                                 ('cam', 'cam_optical')]
    assert static.transforms[0].header.stamp.sec == 1 and static.transforms[0].transform.translation.z == 0.45
