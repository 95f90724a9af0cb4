"""Draw detections (box, class name, score) on an image with OpenCV."""

from __future__ import annotations

from collections.abc import Iterable
import colorsys
from functools import cache
from typing import TYPE_CHECKING

import cv2
import numpy as np

if TYPE_CHECKING:
    from physical_ai.core.detection.detector import Detection


@cache
def class_color(index: int, order: str = 'bgr') -> tuple[int, int, int]:
    """Return a distinct, stable colour for a class index in the image's channel order."""
    hue = (index * 0.618033988749895) % 1.0  # golden-ratio steps spread neighbouring classes apart
    r, g, b = (int(255 * c) for c in colorsys.hsv_to_rgb(hue, 0.85, 0.95))
    return (b, g, r) if order == 'bgr' else (r, g, b)


def draw_detections(image: np.ndarray, detections: Iterable[Detection], order: str = 'bgr',
                    thickness: int = 2) -> np.ndarray:
    """Return a copy of an H x W x 3 uint8 image with each detection's box, name and score drawn."""
    canvas = np.array(image, dtype=np.uint8, copy=True, order='C')
    height, width = canvas.shape[:2]
    scale = max(0.4, min(height, width) / 800)
    for det in detections:
        color = class_color(det.class_index, order)
        x1, y1 = int(round(det.x1)), int(round(det.y1))
        x2, y2 = int(round(det.x2)), int(round(det.y2))
        cv2.rectangle(canvas, (x1, y1), (x2, y2), color, thickness, cv2.LINE_AA)
        label = f'{det.class_name} {det.score:.2f}'
        (text_w, text_h), base = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
        top = y1 - text_h - base - 2 if y1 - text_h - base - 2 >= 0 else y1
        cv2.rectangle(canvas, (x1, top), (x1 + text_w + 2, top + text_h + base + 2), color, cv2.FILLED)
        cv2.putText(canvas, label, (x1 + 1, top + text_h + 1), cv2.FONT_HERSHEY_SIMPLEX, scale,
                    (255, 255, 255), 1, cv2.LINE_AA)
    return canvas
