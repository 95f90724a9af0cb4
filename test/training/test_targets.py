import numpy as np
import pytest
import torch

from physical_ai.training.model import decode
from physical_ai.training.targets import draw_gaussian, encode


def _maps(targets, height, width):
    """Scatter the per-object size and offset targets into [1, 2, H, W] maps, as the network would output."""
    size = np.zeros((2, height * width), np.float32)
    offset = np.zeros((2, height * width), np.float32)
    live = targets.mask > 0
    size[:, targets.index[live]] = targets.size[live].T
    offset[:, targets.index[live]] = targets.offset[live].T
    shape = (1, 2, height, width)
    return torch.from_numpy(size).view(shape), torch.from_numpy(offset).view(shape)


@pytest.mark.parametrize('stride', [4, 8])
def test_encode_decode_round_trip(stride):
    boxes = np.array([[10.3, 20.7, 50.1, 90.9], [100.0, 40.0, 108.0, 47.5], [200.2, 10.0, 300.0, 230.0]],
                     np.float32)
    classes = np.array([0, 1, 3])
    targets = encode(boxes, classes, (240, 320), num_classes=4, stride=stride)
    height, width = 240 // stride, 320 // stride
    assert targets.heatmap.shape == (4, height, width)
    assert targets.mask.sum() == 3
    assert targets.heatmap.max() == 1.0 and targets.heatmap.min() == 0.0
    size, offset = _maps(targets, height, width)
    out = decode(torch.from_numpy(targets.heatmap)[None], size, offset, stride=stride, top_k=100)
    assert out.shape == (100, 6)
    found = out[out[:, 4] == 1.0]
    assert len(found) == 3
    order = torch.argsort(found[:, 5])
    np.testing.assert_allclose(found[order, :4].numpy(), boxes, atol=1e-4)
    np.testing.assert_array_equal(found[order, 5].numpy(), classes)


def test_peaks_are_the_object_cells_only():
    targets = encode(np.array([[40, 40, 120, 200]], np.float32), np.array([2]), (240, 320), 4)
    hm = targets.heatmap
    assert np.count_nonzero(hm == 1.0) == 1
    assert hm[[0, 1, 3]].max() == 0.0
    y, x = np.unravel_index(np.argmax(hm[2]), hm[2].shape)
    assert (x, y) == (20, 30)  # centre (80, 120) / 4
    assert targets.index[0] == 30 * 80 + 20
    # Tall box: the gaussian spreads further vertically than horizontally.
    assert hm[2, 30 + 5, 20] > hm[2, 30, 20 + 5]


def test_boxes_outside_or_empty_are_skipped_and_slots_capped():
    boxes = np.array([[-50, -50, -10, -10], [5, 5, 5, 9], [10, 10, 20, 20]], np.float32)
    targets = encode(boxes, np.array([0, 0, 1]), (64, 64), 2)
    assert targets.mask.sum() == 1 and targets.heatmap[0].max() == 0.0
    many = np.array([[i * 4, 0, i * 4 + 3, 3] for i in range(16)], np.float32)
    capped = encode(many, np.zeros(16, np.int64), (64, 64), 1, max_objects=5)
    assert capped.mask.sum() == 5


def test_gaussian_keeps_the_maximum_where_objects_overlap():
    heatmap = np.zeros((10, 10), np.float32)
    draw_gaussian(heatmap, 3, 3, 2.0, 2.0)
    draw_gaussian(heatmap, 5, 3, 2.0, 2.0)
    assert heatmap[3, 3] == 1.0 and heatmap[3, 5] == 1.0
    assert 0.0 < heatmap[3, 4] < 1.0
    assert heatmap[3, 4] == pytest.approx(np.exp(-1 / 8))


def test_decode_suppresses_neighbours_of_a_peak():
    heatmap = torch.zeros(1, 2, 8, 8)
    heatmap[0, 0, 4, 4] = 0.9
    heatmap[0, 0, 4, 5] = 0.8  # next to a stronger peak: suppressed
    heatmap[0, 1, 4, 5] = 0.7  # other class, same cell: kept
    out = decode(heatmap, torch.ones(1, 2, 8, 8), torch.zeros(1, 2, 8, 8), stride=4, top_k=3)
    assert out[:, 4].tolist() == pytest.approx([0.9, 0.7, 0.0])
    assert out[0].tolist() == pytest.approx([14.0, 14.0, 18.0, 18.0, 0.9, 0.0])
    assert out[1, 5] == 1.0
