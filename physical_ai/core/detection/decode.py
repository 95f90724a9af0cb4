"""Turn raw detector outputs into boxes (x1, y1, x2, y2 in input-tensor pixels), scores and class indices.

Layouts:
- `yolov8`: Tensor[1, 4 + nc (+ extra), N], rows cx, cy, w, h then class scores (YOLOv8, YOLO11);
- `yolov5`: Tensor[1, N, 5 + nc (+ extra)], columns cx, cy, w, h, objectness, class scores;
- `torchvision`: boxes [N, 4] xyxy, labels [N], scores [N] (a dict, a list of dicts, or a tuple);
- `xyxy_score_class`: Tensor[N, 6] or [1, N, 6] of x1, y1, x2, y2, score, class (the project's own
  format, and end-to-end exports with NMS inside).
Rows with a NaN or infinite value are dropped here, before anything else sees them.
"""

from __future__ import annotations

from typing import Any

import torch

LAYOUTS = ('yolov8', 'yolov5', 'torchvision', 'xyxy_score_class')
_TORCHVISION_KEYS = ('boxes', 'labels', 'scores')
_FORMAT_LAYOUT = {'physical_ai': 'xyxy_score_class'}


def describe_output(output: Any) -> str:
    """Return a short description of an output's structure and shapes, for error messages."""
    if isinstance(output, torch.Tensor):
        return f'Tensor[{", ".join(map(str, output.shape))}]'
    if isinstance(output, dict):
        return 'dict(' + ', '.join(f'{k}: {describe_output(v)}' for k, v in output.items()) + ')'
    if isinstance(output, list | tuple):
        return f'{type(output).__name__}(' + ', '.join(describe_output(v) for v in output) + ')'
    return type(output).__name__


def _torchvision_dict(output: Any) -> dict[str, torch.Tensor] | None:
    if isinstance(output, dict):
        if all(k in output for k in _TORCHVISION_KEYS):
            return output
        return None
    if isinstance(output, list | tuple):
        for item in output:
            found = _torchvision_dict(item)
            if found is not None:
                return found
    return None


def _torchvision_tuple(output: Any) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None:
    """Return (boxes, labels, scores) from a tuple of three tensors [N, 4], [N], [N], else None."""
    if not isinstance(output, list | tuple) or len(output) != 3 or \
            not all(isinstance(t, torch.Tensor) for t in output):
        return None
    boxes = [t for t in output if t.dim() == 2 and t.shape[1] == 4]
    flat = [t for t in output if t.dim() == 1]
    if len(boxes) != 1 or len(flat) != 2 or any(t.shape[0] != boxes[0].shape[0] for t in flat):
        return None
    integer = [t for t in flat if not t.is_floating_point()]
    if len(integer) == 1:
        labels = integer[0]
        scores = flat[1] if flat[0] is labels else flat[0]
    else:  # both float: torchvision's own order, labels then scores
        labels, scores = flat
    return boxes[0], labels, scores


def _main_tensor(output: Any) -> torch.Tensor | None:
    """Return the detection tensor of an output (the first of a tuple such as (pred, protos))."""
    if isinstance(output, torch.Tensor):
        return output
    if isinstance(output, list | tuple) and output and isinstance(output[0], torch.Tensor):
        return output[0]
    return None


def find_layout(output: Any, hint: str = '', num_classes: int | None = None,
                extra_rows: bool = False) -> tuple[str, int | None]:
    """Return (layout, number of classes or None) for a model output, checking `hint` when given.

    `num_classes` (from class names) picks between layouts; `extra_rows` accepts channels after the
    class scores (mask or keypoint coefficients of segment/pose exports). Raises ValueError naming
    the shapes seen when nothing fits.
    """
    hint = _FORMAT_LAYOUT.get(hint, hint)
    if hint and hint not in LAYOUTS:
        raise ValueError(f'unknown output layout {hint!r}; known: {", ".join(LAYOUTS)}')
    found = _match(output, num_classes, extra_rows, hint)
    if found is not None and (not hint or found[0] == hint):
        return found
    expected = {
        'yolov8': 'yolov8 Tensor[1, 4+nc, N]',
        'yolov5': 'yolov5 Tensor[1, N, 5+nc]',
        'torchvision': 'torchvision boxes [N, 4], labels [N], scores [N]',
        'xyxy_score_class': 'Tensor[N, 6] of x1, y1, x2, y2, score, class',
    }
    wanted = expected[hint] if hint else '; '.join(expected.values())
    classes = f' with {num_classes} class names' if num_classes else ''
    raise ValueError(f'model output {describe_output(output)}{classes} does not fit {wanted}; '
                     'set model_format (and labels) to what the model returns')


def _match(output: Any, num_classes: int | None, extra_rows: bool,
           hint: str) -> tuple[str, int | None] | None:
    if _torchvision_dict(output) is not None or _torchvision_tuple(output) is not None:
        return 'torchvision', None
    tensor = _main_tensor(output)
    if tensor is None:
        return None
    if tensor.dim() == 2 and tensor.shape[1] == 6:
        return 'xyxy_score_class', None
    if tensor.dim() != 3 or tensor.shape[0] < 1:
        return None
    rows, cols = int(tensor.shape[1]), int(tensor.shape[2])
    if hint == 'xyxy_score_class' and cols == 6:
        return 'xyxy_score_class', None
    if num_classes:
        if rows == 4 + num_classes or (extra_rows and rows > 4 + num_classes and rows < cols):
            return 'yolov8', num_classes
        if cols == 5 + num_classes or (extra_rows and cols > 5 + num_classes and cols < rows):
            return 'yolov5', num_classes
    if hint in ('', 'yolov8') and 5 <= rows < cols:
        return 'yolov8', rows - 4
    if hint in ('', 'yolov5') and 6 <= cols < rows:
        return 'yolov5', cols - 5
    return None


def decode(output: Any, layout: str, score_threshold: float,
           num_classes: int | None = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Return (boxes [K, 4] xyxy float32, scores [K] float32, classes [K] int64) above the threshold.

    Boxes are in input-tensor pixels; rows with any non-finite value are dropped.
    """
    if layout == 'yolov8':
        boxes, scores, classes = _yolov8(_main_tensor(output), score_threshold, num_classes)
    elif layout == 'yolov5':
        boxes, scores, classes = _yolov5(_main_tensor(output), score_threshold, num_classes)
    elif layout == 'torchvision':
        boxes, scores, classes = _torchvision(output)
    elif layout == 'xyxy_score_class':
        boxes, scores, classes = _xyxy_score_class(_main_tensor(output))
    else:
        raise ValueError(f'unknown output layout {layout!r}; known: {", ".join(LAYOUTS)}')
    boxes = boxes.float()
    scores = scores.float()
    keep = torch.isfinite(boxes).all(dim=1) & torch.isfinite(scores) & (scores >= score_threshold)
    return boxes[keep], scores[keep], classes[keep]


def cxcywh_to_xyxy(boxes: torch.Tensor) -> torch.Tensor:
    """Convert [K, 4] centre/size boxes to corner boxes."""
    half = boxes[:, 2:4] / 2
    return torch.cat((boxes[:, 0:2] - half, boxes[:, 0:2] + half), dim=1)


def _yolov8(tensor: torch.Tensor, threshold: float,
            num_classes: int | None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    pred = tensor[0]
    nc = num_classes or pred.shape[0] - 4
    scores, classes = pred[4:4 + nc].max(dim=0)
    # NaN compares false, so NaN scores leave here; infinities are dropped by decode().
    index = torch.nonzero(scores >= threshold).squeeze(1)
    boxes = cxcywh_to_xyxy(pred[:4, index].T)
    return boxes, scores[index], classes[index]


def _yolov5(tensor: torch.Tensor, threshold: float,
            num_classes: int | None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    pred = tensor[0]
    nc = num_classes or pred.shape[1] - 5
    index = torch.nonzero(pred[:, 4] >= threshold).squeeze(1)
    pred = pred[index]
    best, classes = pred[:, 5:5 + nc].max(dim=1)
    return cxcywh_to_xyxy(pred[:, :4]), pred[:, 4] * best, classes


def _torchvision(output: Any) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    found = _torchvision_dict(output)
    if found is not None:
        boxes, labels, scores = (found[k] for k in _TORCHVISION_KEYS)
    else:
        parts = _torchvision_tuple(output)
        if parts is None:
            raise ValueError(f'model output {describe_output(output)} has no boxes, labels and scores')
        boxes, labels, scores = parts
    boxes = boxes.reshape(-1, 4)
    labels = labels.reshape(-1)
    scores = scores.reshape(-1)
    return _with_classes(boxes, scores, labels)


def _xyxy_score_class(tensor: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    rows = tensor.reshape(-1, 6)
    return _with_classes(rows[:, :4], rows[:, 4], rows[:, 5])


def _with_classes(boxes: torch.Tensor, scores: torch.Tensor,
                  labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Return boxes, scores and int64 classes, dropping rows whose class is not a finite index >= 0."""
    if labels.is_floating_point():
        valid = torch.isfinite(labels) & (labels >= 0)
        boxes, scores, labels = boxes[valid], scores[valid], labels[valid].round()
    else:
        valid = labels >= 0
        boxes, scores, labels = boxes[valid], scores[valid], labels[valid]
    return boxes, scores, labels.long()
