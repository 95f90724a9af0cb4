"""camera_calibration_parsers YAML: loading, validation messages, URLs, scaling and CameraInfo."""

from pathlib import Path
import sys

import pytest
import yaml

from physical_ai.core.camera.calibration import Calibration, camera_info, load_calibration, parse_calibration
from physical_ai.core.errors import ConfigError

EXAMPLE = Path(__file__).resolve().parents[3] / 'config' / 'camera' / 'example_calibration.yaml'

VALID = {
    'image_width': 640, 'image_height': 480, 'camera_name': 'front',
    'camera_matrix': {'rows': 3, 'cols': 3, 'data': [500.0, 0.0, 320.0, 0.0, 510.0, 240.0, 0.0, 0.0, 1.0]},
    'distortion_model': 'plumb_bob',
    'distortion_coefficients': {'rows': 1, 'cols': 5, 'data': [-0.1, 0.01, 0.001, 0.002, 0.0]},
    'rectification_matrix': {'rows': 3, 'cols': 3, 'data': [1, 0, 0, 0, 1, 0, 0, 0, 1]},
    'projection_matrix': {'rows': 3, 'cols': 4, 'data': [490.0, 0, 321.0, 0, 0, 505.0, 241.0, 0, 0, 0, 1, 0]},
}


def test_shipped_example_loads():
    cal = load_calibration(str(EXAMPLE))
    assert (cal.width, cal.height, cal.camera_name) == (640, 480, 'usb_camera')
    assert cal.distortion_model == 'plumb_bob'
    assert cal.k[0] == pytest.approx(554.25) and len(cal.d) == 5 and len(cal.p) == 12


def test_file_url_and_package_url(tmp_path, monkeypatch):
    assert load_calibration(f'file://{EXAMPLE}').k == load_calibration(str(EXAMPLE)).k
    share = tmp_path / 'share' / 'my_robot' / 'calibration'
    share.mkdir(parents=True)
    (share / 'front.yaml').write_text(yaml.safe_dump(VALID))
    monkeypatch.setenv('AMENT_PREFIX_PATH', str(tmp_path))
    assert load_calibration('package://my_robot/calibration/front.yaml').camera_name == 'front'
    with pytest.raises(ConfigError, match='no file share/my_robot/missing.yaml in any ament prefix'):
        load_calibration('package://my_robot/missing.yaml')


def test_package_url_finds_this_package_in_the_venv_prefix():
    if not (Path(sys.prefix) / 'share' / 'physical_ai' / 'config').exists():
        pytest.skip('the venv is not an ament prefix (run make setup)')
    cal = load_calibration('package://physical_ai/config/camera/example_calibration.yaml')
    assert cal.camera_name == 'usb_camera'


def test_values_and_defaults():
    cal = parse_calibration(VALID)
    assert cal.k == (500.0, 0.0, 320.0, 0.0, 510.0, 240.0, 0.0, 0.0, 1.0)
    assert cal.r == (1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0)
    old_style = {k: v for k, v in VALID.items() if k != 'distortion_model'}
    assert parse_calibration(old_style).distortion_model == 'plumb_bob'


def _with(**changes):
    data = dict(VALID)
    for key, value in changes.items():
        if value is None:
            data.pop(key)
        else:
            data[key] = value
    return data


@pytest.mark.parametrize('data,why', [
    ([1, 2], 'expected a mapping, found list'),
    (_with(image_width=None), 'image_width is missing'),
    (_with(image_height=-4), 'image_height must be a positive integer'),
    (_with(image_width=640.5), 'image_width must be a positive integer'),
    (_with(camera_matrix=None), 'camera_matrix is missing'),
    (_with(camera_matrix=[1, 2, 3]), 'camera_matrix must be a mapping with rows, cols and data'),
    (_with(camera_matrix={'rows': 3, 'cols': 3, 'data': [1, 0, 0, 0, 1, 0, 0, 0]}), '3x3 but has 8 values'),
    (_with(camera_matrix={'rows': 2, 'cols': 3, 'data': [1] * 6}), 'must be 3x3, found 2x3'),
    (_with(camera_matrix={'rows': 3, 'cols': 3, 'data': [0, 0, 0, 0, 1, 0, 0, 0, 1]}), 'focal lengths'),
    (_with(camera_matrix={'rows': 3, 'cols': 3, 'data': ['a'] * 9}), "holds 'a', not a finite number"),
    (_with(distortion_model='fisheye'), "distortion_model 'fisheye' is not one of"),
    (_with(distortion_coefficients={'rows': 1, 'cols': 4, 'data': [0, 0, 0, 0]}),
     'plumb_bob needs 5 distortion coefficients, found 4'),
    (_with(distortion_coefficients=None), 'distortion_coefficients is missing'),
    (_with(projection_matrix={'rows': 3, 'cols': 3, 'data': [1] * 9}), 'projection_matrix must be 3x4'),
    (_with(rectification_matrix=None), 'rectification_matrix is missing'),
])
def test_invalid_calibrations_say_why(data, why):
    with pytest.raises(ConfigError, match=why):
        parse_calibration(data, 'front.yaml')


def test_file_errors_name_the_url(tmp_path):
    with pytest.raises(ConfigError, match="camera_info_url '/nope/cal.yaml': file /nope/cal.yaml does not"):
        load_calibration('/nope/cal.yaml')
    broken = tmp_path / 'broken.yaml'
    broken.write_text('image_width: 640\ncamera_matrix: [1, 2\n')
    with pytest.raises(ConfigError, match='is not valid YAML at line'):
        load_calibration(str(broken))
    with pytest.raises(ConfigError, match='unsupported URL scheme'):
        load_calibration('http://example.com/cal.yaml')


def test_scaling_follows_the_frame_size():
    cal = parse_calibration(VALID)
    assert cal.scaled(640, 480) is cal
    half = cal.scaled(320, 240)
    assert half.k == pytest.approx((250.0, 0.0, 160.0, 0.0, 255.0, 120.0, 0.0, 0.0, 1.0))
    assert half.p == pytest.approx((245.0, 0, 160.5, 0, 0, 252.5, 120.5, 0, 0, 0, 1, 0))
    assert half.d == cal.d and half.r == cal.r
    wide = cal.scaled(1280, 480)
    assert (wide.k[0], wide.k[2], wide.k[4], wide.k[5]) == (1000.0, 640.0, 510.0, 240.0)


def test_camera_info_calibrated_and_uncalibrated():
    info = camera_info(None, 800, 600)
    assert (info.width, info.height) == (800, 600)
    assert list(info.k) == [0.0] * 9 and list(info.p) == [0.0] * 12 and list(info.d) == []
    cal = Calibration(width=640, height=480, k=(500.0, 0, 320.0, 0, 500.0, 240.0, 0, 0, 1), d=(0.1,) * 5,
                      p=(500.0, 0, 320.0, 0, 0, 500.0, 240.0, 0, 0, 0, 1, 0))
    info = camera_info(cal, 1280, 960)
    assert info.distortion_model == 'plumb_bob' and list(info.d) == [0.1] * 5
    assert list(info.k) == [1000.0, 0, 640.0, 0, 1000.0, 480.0, 0, 0, 1]
