"""Boxes from segmentation: exact extents, occlusion, thresholds; valid ids with antialiasing."""

import threading

import numpy as np
import pytest

from physical_ai.core.sim import gl
from physical_ai.core.sim.camera import CameraSpec
from physical_ai.core.sim.render import SceneRenderer, boxes_from_labels, labels_from_id_colours
from physical_ai.core.sim.scenario import load_scenario
from physical_ai.core.sim.world import World, sample_world

mujoco = gl.load_mujoco()


def test_boxes_from_labels():
    labels = np.full((10, 20), -1, dtype=np.int32)
    labels[2:5, 3:9] = 0
    labels[0:10, 19] = 2  # touches the border: box ends at the width
    labels[7, 7] = 1  # a single pixel
    boxes = boxes_from_labels(labels, 3)
    assert boxes == {0: (3, 2, 9, 5, 18), 1: (7, 7, 8, 8, 1), 2: (19, 0, 20, 10, 10)}
    assert set(boxes_from_labels(labels, 3, min_pixels=2)) == {0, 2}
    assert boxes_from_labels(np.full((4, 4), -1, dtype=np.int32), 3) == {}


def test_labels_from_id_colours_reads_all_three_bytes_beyond_255():
    def colour(value):
        return value & 0xFF, (value >> 8) & 0xFF, (value >> 16) & 0xFF

    colours = np.zeros((2, 3, 3), dtype=np.uint8)
    colours[0, 0], colours[0, 1], colours[1, 2] = colour(3), colour(300), colour(70_000)
    colours[1, 0] = colour(44)  # drawn, but not an object (e.g. the floor)
    labels = labels_from_id_colours(colours, [(3, 0), (300, 1), (70_000, 2), (44, -1)])
    assert labels.tolist() == [[0, 1, -1], [-1, -1, 2]]
    small = labels_from_id_colours(colours[:1, :1], [(3, 5)])  # below 256: the red byte alone
    assert small.tolist() == [[5]]


@pytest.fixture(scope='module')
def demo_world():
    return World(sample_world(load_scenario('demo'), 0, CameraSpec(320, 240, samples=4)))


def test_render_and_truths(demo_world):
    renderer = SceneRenderer(demo_world)
    try:
        rgb, truths = renderer.render()
        assert rgb.shape == (240, 320, 3) and rgb.dtype == np.uint8
        assert rgb.std() > 10.0
        names = {t.name for t in truths}
        assert 'ball_0' in names  # the target, straight ahead
        for t in truths:
            x1, y1, x2, y2 = t.box
            assert 0 <= x1 < x2 <= 320 and 0 <= y1 < y2 <= 240
            assert t.pixels <= (x2 - x1) * (y2 - y1)
            assert t.position[2] > 0.0  # in front of the camera
        # With 4x multisampling the segmentation ids still decode to geoms (no blended colours).
        renderer._renderer.enable_segmentation_rendering()
        segmentation = renderer._renderer.render()
        renderer._renderer.disable_segmentation_rendering()
        ids = np.unique(segmentation[..., 0])
        assert ids.min() >= -1 and ids.max() < demo_world.model.ngeom
        # The renderer's own decoding of the pass gives what mujoco.Renderer's does, pixel for pixel.
        is_geom = segmentation[..., 1] == int(mujoco.mjtObj.mjOBJ_GEOM)
        expected = np.where(is_geom, demo_world.geom_object[segmentation[..., 0]], -1)
        labels = renderer._render_labels()
        assert np.array_equal(labels, expected) and len(np.unique(labels)) >= 3
        assert renderer.truths_of_labels(expected) == truths
        rgb_only, none = renderer.render(ground_truth=False)
        assert none == () and np.array_equal(rgb_only, rgb)
    finally:
        renderer.close()


def test_renderer_refuses_other_threads(demo_world):
    renderer = SceneRenderer(demo_world)
    errors = []

    def other():
        try:
            renderer.render()
        except RuntimeError as err:
            errors.append(str(err))

    thread = threading.Thread(target=other)
    thread.start()
    thread.join()
    renderer.close()
    assert errors and 'thread' in errors[0]


def test_depth_of_the_colour_pass_is_metric_z_against_the_ground_truth():
    # The floor and the ball (a sphere) have closed-form depths.
    spec = sample_world(load_scenario('demo'), 0, CameraSpec(320, 240))
    world = World(spec)
    renderer = SceneRenderer(world)
    try:
        rendered = renderer.render_all(ground_truth=True, depth=True)
        rgb_only, _ = renderer.render(ground_truth=True)
    finally:
        renderer.close()
    depth, k = rendered.depth, spec.camera.intrinsics
    assert depth.shape == (240, 320) and depth.dtype == np.float32
    assert np.array_equal(rendered.rgb, rgb_only)  # reading depth changes nothing of the image
    assert np.isnan(depth[0]).all()  # the sky: nothing hit
    # The floor below the horizon, the camera level at 0.3 m: z = h fy / (v + 0.5 - cy).
    for v in (200, 239):
        row = depth[v, :20]
        assert np.nanmedian(row) == pytest.approx(0.3 * k.fy / (v + 0.5 - k.cy), rel=1e-4)
    # Each ball's front surface: the depth at its centre pixel is the centre's depth less the radius.
    for truth in rendered.truths:
        if truth.class_name != 'ball':
            continue
        x, y, z = truth.position
        u, v = k.project(x, y, z)
        radius = truth.extent[0] / 2
        ray = np.array([(int(u) + 0.5 - k.cx) / k.fx, (int(v) + 0.5 - k.cy) / k.fy, 1.0])
        # Where the pixel's ray meets the sphere (nearest root), in z.
        c = np.array([x, y, z])
        b, cc = ray @ c, c @ c - radius * radius
        a = ray @ ray
        expected = (b - np.sqrt(b * b - a * cc)) / a
        assert depth[int(v), int(u)] == pytest.approx(expected, abs=2e-3)
