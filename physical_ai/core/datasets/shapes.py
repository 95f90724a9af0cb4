"""A synthetic dataset unlike the simulator: coloured shapes on textured backgrounds, in the YOLO layout.

Each image draws a background texture (noise, stripes or a checkerboard, blurred, random colours),
then one to four filled shapes of the chosen classes with random colour, size, rotation and a thin
outline, possibly overlapping the border. Class is carried by the shape only (colours are drawn
from the same range for every class), so a detector must learn the outline, not a colour.
Same seed, same files.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import cv2
import numpy as np

from physical_ai.core.datasets.yolo import DatasetError, DatasetWriter

SHAPES = ('disc', 'triangle', 'square', 'cross')


def _background(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    base = rng.integers(0, 256, 3)
    other = rng.integers(0, 256, 3)
    kind = rng.integers(0, 3)
    if kind == 0:  # coarse noise
        noise = cv2.resize(rng.random((height // 8 + 1, width // 8 + 1)).astype(np.float32), (width, height))
    elif kind == 1:  # stripes at an angle
        angle = rng.uniform(0, math.pi)
        period = rng.uniform(8, 40)
        ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
        noise = 0.5 + 0.5 * np.sin((xs * math.cos(angle) + ys * math.sin(angle)) * 2 * math.pi / period)
    else:  # checkerboard
        cell = int(rng.integers(10, 40))
        ys, xs = np.mgrid[0:height, 0:width]
        noise = ((xs // cell + ys // cell) % 2).astype(np.float32)
    noise = noise[..., None]
    image = base * (1 - noise) + other * noise + rng.normal(0, 8, (height, width, 3))
    return np.clip(image, 0, 255).astype(np.uint8)


def _polygon(shape: str, cx: float, cy: float, r: float, angle: float) -> np.ndarray:
    if shape == 'triangle':
        corners = [angle + k * 2 * math.pi / 3 for k in range(3)]
        return np.array([(cx + r * math.cos(a), cy + r * math.sin(a)) for a in corners])
    if shape == 'square':
        corners = [angle + math.pi / 4 + k * math.pi / 2 for k in range(4)]
        return np.array([(cx + r * math.cos(a), cy + r * math.sin(a)) for a in corners])
    if shape == 'cross':
        arm, half = r, r * 0.35
        points = [(-half, -arm), (half, -arm), (half, -half), (arm, -half), (arm, half), (half, half),
                  (half, arm), (-half, arm), (-half, half), (-arm, half), (-arm, -half), (-half, -half)]
        c, s = math.cos(angle), math.sin(angle)
        return np.array([(cx + x * c - y * s, cy + x * s + y * c) for x, y in points])
    steps = np.linspace(0, 2 * math.pi, 48, endpoint=False)
    return np.stack([cx + r * np.cos(steps), cy + r * np.sin(steps)], 1)


def render_shapes(rng: np.random.Generator, classes: tuple[str, ...], height: int = 240,
                  width: int = 320) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (BGR image, boxes [n, 4] xyxy pixels, class indices [n]) of one random image."""
    image = _background(rng, height, width)
    boxes, labels = [], []
    for _ in range(int(rng.integers(1, 5))):
        cls = int(rng.integers(0, len(classes)))
        r = rng.uniform(12, 48)
        cx, cy = rng.uniform(0, width), rng.uniform(0, height)
        points = _polygon(classes[cls], cx, cy, r, rng.uniform(0, 2 * math.pi))
        colour = tuple(int(v) for v in rng.integers(0, 256, 3))
        outline = tuple(int(v) for v in rng.integers(0, 256, 3))
        cv2.fillPoly(image, [np.round(points * 16).astype(np.int32)], colour, cv2.LINE_AA, shift=4)
        cv2.polylines(image, [np.round(points * 16).astype(np.int32)], True, outline, 2, cv2.LINE_AA, shift=4)
        x1, y1 = points.min(0)
        x2, y2 = points.max(0)
        x1, y1, x2, y2 = max(0.0, x1), max(0.0, y1), min(float(width), x2), min(float(height), y2)
        if x2 - x1 >= 4 and y2 - y1 >= 4:
            boxes.append((x1, y1, x2, y2))
            labels.append(cls)
    if rng.random() < 0.3:
        image = cv2.GaussianBlur(image, (0, 0), rng.uniform(0.5, 1.5))
    # A later shape may hide an earlier one: keep only boxes still mostly uncovered is not needed for
    # training signal, but a fully hidden shape would be an impossible label; drop boxes inside later ones.
    keep = []
    for i, box in enumerate(boxes):
        hidden = any(b[0] <= box[0] and b[1] <= box[1] and b[2] >= box[2] and b[3] >= box[3]
                     for b in boxes[i + 1:])
        if not hidden:
            keep.append(i)
    return (image, np.array([boxes[i] for i in keep], np.float32).reshape(-1, 4),
            np.array([labels[i] for i in keep], np.int64))


def make_shapes(out: str | os.PathLike[str], frames: int, classes: tuple[str, ...] = SHAPES[:2],
                val_fraction: float = 0.2, seed: int = 0, size: tuple[int, int] = (240, 320),
                overwrite: bool = False) -> Path:
    """Write `frames` images (the last `val_fraction` as val) of shapes; return the data.yaml path."""
    unknown = [c for c in classes if c not in SHAPES]
    if unknown or not classes:
        raise DatasetError(f'shape classes {unknown or "(none)"} not known; choose from {", ".join(SHAPES)}')
    if frames < 2:
        raise DatasetError(f'--frames is {frames}; expected at least 2 (train and val)')
    writer = DatasetWriter(out, classes, overwrite=overwrite)
    rng = np.random.default_rng(seed)
    val = max(1, round(frames * val_fraction))
    for i in range(frames):
        image, boxes, labels = render_shapes(rng, classes, *size)
        writer.add('val' if i >= frames - val else 'train', f'{i:06d}', image, boxes, labels)
    return writer.finish(f'Synthetic shapes ({", ".join(classes)}) on textured backgrounds, seed {seed}.')
