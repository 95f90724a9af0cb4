"""Camera intrinsics: fovy <-> focal length, CameraInfo, and agreement with what MuJoCo renders."""

import math

import pytest

from physical_ai.core.errors import ConfigError
from physical_ai.core.sim.camera import CameraSpec, camera_info_msg, camera_intrinsics, fovy_from_focal


def test_intrinsics_from_fovy():
    k = camera_intrinsics(640, 480, 60.0)
    assert k.fy == pytest.approx(240.0 / math.tan(math.radians(30.0)))
    assert k.fx == k.fy
    assert (k.cx, k.cy) == (320.0, 240.0)
    assert fovy_from_focal(k.fy, 480) == pytest.approx(60.0)


def test_fx_parameter_wins_over_fovy():
    values = {'camera_width': 320, 'camera_height': 240, 'camera_fovy': 60.0, 'camera_fx': 200.0}
    spec = CameraSpec.from_params(values)
    assert spec.intrinsics.fx == pytest.approx(200.0)
    assert spec.intrinsics.fy == pytest.approx(200.0)


def test_camera_info_message():
    msg = camera_info_msg(camera_intrinsics(320, 240, 90.0), 'cam')
    assert (msg.width, msg.height, msg.header.frame_id) == (320, 240, 'cam')
    assert list(msg.k) == pytest.approx([120.0, 0.0, 160.0, 0.0, 120.0, 120.0, 0.0, 0.0, 1.0])
    assert list(msg.p)[:3] == pytest.approx([120.0, 0.0, 160.0])
    assert list(msg.d) == [0.0] * 5


@pytest.mark.parametrize(('width', 'height'), [(4000, 3000), (1921, 1080), (1920, 1081), (8, 8)])
def test_sizes_beyond_the_offscreen_buffer_are_rejected(width, height):
    with pytest.raises(ConfigError, match=f'camera size {width}x{height} is not supported.*1920x1080'):
        CameraSpec(width, height)


def test_bad_fovy_and_focal():
    with pytest.raises(ConfigError, match='fovy'):
        CameraSpec(fovy=170.0)
    with pytest.raises(ConfigError, match='focal length'):
        fovy_from_focal(0.0, 480)
