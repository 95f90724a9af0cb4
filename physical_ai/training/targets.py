"""CenterNet training targets: class heatmaps with elliptical gaussians, box sizes and centre offsets.

A box (x1, y1, x2, y2) in input pixels becomes, at output stride s: a peak of 1 at the cell holding
its centre, surrounded by a gaussian whose spread follows the box's width and height (TTFNet's
elliptical kernel, sigma = alpha * side / 6); the size (w, h) / s and the offset of the centre inside
the cell, both stored at that cell. `decode` in physical_ai.training.model is the inverse.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

GAUSSIAN_ALPHA = 0.54
MAX_OBJECTS = 64


@dataclass
class Targets:
    """Targets of one image: heatmap [C, H, W]; per object slot: index into H*W, size, offset, mask."""

    heatmap: np.ndarray  # float32 [C, H, W]
    index: np.ndarray  # int64 [M] cell index y * W + x
    size: np.ndarray  # float32 [M, 2] (w, h) in cells
    offset: np.ndarray  # float32 [M, 2] centre - cell, in cells, in [0, 1)
    mask: np.ndarray  # float32 [M] 1 for a real object


def draw_gaussian(heatmap: np.ndarray, cx: int, cy: int, sigma_x: float, sigma_y: float) -> None:
    """Raise `heatmap` [H, W] to an elliptical gaussian peaking at 1 on cell (cx, cy), in place (max)."""
    height, width = heatmap.shape
    rx, ry = max(1, int(3 * sigma_x)), max(1, int(3 * sigma_y))
    x0, x1 = max(0, cx - rx), min(width, cx + rx + 1)
    y0, y1 = max(0, cy - ry), min(height, cy + ry + 1)
    if x0 >= x1 or y0 >= y1:
        return
    xs = np.arange(x0, x1, dtype=np.float32) - cx
    ys = np.arange(y0, y1, dtype=np.float32) - cy
    kernel = np.exp(-(xs[None, :] ** 2) / (2 * sigma_x ** 2) - (ys[:, None] ** 2) / (2 * sigma_y ** 2))
    region = heatmap[y0:y1, x0:x1]
    np.maximum(region, kernel, out=region)


def encode(boxes: np.ndarray, classes: np.ndarray, input_size: tuple[int, int], num_classes: int,
           stride: int = 4, max_objects: int = MAX_OBJECTS, alpha: float = GAUSSIAN_ALPHA) -> Targets:
    """Return the targets of boxes [N, 4] xyxy in input pixels with class indices [N].

    Boxes whose centre lies outside the input are skipped; the largest boxes are drawn first so that
    a small object's peak is never hidden. At most `max_objects` boxes are kept (largest dropped last).
    """
    height, width = input_size[0] // stride, input_size[1] // stride
    heatmap = np.zeros((num_classes, height, width), np.float32)
    index = np.zeros(max_objects, np.int64)
    size = np.zeros((max_objects, 2), np.float32)
    offset = np.zeros((max_objects, 2), np.float32)
    mask = np.zeros(max_objects, np.float32)
    boxes = np.asarray(boxes, np.float32).reshape(-1, 4)
    classes = np.asarray(classes, np.int64).reshape(-1)
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    slot = 0
    for i in np.argsort(-areas, kind='stable'):
        if slot >= max_objects:
            break
        x1, y1, x2, y2 = boxes[i] / stride
        w, h = x2 - x1, y2 - y1
        if w <= 0 or h <= 0:
            continue
        cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
        ix, iy = int(np.floor(cx)), int(np.floor(cy))
        if not (0 <= ix < width and 0 <= iy < height):
            continue
        draw_gaussian(heatmap[classes[i]], ix, iy, max(alpha * w / 6, 0.25), max(alpha * h / 6, 0.25))
        heatmap[classes[i], iy, ix] = 1.0
        index[slot] = iy * width + ix
        size[slot] = (w, h)
        offset[slot] = (cx - ix, cy - iy)
        mask[slot] = 1.0
        slot += 1
    return Targets(heatmap, index, size, offset, mask)
