import cv2
import numpy as np
import pytest

from physical_ai.core.detection.preprocess import Preprocessor
from physical_ai.training import data


def bright_box(image):
    ys, xs = np.nonzero(image.max(axis=2) > 200)
    return np.array([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1], np.float32)


@pytest.mark.parametrize(('shape', 'scale', 'pad'), [((480, 640), 0.5, (0, 0)), ((360, 640), 0.5, (0, 30))])
def test_letterbox_matches_the_inference_node(shape, scale, pad):
    image = np.random.default_rng(0).integers(0, 255, (*shape, 3), dtype=np.uint8)
    boxes = np.array([[100, 50, 300, 250]], np.float32)
    rgb, placed = data.letterbox(image, boxes, (240, 320))
    node, where = Preprocessor((240, 320), pad_value=data.PAD_VALUE).place(image)
    np.testing.assert_array_equal(rgb, node[:, :, ::-1])
    assert (where.pad_x, where.pad_y) == pad
    np.testing.assert_allclose(placed, boxes * scale + [pad[0], pad[1]] * 2)


@pytest.mark.parametrize('seed', range(6))
def test_augmented_boxes_follow_the_pixels(seed):
    image = np.zeros((96, 128, 3), np.uint8)
    cv2.rectangle(image, (30, 20), (69, 59), (255, 255, 255), -1)
    boxes = np.array([[30, 20, 70, 60]], np.float32)
    augment = data.Augment(hue=0, saturation=0, value=0, scale=(0.6, 1.6), translate=0.1)
    out, moved, classes = augment(image, boxes, np.array([2]), np.random.default_rng(seed))
    assert out.shape == image.shape and out.dtype == np.uint8
    if len(moved):
        np.testing.assert_allclose(moved[0], bright_box(out), atol=1.5)
        assert classes.tolist() == [2]
    np.testing.assert_array_equal(boxes, [[30, 20, 70, 60]])  # input untouched


def test_boxes_pushed_out_of_the_frame_are_dropped():
    image = np.zeros((96, 128, 3), np.uint8)
    boxes = np.array([[0, 0, 10, 10], [50, 40, 70, 60]], np.float32)
    augment = data.Augment(scale=(1.0, 1.0), translate=0.0, flip=0.0)
    _, kept, classes = augment(image, boxes, np.array([0, 1]), np.random.default_rng(0))
    assert len(kept) == 2
    shifted = data.Augment(scale=(1.0, 1.0), translate=0.0, flip=1.0)
    _, flipped, _ = shifted(image, boxes, np.array([0, 1]), np.random.default_rng(0))
    np.testing.assert_allclose(flipped, [[118, 0, 128, 10], [58, 40, 78, 60]], atol=1e-4)


def test_frames_save_load_and_dataset_items(tmp_path, draw_scene):
    rng = np.random.default_rng(1)
    frames = data.frames_from([draw_scene(rng) for _ in range(5)], input_size=(96, 128))
    path = tmp_path / 'frames.npz'
    frames.save(str(path))
    again = data.Frames.load(str(path))
    np.testing.assert_array_equal(again.images, frames.images)
    for a, b in zip(again.boxes, frames.boxes, strict=True):
        np.testing.assert_array_equal(a, b)
    dataset = data.DetectionDataset(again, data.Augment(), max_objects=8)
    image, heatmap, index, size, offset, mask = dataset[3]
    assert image.shape == (3, 96, 128) and heatmap.shape == (4, 24, 32)
    assert index.shape == (8,) and size.shape == (8, 2) and offset.shape == (8, 2)
    assert int(mask.sum()) == int((heatmap == 1).sum())
    np.testing.assert_array_equal(dataset[3][0].numpy(), image.numpy())  # same epoch: same augmentation
    dataset.epoch = 1
    assert not np.array_equal(dataset[3][0].numpy(), image.numpy())
    normalised = data.normalise(image[None])
    assert normalised.shape == (1, 3, 96, 128) and float(normalised.min()) >= -2.0
