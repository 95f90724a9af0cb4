"""The camera mount node over real DDS: the profile's mount on /tf_static, latched; bad mounts refused."""

import math

import pytest
from rclpy.parameter import Parameter
from rclpy.qos import DurabilityPolicy, QoSProfile
from tf2_msgs.msg import TFMessage

from physical_ai.core.errors import ConfigError
from physical_ai.core.profiles import load_profile
from physical_ai.nodes.camera_mount_node import CameraMountNode

LATCHED = QoSProfile(depth=1, durability=DurabilityPolicy.TRANSIENT_LOCAL)


def test_mount_is_latched_on_tf_static(ros):
    ros.add(CameraMountNode(context=ros.context, parameter_overrides=[
        Parameter('mount_xyz', value=[0.2, -0.05, 0.4]), Parameter('mount_rpy', value=[0.0, 0.3, 0.1]),
        Parameter('camera_frame', value='front_camera_optical')]))
    # Subscribed after the one publication: transient local delivers it.
    msg = ros.wait_for(TFMessage, '/tf_static', qos=LATCHED, timeout=10.0)[0]
    mount, optical = msg.transforms
    assert (mount.header.frame_id, mount.child_frame_id) == ('base_link', 'camera_link')
    assert (optical.header.frame_id, optical.child_frame_id) == ('camera_link', 'front_camera_optical')
    t, q = mount.transform.translation, mount.transform.rotation
    assert (t.x, t.y, t.z) == pytest.approx((0.2, -0.05, 0.4))
    assert math.hypot(q.x, q.y, q.z, q.w) == pytest.approx(1.0) and q.y > 0.1  # pitched down
    r = optical.transform.rotation
    assert (r.x, r.y, r.z, r.w) == pytest.approx((-0.5, 0.5, -0.5, 0.5))


@pytest.mark.parametrize(('overrides', 'message'), [
    ({'mount_xyz': [0.1, 0.2]}, r'camera mount: expected \[x, y, z\]'),
    ({'camera_link_frame': 'base_link'}, 'frame names must differ'),
    ({'base_frame': '/base_link'}, 'leading /'),
])
def test_bad_mount_is_a_clear_error(ros, overrides, message):
    with pytest.raises(ConfigError, match=message):
        params = [Parameter(k, value=v) for k, v in overrides.items()]
        CameraMountNode(context=ros.context, parameter_overrides=params)


def test_usb_profile_mounts_the_camera_in_its_image_frame():
    profile = load_profile('usb_camera_diffdrive')
    mount, camera = profile.node('camera_mount'), profile.node('camera')
    assert mount.executable == 'camera_mount_node'
    assert mount.parameters.get('camera_frame', 'camera_optical_frame') == \
        camera.parameters.get('frame_id', 'camera_optical_frame')
    assert len(mount.parameters['mount_xyz']) == 3
