"""Non-maximum suppression per class in plain torch (no torchvision), on whatever device the boxes are."""

from __future__ import annotations

import torch


def box_area(boxes: torch.Tensor) -> torch.Tensor:
    """Return the areas of [K, 4] xyxy boxes (zero for inverted boxes)."""
    return (boxes[:, 2] - boxes[:, 0]).clamp(min=0) * (boxes[:, 3] - boxes[:, 1]).clamp(min=0)


def box_iou(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Return the [Ka, Kb] intersection-over-union matrix of two sets of xyxy boxes."""
    top_left = torch.maximum(a[:, None, :2], b[None, :, :2])
    bottom_right = torch.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = (bottom_right - top_left).clamp(min=0).prod(dim=2)
    union = box_area(a)[:, None] + box_area(b)[None, :] - inter
    return inter / union.clamp(min=torch.finfo(union.dtype).tiny)


def nms(boxes: torch.Tensor, scores: torch.Tensor, iou_threshold: float) -> torch.Tensor:
    """Return indices of the boxes greedy NMS keeps, highest score first.

    A box is dropped when its IoU with a kept, higher-scoring box exceeds `iou_threshold`
    (torchvision.ops.nms semantics). Instead of one Python step per box, the greedy rule
    "keep[j] = no kept i < j overlaps j" is iterated to its fixed point on the whole overlap
    matrix: after t rounds the first t boxes are final, and real scenes settle in a few rounds.
    """
    if boxes.shape[0] == 0:
        return torch.empty(0, dtype=torch.long, device=boxes.device)
    order = torch.sort(scores, descending=True, stable=True).indices
    ranked = boxes[order]
    overlap = (box_iou(ranked, ranked) > iou_threshold).triu_(diagonal=1)
    keep = torch.ones(ranked.shape[0], dtype=torch.bool, device=boxes.device)
    for _ in range(ranked.shape[0]):
        updated = ~(overlap & keep[:, None]).any(dim=0)
        if torch.equal(updated, keep):
            break
        keep = updated
    return order[keep]


def batched_nms(boxes: torch.Tensor, scores: torch.Tensor, classes: torch.Tensor, iou_threshold: float,
                max_candidates: int = 3000) -> torch.Tensor:
    """Return indices kept by NMS run separately per class, highest score first.

    Boxes of different classes are shifted apart so one NMS never compares them. Only the
    `max_candidates` highest scores enter (the overlap matrix is quadratic).
    """
    if boxes.shape[0] == 0:
        return torch.empty(0, dtype=torch.long, device=boxes.device)
    candidates = None
    if boxes.shape[0] > max_candidates:
        candidates = torch.topk(scores, max_candidates).indices
        boxes, scores, classes = boxes[candidates], scores[candidates], classes[candidates]
    low = boxes.min()
    span = boxes.max() - low + 1
    shifted = boxes - low + (classes.to(boxes.dtype) * span)[:, None]
    keep = nms(shifted, scores, iou_threshold)
    return keep if candidates is None else candidates[keep]
