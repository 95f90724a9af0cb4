"""Fixtures of the training tests: tiny drawn scenes, one coloured shape per class on a grey floor."""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np
import pytest


def scene(rng: np.random.Generator, height: int = 96, width: int = 128,
          objects: int = 3) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (BGR image, boxes [n, 4] xyxy in pixels, class indices [n]) of non-overlapping shapes."""
    image = np.full((height, width, 3), 90, np.uint8)
    boxes, classes = [], []
    cells = rng.permutation(4)[:objects]
    for cell in cells:
        cls = int(rng.integers(0, 4))
        x0 = (cell % 2) * width // 2
        y0 = (cell // 2) * height // 2
        w = int(rng.integers(12, width // 2 - 4))
        h = int(rng.integers(12, height // 2 - 4))
        x1 = x0 + int(rng.integers(2, width // 2 - w))
        y1 = y0 + int(rng.integers(2, height // 2 - h))
        if cls == 0:  # person: a tall dark-blue bar
            w = max(6, w // 3)
            cv2.rectangle(image, (x1, y1), (x1 + w - 1, y1 + h - 1), (140, 40, 20), -1)
        elif cls == 1:  # ball: a red disc
            w = h = min(w, h)
            cv2.circle(image, (x1 + w // 2, y1 + h // 2), w // 2, (30, 30, 220), -1)
            w = h = 2 * (w // 2) + 1
        elif cls == 2:  # box: a green square
            cv2.rectangle(image, (x1, y1), (x1 + w - 1, y1 + h - 1), (40, 200, 40), -1)
        else:  # cylinder: a yellow rounded bar
            cv2.ellipse(image, (x1 + w // 2, y1 + h // 2), (w // 2, h // 2), 0, 0, 360, (30, 220, 230), -1)
            w, h = 2 * (w // 2) + 1, 2 * (h // 2) + 1
        boxes.append((x1, y1, x1 + w, y1 + h))
        classes.append(cls)
    return image, np.array(boxes, np.float32), np.array(classes, np.int64)


@pytest.fixture
def draw_scene() -> Callable[..., tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Return the scene drawing function."""
    return scene
