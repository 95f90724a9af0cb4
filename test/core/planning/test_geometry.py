"""Bearing and distance estimates from pixel boxes and intrinsics."""

import math

import pytest

from physical_ai.core.errors import ConfigError
from physical_ai.core.planning.geometry import (
    Detection,
    GroundPlane,
    Intrinsics,
    bearing,
    estimate,
    format_class_heights,
    from_ground,
    from_height,
    parse_class_heights,
)

K = Intrinsics(fx=500.0, fy=500.0, cx=320.0, cy=240.0, width=640, height=480)


def project(intrinsics, point, pitch=0.0):
    """Project a point given in a level camera frame (x right, y down, z forward) to pixels."""
    x, y_l, z_l = point
    y = y_l * math.cos(pitch) - z_l * math.sin(pitch)
    z = y_l * math.sin(pitch) + z_l * math.cos(pitch)
    return intrinsics.cx + intrinsics.fx * x / z, intrinsics.cy + intrinsics.fy * y / z


@pytest.mark.parametrize('u,sign', [(100.0, 1), (319.0, 1), (320.0, 0), (321.0, -1), (600.0, -1)])
def test_bearing_is_positive_left_of_centre(u, sign):
    # REP 103: a target left of the image centre needs a left turn, i.e. positive angular z.
    value = bearing(u, K)
    assert (value > 0) - (value < 0) == sign
    assert value == pytest.approx(math.atan((320.0 - u) / 500.0))


def test_distance_from_known_height():
    det = Detection('person', 0.9, 320.0, 240.0, 100.0, 500.0 * 1.7 / 3.4)
    est = from_height(det, K, 1.7)
    assert est.distance == pytest.approx(3.4)
    assert est.position == pytest.approx((0.0, 0.0, 3.4))
    assert est.method == 'height' and not est.clipped
    # Off-centre: the range grows with the lateral offset, the bearing matches the box centre.
    est = from_height(Detection('ball', 0.9, 220.0, 240.0, 50.0, 50.0), K, 0.25)
    assert est.position[2] == pytest.approx(2.5)
    assert est.position[0] == pytest.approx(-0.5)
    assert est.distance == pytest.approx(math.hypot(0.5, 2.5))
    assert est.bearing == pytest.approx(bearing(220.0, K))


def test_box_filling_the_frame_is_flagged():
    tall = Detection('person', 0.9, 320.0, 240.0, 200.0, 480.0)
    est = from_height(tall, K, 1.7)
    assert est.clipped and est.fills_frame
    cut_top = Detection('person', 0.9, 320.0, 150.0, 200.0, 300.0)
    assert from_height(cut_top, K, 1.7).clipped and not from_height(cut_top, K, 1.7).fills_frame


@pytest.mark.parametrize('pitch', [0.0, 0.15, -0.05])
@pytest.mark.parametrize('lateral', [0.0, -0.6, 0.8])
def test_ground_plane_distance(pitch, lateral):
    height, ahead = 0.4, 2.5
    u, v = project(K, (lateral, height, ahead), pitch)
    det = Detection('ball', 0.9, u, v - 20.0, 40.0, 40.0)  # bottom edge on the floor point
    est = from_ground(det, K, GroundPlane(height, pitch))
    assert est is not None and est.method == 'ground'
    assert est.distance == pytest.approx(math.hypot(lateral, ahead))
    assert est.bearing == pytest.approx(math.atan2(-lateral, ahead))


def test_ground_plane_needs_a_ray_below_the_horizon():
    above = Detection('ball', 0.9, 320.0, 200.0, 40.0, 40.0)  # bottom at v=220 < cy
    assert from_ground(above, K, GroundPlane(0.5, 0.0)) is None
    # estimate() then falls back to the known height, and the reverse.
    assert estimate(above, K, 0.25, GroundPlane(0.5, 0.0), 'ground').method == 'height'
    below = Detection('ball', 0.9, 320.0, 330.0, 40.0, 40.0)
    assert estimate(below, K, None, GroundPlane(0.5, 0.0), 'height').method == 'ground'
    assert estimate(above, K, None, GroundPlane(0.5, 0.0), 'height') is None
    assert estimate(above, K, None, None, 'height') is None


def test_detection_problems():
    assert Detection('ball', 0.9, 320.0, 240.0, 10.0, 10.0).problem(K) is None
    assert 'non-finite' in Detection('ball', 0.9, math.nan, 240.0, 10.0, 10.0).problem()
    assert 'non-finite' in Detection('ball', math.inf, 320.0, 240.0, 10.0, 10.0).problem()
    assert 'empty box' in Detection('ball', 0.9, 320.0, 240.0, 0.0, 10.0).problem()
    assert 'empty class' in Detection('', 0.9, 320.0, 240.0, 10.0, 10.0).problem()
    assert 'negative score' in Detection('ball', -0.1, 320.0, 240.0, 10.0, 10.0).problem()
    assert 'outside' in Detection('ball', 0.9, 900.0, 240.0, 10.0, 10.0).problem(K)
    det = Detection.from_corners('box', 0.5, 10.0, 20.0, 50.0, 100.0)
    assert (det.cx, det.cy, det.width, det.height) == (30.0, 60.0, 40.0, 80.0)
    assert (det.top, det.bottom) == (20.0, 100.0)


def test_intrinsics():
    k = [500.0, 0.0, 320.0, 0.0, 510.0, 240.0, 0.0, 0.0, 1.0]
    assert Intrinsics.from_k(k, 640, 480) == Intrinsics(500.0, 510.0, 320.0, 240.0, 640, 480)
    assert Intrinsics.from_k(k, 640, 480).problem() is None
    assert 'not calibrated' in Intrinsics.from_k([0.0] * 9, 640, 480).problem()
    assert 'image size' in Intrinsics.from_k(k, 0, 0).problem()


def test_class_heights_parse_and_format():
    heights = parse_class_heights(['person:1.7', ' ball : 0.22', 'traffic:cone:0.5'])
    assert heights == {'person': 1.7, 'ball': 0.22, 'traffic:cone': 0.5}
    assert parse_class_heights(format_class_heights(heights)) == heights


@pytest.mark.parametrize('entry', ['person', 'person:', ':1.0', 'person:tall', 'person:-1', 'person:0',
                                   'person:nan', 'person:inf'])
def test_class_heights_bad_entry_named(entry):
    with pytest.raises(ConfigError, match=f'parameter class_heights: entry {entry!r} is not accepted'):
        parse_class_heights(['ball:0.2', entry])


def test_class_heights_duplicate():
    with pytest.raises(ConfigError, match="'ball' is listed twice"):
        parse_class_heights(['ball:0.2', 'ball:0.3'])
