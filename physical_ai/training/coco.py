"""Standard COCO figures (pycocotools' COCOeval) of detections, a confusion matrix and the plots.

`coco_evaluate` scores the same ImageResult lists the hand-written metrics (metrics.py) take, with
the reference implementation: boxes as [x, y, w, h], no crowd boxes, one area range (all), at most
100 detections per image. The plots are PNG files drawn with matplotlib's file-only backend.
"""

from __future__ import annotations

from collections.abc import Sequence
import contextlib
from dataclasses import dataclass
import io
import os
from pathlib import Path

import numpy as np

from physical_ai.training.metrics import ImageResult, box_iou


@dataclass
class CocoFigures:
    """pycocotools' results: AP per class at IoU 0.5 and over 0.5:0.95, precision [T, R, K], the means."""

    ap50: np.ndarray
    ap: np.ndarray
    precision: np.ndarray  # [10 IoU thresholds, 101 recall points, classes]; -1 where no ground truth
    map50: float
    map: float


def coco_evaluate(results: Sequence[ImageResult], num_classes: int) -> CocoFigures:
    """Return pycocotools' AP figures of per-image detections and ground truth (classes 0..n-1)."""
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    images, annotations, detections = [], [], []
    for i, r in enumerate(results):
        images.append({'id': i + 1, 'width': 1, 'height': 1})
        for box, cls in zip(np.asarray(r.gt_boxes).reshape(-1, 4), np.asarray(r.gt_classes).reshape(-1),
                            strict=True):
            w, h = float(box[2] - box[0]), float(box[3] - box[1])
            annotations.append({'id': len(annotations) + 1, 'image_id': i + 1, 'category_id': int(cls) + 1,
                                'bbox': [float(box[0]), float(box[1]), w, h], 'area': w * h, 'iscrowd': 0})
        for box, score, cls in zip(np.asarray(r.boxes).reshape(-1, 4), np.asarray(r.scores).reshape(-1),
                                   np.asarray(r.classes).reshape(-1), strict=True):
            detections.append({'image_id': i + 1, 'category_id': int(cls) + 1, 'score': float(score),
                               'bbox': [float(box[0]), float(box[1]), float(box[2] - box[0]),
                                        float(box[3] - box[1])]})
    truth = COCO()
    truth.dataset = {'images': images, 'annotations': annotations,
                     'categories': [{'id': c + 1, 'name': str(c)} for c in range(num_classes)]}
    nan = np.full(num_classes, np.nan)
    with contextlib.redirect_stdout(io.StringIO()):  # pycocotools prints its progress
        truth.createIndex()
        if not detections or not annotations:
            return CocoFigures(nan, nan, np.full((10, 101, num_classes), -1.0), float('nan'), float('nan'))
        found = truth.loadRes(detections)
        run = COCOeval(truth, found, 'bbox')
        run.evaluate()
        run.accumulate()
        run.summarize()
    precision = run.eval['precision'][:, :, :, 0, -1]  # area 'all', maxDets 100

    def mean(values: np.ndarray) -> float:
        values = values[values > -1]
        return float(values.mean()) if values.size else float('nan')

    ap50 = np.array([mean(precision[0, :, k]) for k in range(num_classes)])
    ap = np.array([mean(precision[:, :, k]) for k in range(num_classes)])
    return CocoFigures(ap50, ap, precision, float(run.stats[1]), float(run.stats[0]))


def confusion_matrix(results: Sequence[ImageResult], num_classes: int, score: float = 0.25,
                     iou: float = 0.5) -> np.ndarray:
    """Return counts [n + 1, n + 1]: rows true class, columns predicted class; index n is background.

    Per image, detections scoring at least `score` are paired with ground truth of any class, best
    IoU first (at least `iou`); unpaired truth is a miss (column n), an unpaired detection a false
    alarm (row n).
    """
    matrix = np.zeros((num_classes + 1, num_classes + 1), np.int64)
    for r in results:
        keep = np.asarray(r.scores) >= score
        boxes, classes = np.asarray(r.boxes).reshape(-1, 4)[keep], np.asarray(r.classes)[keep]
        gt, gt_classes = np.asarray(r.gt_boxes).reshape(-1, 4), np.asarray(r.gt_classes).reshape(-1)
        overlap = box_iou(gt, boxes)
        used_gt, used_det = set(), set()
        for flat in np.argsort(-overlap, axis=None, kind='stable'):
            g, d = np.unravel_index(flat, overlap.shape)
            if overlap[g, d] < iou:
                break
            if g in used_gt or d in used_det:
                continue
            used_gt.add(g)
            used_det.add(d)
            matrix[int(gt_classes[g]), int(classes[d])] += 1
        for g in range(len(gt)):
            if g not in used_gt:
                matrix[int(gt_classes[g]), num_classes] += 1
        for d in range(len(boxes)):
            if d not in used_det:
                matrix[num_classes, int(classes[d])] += 1
    return matrix


def matrix_text(matrix: np.ndarray, names: Sequence[str]) -> str:
    """Return the confusion matrix as a plain-text table (rows: truth, columns: prediction)."""
    labels = [*names, 'background']
    width = max(12, *(len(n) + 1 for n in labels))
    corner = 'truth/pred'
    lines = [f'{corner:<{width}}' + ''.join(f'{n:>{width}}' for n in labels)]
    for i, name in enumerate(labels):
        lines.append(f'{name:<{width}}' + ''.join(f'{v:>{width}}' for v in matrix[i]))
    return '\n'.join(lines)


def save_plots(figures: CocoFigures, matrix: np.ndarray, names: Sequence[str],
               folder: str | os.PathLike[str]) -> list[Path]:
    """Write pr_curve.png (precision/recall at IoU 0.5 per class) and confusion_matrix.png; return paths."""
    import matplotlib

    matplotlib.use('Agg')
    from matplotlib import pyplot as plt

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    recall = np.linspace(0, 1, 101)
    fig, ax = plt.subplots(figsize=(6, 5))
    for k, name in enumerate(names):
        p = figures.precision[0, :, k]
        if (p > -1).any():
            ax.plot(recall, np.where(p > -1, p, np.nan), label=f'{name} AP50 {figures.ap50[k]:.3f}')
    ax.set(xlabel='recall', ylabel='precision', xlim=(0, 1), ylim=(0, 1.02),
           title=f'precision-recall at IoU 0.5 (mAP@0.5 {figures.map50:.3f})')
    ax.grid(alpha=0.3)
    ax.legend(loc='lower left')
    pr = folder / 'pr_curve.png'
    fig.savefig(pr, dpi=100, bbox_inches='tight')
    plt.close(fig)
    labels = [*names, 'background']
    fig, ax = plt.subplots(figsize=(1.2 * len(labels) + 2, 1.0 * len(labels) + 1.5))
    ax.imshow(matrix, cmap='Blues')
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha='right')
    ax.set_yticks(range(len(labels)), labels)
    ax.set(xlabel='predicted', ylabel='truth', title='confusion matrix (score >= 0.25, IoU >= 0.5)')
    for i in range(len(labels)):
        for j in range(len(labels)):
            ax.text(j, i, str(matrix[i, j]), ha='center', va='center',
                    color='white' if matrix[i, j] > matrix.max() / 2 else 'black')
    cm = folder / 'confusion_matrix.png'
    fig.savefig(cm, dpi=100, bbox_inches='tight')
    plt.close(fig)
    return [pr, cm]
