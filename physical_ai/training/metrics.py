"""COCO-style average precision: greedy matching per IoU threshold, 101-point interpolated precision.

Follows pycocotools' rules for one area range and no crowd boxes: detections of a class are matched
per image in score order to the unmatched ground-truth box of highest IoU (at least the threshold);
all images' detections are then ranked by score, precision is made monotone, and AP is the mean of the
precision at recall 0, 0.01, ..., 1 (0 where the recall is never reached). A class without ground
truth has no AP (NaN) and is left out of the means.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

IOU_THRESHOLDS = np.round(np.linspace(0.5, 0.95, 10), 2)
RECALL_POINTS = np.linspace(0.0, 1.0, 101)


@dataclass
class ImageResult:
    """Detections and ground truth of one image: boxes [n, 4] xyxy, scores [n], classes [n]."""

    boxes: np.ndarray
    scores: np.ndarray
    classes: np.ndarray
    gt_boxes: np.ndarray
    gt_classes: np.ndarray


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Return the IoU matrix [len(a), len(b)] of xyxy boxes."""
    a = np.asarray(a, np.float64).reshape(-1, 4)
    b = np.asarray(b, np.float64).reshape(-1, 4)
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod(np.clip(rb - lt, 0, None), axis=2)
    area_a = np.prod(np.clip(a[:, 2:] - a[:, :2], 0, None), axis=1)
    area_b = np.prod(np.clip(b[:, 2:] - b[:, :2], 0, None), axis=1)
    union = area_a[:, None] + area_b[None, :] - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)


def interpolated_ap(tp: np.ndarray, scores: np.ndarray, num_gt: int) -> float:
    """Return the 101-point interpolated AP of detections flagged true/false positive, with their scores."""
    if num_gt == 0:
        return float('nan')
    if len(tp) == 0:
        return 0.0
    order = np.argsort(-scores, kind='mergesort')
    tp = np.asarray(tp, np.float64)[order]
    tps = np.cumsum(tp)
    fps = np.cumsum(1 - tp)
    recall = tps / num_gt
    precision = tps / np.maximum(tps + fps, np.finfo(np.float64).eps)
    precision = np.maximum.accumulate(precision[::-1])[::-1]
    where = np.searchsorted(recall, RECALL_POINTS, side='left')
    sampled = np.where(where < len(precision), precision[np.minimum(where, len(precision) - 1)], 0.0)
    return float(sampled.mean())


def match(boxes: np.ndarray, scores: np.ndarray, gt_boxes: np.ndarray, threshold: float) -> np.ndarray:
    """Return a true-positive flag per detection of one class in one image (greedy, best score first)."""
    tp = np.zeros(len(boxes), bool)
    if len(boxes) == 0 or len(gt_boxes) == 0:
        return tp
    iou = box_iou(boxes, gt_boxes)
    taken = np.zeros(len(gt_boxes), bool)
    for d in np.argsort(-scores, kind='mergesort'):
        candidates = np.where(taken, -1.0, iou[d])
        best = int(np.argmax(candidates))
        if candidates[best] >= threshold:
            taken[best] = True
            tp[d] = True
    return tp


def average_precision(results: Sequence[ImageResult], num_classes: int,
                      thresholds: Sequence[float] = IOU_THRESHOLDS, max_detections: int = 100) -> np.ndarray:
    """Return AP [num_classes, len(thresholds)] (NaN for a class without ground truth)."""
    ap = np.full((num_classes, len(thresholds)), np.nan)
    for c in range(num_classes):
        num_gt = 0
        flags: list[list[np.ndarray]] = [[] for _ in thresholds]
        all_scores = []
        for r in results:
            order = np.argsort(-np.asarray(r.scores), kind='mergesort')
            mine = order[np.asarray(r.classes)[order] == c][:max_detections]  # per class, as pycocotools
            boxes, scores = np.asarray(r.boxes)[mine], np.asarray(r.scores)[mine]
            gt = np.asarray(r.gt_boxes).reshape(-1, 4)[np.asarray(r.gt_classes).reshape(-1) == c]
            num_gt += len(gt)
            all_scores.append(scores)
            for t, threshold in enumerate(thresholds):
                flags[t].append(match(boxes, scores, gt, threshold))
        scores = np.concatenate(all_scores) if all_scores else np.zeros(0)
        for t in range(len(thresholds)):
            tp = np.concatenate(flags[t]) if flags[t] else np.zeros(0, bool)
            ap[c, t] = interpolated_ap(tp, scores, num_gt)
    return ap


def precision_recall_at(results: Sequence[ImageResult], num_classes: int, score: float,
                        threshold: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """Return (precision [C], recall [C]) of the detections scoring at least `score`, matched at an IoU."""
    tp = np.zeros(num_classes)
    fp = np.zeros(num_classes)
    gt = np.zeros(num_classes)
    for r in results:
        for c in range(num_classes):
            sel = (np.asarray(r.classes) == c) & (np.asarray(r.scores) >= score)
            truth = np.asarray(r.gt_boxes).reshape(-1, 4)[np.asarray(r.gt_classes).reshape(-1) == c]
            flags = match(np.asarray(r.boxes)[sel], np.asarray(r.scores)[sel], truth, threshold)
            tp[c] += flags.sum()
            fp[c] += len(flags) - flags.sum()
            gt[c] += len(truth)
    with np.errstate(invalid='ignore', divide='ignore'):
        return tp / (tp + fp), tp / gt
