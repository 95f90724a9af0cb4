"""`physical-ai eval`: mAP of a detector on held-out simulator frames, run exactly as the inference node does.

The frames come from seeds the training never uses. Each full-size camera frame goes through the
inference node's own Detector (the model file's metadata decides letterbox size, channel order and
normalisation; then decoding, per-class NMS and the mapping back to image pixels), and the boxes
are scored against the simulator's exact boxes: COCO-style AP (101-point interpolation) at IoU 0.5
and averaged over IoU 0.5:0.95, per class.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
import sys
import time
from typing import Any

import numpy as np

from physical_ai.core.detection import Detector, ModelError
from physical_ai.training import data, eval_3d, tracking_eval
from physical_ai.training.metrics import ImageResult, average_precision, precision_recall_at

DEFAULT_MODEL = 'models/default_detector.pt'


@dataclass
class Report:
    """Evaluation figures: per class AP@0.5, AP@0.5:0.95, objects, precision and recall at a score."""

    names: tuple[str, ...]
    ap50: np.ndarray
    ap: np.ndarray
    objects: np.ndarray
    precision: np.ndarray
    recall: np.ndarray
    score: float
    frames: int
    milliseconds: float

    @property
    def map50(self) -> float:
        """Return the mean AP@0.5 over the classes with ground truth."""
        return float(np.nanmean(self.ap50)) if np.isfinite(self.ap50).any() else float('nan')

    @property
    def map(self) -> float:
        """Return the mean AP@0.5:0.95 over the classes with ground truth."""
        return float(np.nanmean(self.ap)) if np.isfinite(self.ap).any() else float('nan')

    def table(self) -> str:
        """Return the report as a plain-text table."""
        head = (f'{"class":<10} {"objects":>7} {"mAP@0.5":>8} {"mAP@0.5:0.95":>13} '
                f'{"P@" + f"{self.score:g}":>7} {"R@" + f"{self.score:g}":>7}')
        lines = [head, '-' * len(head)]
        for i, name in enumerate(self.names):
            lines.append(f'{name:<10} {int(self.objects[i]):>7} {_fmt(self.ap50[i]):>8} '
                         f'{_fmt(self.ap[i]):>13} {_fmt(self.precision[i]):>7} {_fmt(self.recall[i]):>7}')
        lines.append('-' * len(head))
        total_p = _fmt(float(np.nanmean(self.precision))) if np.isfinite(self.precision).any() else '-'
        total_r = _fmt(float(np.nanmean(self.recall))) if np.isfinite(self.recall).any() else '-'
        lines.append(f'{"all":<10} {int(self.objects.sum()):>7} {_fmt(self.map50):>8} {_fmt(self.map):>13} '
                     f'{total_p:>7} {total_r:>7}')
        return '\n'.join(lines)


def _fmt(value: float) -> str:
    return '-' if not np.isfinite(value) else f'{value:.3f}'


def evaluate(detector: Detector, samples: Sequence[tuple[np.ndarray, np.ndarray, np.ndarray]],
             names: Sequence[str], score: float = 0.25, order: str = 'bgr') -> Report:
    """Run the detector on (image, boxes, classes) samples and return the figures.

    Ground-truth classes index `names`; detections are mapped to `names` by the detector's class names.
    """
    names = tuple(names)
    results, milliseconds = collect(detector, samples, names, order)
    return report_of(results, names, score, milliseconds)


def class_lookup(model_names: Sequence[str], names: Sequence[str]) -> np.ndarray:
    """Return, per model class index, the index in `names` of the same name (-1: not there)."""
    return np.array([list(names).index(n) if n in names else -1 for n in model_names] or [-1], np.int64)


def collect(detector: Detector, samples: Iterable[tuple[np.ndarray, np.ndarray, np.ndarray]],
            names: Sequence[str], order: str = 'bgr',
            lookup: np.ndarray | None = None) -> tuple[list[ImageResult], float]:
    """Run the detector on every sample; return (ImageResult per image, milliseconds per frame).

    Detections are mapped to `names` by the detector's class names (or by `lookup`), others dropped.
    """
    lookup = class_lookup(detector.names, names) if lookup is None else lookup
    results = []
    elapsed = 0.0
    for image, boxes, classes in samples:
        began = time.perf_counter()
        found, scores, found_classes = detector.detect_arrays(image, order)
        elapsed += time.perf_counter() - began
        mapped = lookup[np.clip(found_classes, 0, len(lookup) - 1)] if len(found_classes) else found_classes
        known = mapped >= 0
        truth = np.asarray(boxes, np.float64).reshape(-1, 4)
        truth_classes = np.asarray(classes).reshape(-1)
        results.append(ImageResult(found[known], scores[known], mapped[known], truth, truth_classes))
    return results, 1000 * elapsed / max(1, len(results))


def report_of(results: Sequence[ImageResult], names: tuple[str, ...], score: float, milliseconds: float,
              coco: Any = None) -> Report:
    """Return the Report of collected results: AP from `coco` (CocoFigures) when given, else metrics.py."""
    ap = average_precision(results, len(names))
    precision, recall = precision_recall_at(results, len(names), score)
    objects = np.zeros(len(names))
    for r in results:
        objects += np.bincount(r.gt_classes.astype(np.int64), minlength=len(names))[:len(names)]
    if coco is not None:
        return Report(names, coco.ap50, coco.ap, objects, precision, recall, score, len(results),
                      milliseconds)
    return Report(names, ap[:, 0], ap.mean(axis=1), objects, precision, recall, score, len(results),
                  milliseconds)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the options of `physical-ai eval`."""
    parser.add_argument('--data', default='', metavar='DIR',
                        help='score on this YOLO-format dataset (data.yaml) instead of simulator frames')
    parser.add_argument('--split', default='val', help='with --data: the split to score (default val)')
    parser.add_argument('--plots', default='', metavar='DIR',
                        help='with --data: folder of pr_curve.png and confusion_matrix.png '
                        '(default: MODEL.eval beside the model)')
    parser.add_argument('--model', default=DEFAULT_MODEL,
                        help=f'TorchScript model file (default {DEFAULT_MODEL})')
    parser.add_argument('--images', type=int, default=500, help='held-out frames to render (default 500)')
    parser.add_argument('--first-seed', type=int, default=data.EVAL_FIRST_SEED,
                        help=f'simulator seed of the first {data.CHUNK} frames, the next seed for the next '
                        f'{data.CHUNK} (default {data.EVAL_FIRST_SEED}; training uses lower seeds)')
    parser.add_argument('--score-threshold', type=float, default=0.01,
                        help='lowest score kept for the AP curves (default 0.01)')
    parser.add_argument('--nms-iou', type=float, default=0.45,
                        help='per-class NMS overlap, as deployed (default 0.45)')
    parser.add_argument('--report-score', type=float, default=0.25,
                        help='score at which precision and recall are also shown (default 0.25, the node\'s)')
    parser.add_argument('--threads', type=int, default=0, help='torch threads (default 0: torch\'s default)')
    parser.add_argument('--render-workers', type=int, default=0,
                        help='processes rendering frames (default 0: every core)')
    parser.add_argument('--cache-dir', default=str(data.DEFAULT_CACHE),
                        help=f'where rendered frames are kept (default {data.DEFAULT_CACHE})')
    tracking_eval.add_arguments(parser)
    eval_3d.add_arguments(parser)


def run(args: argparse.Namespace) -> int:
    """Render (or reuse) the held-out frames, run the model on them, print the table; return the exit code."""
    if args.tracking:
        return tracking_eval.run(args)
    if args.data:
        return run_dataset(args)
    if args.depth:
        return eval_3d.run(args)
    if args.images < 1:
        print(f'error: --images is {args.images}; expected at least 1', file=sys.stderr)
        return 2
    if args.first_seed < data.EVAL_FIRST_SEED:
        print(f'warning: seeds from {args.first_seed} may overlap the training seeds '
              f'(below {data.EVAL_FIRST_SEED})', file=sys.stderr)
    try:
        detector = Detector.from_file(args.model, score_threshold=args.score_threshold, nms_iou=args.nms_iou,
                                      max_detections=100, threads=args.threads)
    except ModelError as err:
        print(f'error: {err}', file=sys.stderr)
        return 1
    samples = data.simulator_samples(args.first_seed, args.images, Path(args.cache_dir).expanduser(),
                                     workers=args.render_workers or None)
    names = data.class_names()
    last_seed = data.chunk_seeds(args.first_seed, args.images)[-1][0]
    report = evaluate(detector, samples, names, score=args.report_score)
    info = detector.model.info
    print(f'model {args.model}: input {info.input_size[1]}x{info.input_size[0]}, '
          f'{"frozen" if detector.model.frozen else detector.model.freeze_note}; '
          f'{report.frames} held-out frames (simulator seeds {args.first_seed}..{last_seed}), '
          f'{report.milliseconds:.1f} ms per frame (letterbox, forward, NMS)')
    print(report.table())
    return 0


def run_dataset(args: argparse.Namespace) -> int:
    """Score a model on a split of a YOLO dataset with pycocotools; print the table, write the plots."""
    from physical_ai.core.datasets.yolo import check_dataset
    from physical_ai.core.errors import PhysicalAIError
    from physical_ai.training import coco

    try:
        report = check_dataset(args.data)
        dataset = report.dataset
        if not dataset.images(args.split):
            raise ModelError(f'dataset {dataset.root} has no {args.split!r} split; '
                             f'splits: {", ".join(dataset.splits) or "none"}')
        if not report.ok:
            raise ModelError(f'{args.data}: {len(report.problems)} broken label(s), the first: '
                             f'{report.problems[0]}; see `physical-ai dataset check {args.data}`')
        detector = Detector.from_file(args.model, score_threshold=args.score_threshold, nms_iou=args.nms_iou,
                                      max_detections=100, threads=args.threads)
        names = dataset.names
        lookup = class_lookup(detector.names, names)
        note = ''
        if (lookup < 0).all() and (detector.num_classes or 0) == len(names):
            lookup = np.arange(len(names))
            note = ' (no class name in common: classes matched by index)'
        results, milliseconds = collect(detector, dataset.iter_samples(args.split), names, lookup=lookup)
    except PhysicalAIError as err:
        print(f'error: {err}', file=sys.stderr)
        return 1
    figures = coco.coco_evaluate(results, len(names))
    own = average_precision(results, len(names))
    table = report_of(results, names, args.report_score, milliseconds, coco=figures)
    info = detector.model.info
    size = 'image size' if info.input_size is None else f'{info.input_size[1]}x{info.input_size[0]}'
    print(f'model {args.model}: input {size}, '
          f'{"frozen" if detector.model.frozen else detector.model.freeze_note}; {table.frames} {args.split} '
          f'images of {dataset.root}{note}, {table.milliseconds:.1f} ms per frame (letterbox, forward, NMS)')
    print(table.table())
    own50 = float(np.nanmean(own[:, 0])) if np.isfinite(own[:, 0]).any() else float('nan')
    own_all = float(np.nanmean(own.mean(axis=1))) if np.isfinite(own).any() else float('nan')
    print(f'AP by pycocotools (COCOeval, bbox, maxDets 100); metrics.py on the same detections: mAP@0.5 '
          f'{own50:.4f} ({own50 - figures.map50:+.4f}), '
          f'mAP@0.5:0.95 {own_all:.4f} ({own_all - figures.map:+.4f})')
    matrix = coco.confusion_matrix(results, len(names), score=args.report_score)
    print(f'confusion matrix at score {args.report_score:g}, IoU 0.5:')
    print(coco.matrix_text(matrix, names))
    folder = Path(args.plots) if args.plots else Path(str(args.model) + '.eval')
    for path in coco.save_plots(figures, matrix, names, folder):
        print(f'wrote {path}')
    return 0
