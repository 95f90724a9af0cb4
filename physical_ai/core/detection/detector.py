"""A detector: image in, detections in image pixels out (preprocess, model, decode, filter, NMS, map back)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
import math
import os
from typing import Any

import numpy as np
import torch

from physical_ai.core.detection.decode import decode
from physical_ai.core.detection.model import Model, load_model
from physical_ai.core.detection.nms import batched_nms
from physical_ai.core.detection.preprocess import Placement, Preprocessor
from physical_ai.core.errors import ConfigError


@dataclass(frozen=True, slots=True)
class Detection:
    """One object: corner box in image pixels, score, class index and name."""

    x1: float
    y1: float
    x2: float
    y2: float
    score: float
    class_index: int
    class_name: str

    @property
    def center(self) -> tuple[float, float]:
        """Return the box centre (x, y) in pixels."""
        return (self.x1 + self.x2) / 2, (self.y1 + self.y2) / 2

    @property
    def size(self) -> tuple[float, float]:
        """Return the box (width, height) in pixels."""
        return self.x2 - self.x1, self.y2 - self.y1


@dataclass(frozen=True)
class DetectorOptions:
    """Settings that may change while running; swapped as a whole so a frame sees one consistent set."""

    score_threshold: float = 0.25
    nms_iou: float = 0.45
    max_detections: int = 100
    classes: tuple[str, ...] = ()
    class_filter: tuple[int, ...] = ()


class Detector:
    """Runs a loaded Model on images and returns Detection lists in the images' own pixels."""

    def __init__(self, model: Model, *, score_threshold: float = 0.25, nms_iou: float = 0.45,
                 max_detections: int = 100, classes: Sequence[str] = (), letterbox: bool = True) -> None:
        self.model = model
        info = model.info
        self.names: tuple[str, ...] = info.names
        self.preprocess = Preprocessor(info.input_size, keep_aspect=letterbox, channels=info.channels,
                                       scale=info.scale, mean=info.mean, std=info.std,
                                       pad_value=info.pad_value, device=model.device, half=model.half)
        self.options = DetectorOptions()
        self.configure(score_threshold=score_threshold, nms_iou=nms_iou, max_detections=max_detections,
                       classes=classes)

    @classmethod
    def from_file(cls, path: str | os.PathLike[str], *, letterbox: bool = True, score_threshold: float = 0.25,
                  nms_iou: float = 0.45, max_detections: int = 100, classes: Sequence[str] = (),
                  **load_options: Any) -> Detector:
        """Load a model file (see load_model for `load_options`) and wrap it in a Detector."""
        return cls(load_model(path, **load_options), letterbox=letterbox, score_threshold=score_threshold,
                   nms_iou=nms_iou, max_detections=max_detections, classes=classes)

    @property
    def num_classes(self) -> int | None:
        """Return the number of classes the model outputs, when known."""
        return self.model.info.num_classes or (len(self.names) or None)

    def class_name(self, index: int) -> str:
        """Return the name of a class index (the index as text when no name is known)."""
        return self.names[index] if 0 <= index < len(self.names) else str(index)

    def class_indices(self, classes: Sequence[str]) -> tuple[int, ...]:
        """Return the indices of class names (or index strings); raise ConfigError for unknown ones.

        Blank entries are ignored, so [''] (which every parameter tool can send) means no filter.
        """
        lookup = {name: i for i, name in reversed(list(enumerate(self.names)))}
        indices = []
        for name in classes:
            if not name.strip():
                continue
            if name in lookup:
                indices.append(lookup[name])
            elif name.strip().isdigit() and (not self.names or int(name) < len(self.names)):
                indices.append(int(name))
            else:
                known = ', '.join(self.names[:20]) + (' ...' if len(self.names) > 20 else '') \
                    if self.names else 'class indices as text (the model names no classes)'
                raise ConfigError(f'parameter classes: {name!r} is not a class of the model; known: {known}')
        return tuple(sorted(set(indices)))

    def configure(self, *, score_threshold: float | None = None, nms_iou: float | None = None,
                  max_detections: int | None = None, classes: Sequence[str] | None = None) -> DetectorOptions:
        """Change thresholds, NMS overlap, detection cap or class filter; return the new options."""
        old = self.options
        score = old.score_threshold if score_threshold is None else float(score_threshold)
        iou = old.nms_iou if nms_iou is None else float(nms_iou)
        cap = old.max_detections if max_detections is None else int(max_detections)
        if not (math.isfinite(score) and 0.0 <= score <= 1.0):
            raise ConfigError(f'score_threshold {score} is out of range [0, 1]')
        if not (math.isfinite(iou) and 0.0 <= iou <= 1.0):
            raise ConfigError(f'nms_iou {iou} is out of range [0, 1]')
        if cap < 1:
            raise ConfigError(f'max_detections {cap} must be at least 1')
        names = old.classes if classes is None else tuple(str(c) for c in classes if str(c).strip())
        class_filter = self.class_indices(names) if classes is not None else old.class_filter
        self.options = DetectorOptions(score, iou, cap, names, class_filter)
        return self.options

    def detect(self, image: np.ndarray, order: str = 'bgr') -> list[Detection]:
        """Return the detections in an H x W x 3 uint8 image ('bgr' or 'rgb' channel order)."""
        boxes, scores, classes = self.detect_arrays(image, order)
        return [Detection(b[0], b[1], b[2], b[3], s, c, self.class_name(c))
                for b, s, c in zip(boxes.tolist(), scores.tolist(), classes.tolist(), strict=True)]

    def detect_arrays(self, image: np.ndarray,
                      order: str = 'bgr') -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return (boxes [K, 4] xyxy float32 in image pixels, scores [K], class indices [K]), best first."""
        options = self.options
        tensor, where = self.preprocess(image, order)
        output = self.model(tensor)
        return self.postprocess(output, where, options)

    def postprocess(self, output: Any, where: Placement,
                    options: DetectorOptions | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Decode a raw model output, filter, suppress and map back to the image of `where`."""
        options = options or self.options
        info = self.model.info
        boxes, scores, classes = decode(output, info.layout, options.score_threshold, info.num_classes)
        if options.class_filter:
            wanted = torch.isin(classes, torch.tensor(options.class_filter, device=classes.device))
            boxes, scores, classes = boxes[wanted], scores[wanted], classes[wanted]
        keep = batched_nms(boxes, scores, classes, options.nms_iou)
        boxes = where.to_image(boxes[keep])
        scores, classes = scores[keep], classes[keep]
        visible = (boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])
        boxes = boxes[visible][:options.max_detections]
        scores = scores[visible][:options.max_detections]
        classes = classes[visible][:options.max_detections]
        return boxes.cpu().numpy(), scores.cpu().numpy(), classes.cpu().numpy()
