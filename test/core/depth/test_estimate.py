"""Per-object depth: surface clusters, back-projection, encodings; checked on rendered depth too."""

import math

import numpy as np
import pytest

from physical_ai.core.depth.estimate import (
    Camera,
    DepthSettings,
    box_region,
    locate,
    parse_class_depths,
    surface_depth,
    to_metres,
)
from physical_ai.core.errors import ConfigError, ImageError

CAMERA = Camera(200.0, 200.0, 80.0, 60.0, 160, 120, 'camera_optical_frame')


def test_16uc1_millimetres_and_32fc1_metres_mark_invalid_pixels_nan():
    mm = np.array([[0, 1500], [65535, 250]], dtype=np.uint16)
    metres = to_metres(mm, '16UC1')
    assert np.isnan(metres[0, 0]) and metres[0, 1] == pytest.approx(1.5)
    assert metres[1, 1] == pytest.approx(0.25)
    floats = to_metres(np.array([[np.nan, np.inf], [-1.0, 2.0]], dtype=np.float32), '32FC1')
    assert np.isnan(floats[:, 0]).all() and np.isnan(floats[0, 1]) and floats[1, 1] == 2.0
    with pytest.raises(ImageError, match='rgb8 is not supported|REP 118'):
        to_metres(mm, 'rgb8')


def test_the_nearest_substantial_surface_wins_over_the_background_majority():
    # 30 % object at 2.0-2.1 m, 70 % wall at 5 m, a few specks of noise in front.
    rng = np.random.default_rng(0)
    values = np.concatenate([rng.uniform(2.0, 2.1, 300), np.full(700, 5.0), [0.5, 0.6]])
    front, pixels = surface_depth(values, DepthSettings())
    assert 2.0 <= front <= 2.02 and pixels == 300
    assert float(np.median(values)) == 5.0  # what a plain median would have said


def test_too_few_valid_pixels_give_no_depth():
    values = np.array([np.nan] * 50 + [3.0] * 5, dtype=np.float32)
    assert surface_depth(values, DepthSettings(min_pixels=10)) is None
    assert surface_depth(np.full(20, 50.0), DepthSettings(max_range=20.0)) is None


def test_a_ball_is_located_at_its_centre():
    # A sphere of radius 0.2 m centred at (0.3, 0.1, 3.0), rendered analytically into a z-buffer.
    r, c = 0.2, np.array([0.3, 0.1, 3.0])
    u, v = np.meshgrid(np.arange(160) + 0.5, np.arange(120) + 0.5)
    rays = np.stack([(u - CAMERA.cx) / CAMERA.fx, (v - CAMERA.cy) / CAMERA.fy, np.ones_like(u)], -1)
    a = (rays ** 2).sum(-1)
    b = -2 * rays @ c
    disc = b * b - 4 * a * (c @ c - r * r)
    depth = np.full(u.shape, 8.0, dtype=np.float32)  # a wall behind
    hit = disc >= 0
    depth[hit] = ((-b[hit] - np.sqrt(disc[hit])) / (2 * a[hit])).astype(np.float32)
    rows, cols = np.nonzero(hit)
    x1, x2, y1, y2 = cols.min(), cols.max() + 1, rows.min(), rows.max() + 1
    cx, cy, w, h = (x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1
    obj = locate(box_region(depth, cx, cy, w, h), CAMERA, 'ball', cx, cy, w, h, DepthSettings())
    assert math.dist(obj.centre, c) < 0.03
    assert obj.size[0] == pytest.approx(2 * r, abs=0.03) and obj.size[2] == pytest.approx(2 * r, abs=0.03)


def test_a_class_depth_sets_the_extent_behind_the_surface():
    depth = np.full((120, 160), 4.0, dtype=np.float32)
    settings = DepthSettings(class_depths={'person': 0.3})
    obj = locate(box_region(depth, 80, 60, 40, 100), CAMERA, 'person', 80, 60, 40, 100, settings)
    assert obj.centre == pytest.approx((0.0, 0.0, 4.15)) and obj.size[2] == 0.3


def test_box_region_is_clipped_to_the_image_and_subsampled():
    depth = np.ones((1000, 1000), dtype=np.float32)
    assert box_region(depth, -50, -50, 20, 20).size == 0
    assert 5000 <= box_region(depth, 500, 500, 2000, 2000).size <= 20000


def test_class_depths_parse_and_reject():
    assert parse_class_depths(['person:0.3', '', 'box: 0.45']) == {'person': 0.3, 'box': 0.45}
    with pytest.raises(ConfigError, match='person:deep'):
        parse_class_depths(['person:deep'])
    with pytest.raises(ConfigError, match='calibrated'):
        Camera.from_k([0.0] * 9, 160, 120)
