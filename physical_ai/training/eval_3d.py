"""3D position error of the 3D stage against the simulator's 3D ground truth (`physical-ai eval --depth`).

Renders short drives through the demo scenarios (colour, aligned depth and ground truth from one
pass, as the simulator node publishes them), locates each detection in 3D with the 3D stage's
logic (physical_ai.core.depth, the node's default settings) and compares its centre with the
ground-truth centre (sim/ground_truth_3d: the object's centre in the optical frame) of the object
it overlaps (same class, box IoU >= 0.5). Reported twice: with the model's boxes (what the robot
gets) and with the ground-truth boxes (the depth stage alone), per class and overall, for objects
within `--max-distance` of the camera: the centre error, the same for the objects whole in the
image (a box cut by the image border is the visible part's, so its centre is not the object's, as
KITTI's truncation levels separate), and the horizontal error (x, z: what the planner uses).
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Sequence
import math
import sys
import time

import numpy as np

SCENARIOS = ('demo', 'person_in_path')
MIN_SCORE = 0.4  # the sim profile's planner min_score
MATCH_IOU = 0.5
BORDER_PX = 2.0  # a ground-truth box this close to the image border is cut by it (truncated)


def _iou(a: Sequence[float], b: Sequence[float]) -> float:
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = w * h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def frames(scenarios: Iterable[str], seeds: Iterable[int], steps: int, width: int = 640,
           height: int = 480) -> Iterable[tuple[object, object]]:
    """Yield (simulator, frame) along a slow forward drive per scenario and seed."""
    from physical_ai.core.sim.camera import CameraSpec
    from physical_ai.core.sim.simulator import Simulator

    for scenario in scenarios:
        for seed in seeds:
            with Simulator(scenario, seed, CameraSpec(width, height)) as sim:
                for _ in range(steps):
                    yield sim, sim.render(True, True)
                    sim.step((0.35, 0.05), dt=1.0)


Errors = dict[str, dict[str, list[tuple[float, float, bool]]]]


def errors_of(detector: object, scenarios: Iterable[str], seeds: Iterable[int], steps: int,
              max_distance: float) -> tuple[Errors, int, float]:
    """Return the errors, the frame count and ms per 3D frame.

    Errors: {'model'|'truth': {class: [(centre error, horizontal error (m), truncated)]}}.
    """
    from physical_ai.core.depth.estimate import Camera, DepthSettings, box_region, locate, parse_class_depths
    from physical_ai.params.depth import PARAMS

    defaults = {spec.name: spec.default for spec in PARAMS}
    settings = DepthSettings(defaults['min_range'], defaults['max_range'], defaults['cluster_gap'],
                             defaults['cluster_gap_fraction'], defaults['min_fraction'],
                             defaults['near_percentile'], defaults['min_pixels'],
                             parse_class_depths(defaults['class_depths']))
    errors: Errors = {'model': {}, 'truth': {}}
    count, spent = 0, 0.0
    for sim, frame in frames(scenarios, seeds, steps):
        k = sim.intrinsics
        camera = Camera(k.fx, k.fy, k.cx, k.cy, k.width, k.height)
        truths = [t for t in frame.truths if 0.0 < t.position[2] <= max_distance]
        count += 1
        boxes = []
        if detector is not None:
            boxes = [(d.class_name, (d.x1, d.y1, d.x2, d.y2)) for d in detector.detect(frame.image, 'rgb')
                     if d.score >= MIN_SCORE]
        started = time.perf_counter()
        for source, candidates in (('truth', [(t.class_name, t.box) for t in truths]), ('model', boxes)):
            for class_name, box in candidates:
                matches = [t for t in truths if t.class_name == class_name and _iou(box, t.box) >= MATCH_IOU]
                if not matches:
                    continue
                truth = max(matches, key=lambda t: _iou(box, t.box))
                cx, cy, w, h = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2, box[2] - box[0], box[3] - box[1]
                region = box_region(frame.depth, cx, cy, w, h)
                obj = locate(region, camera, class_name, cx, cy, w, h, settings)
                if obj is not None:
                    dx, dz = obj.centre[0] - truth.position[0], obj.centre[2] - truth.position[2]
                    b = truth.box
                    cut = min(b[0], b[1]) <= BORDER_PX or b[2] >= k.width - BORDER_PX \
                        or b[3] >= k.height - BORDER_PX
                    errors[source].setdefault(class_name, []).append(
                        (math.dist(obj.centre, truth.position), math.hypot(dx, dz), cut))
        spent += time.perf_counter() - started
    return errors, count, spent * 1e3 / max(count, 1)


def _median(values: Sequence[float]) -> str:
    return f'{np.median(values):.3f}' if len(values) else '-'


def table(errors: Errors) -> str:
    """Return the error table per class and overall: all objects, whole ones, horizontal error."""
    lines = [f'{"boxes":<7} {"class":<10} {"objects":>7} {"median m":>9} {"p90 m":>7} {"max m":>7} '
             f'{"whole":>6} {"median m":>9} {"horizontal median m":>20}']
    for source in ('model', 'truth'):
        by_class = errors[source]
        rows = sorted(by_class.items()) + [('all', [e for v in by_class.values() for e in v])]
        for name, values in rows:
            if not values:
                lines.append(f'{source:<7} {name:<10} {0:>7}')
                continue
            v = np.asarray([e[0] for e in values])
            whole = [e[0] for e in values if not e[2]]
            lines.append(f'{source:<7} {name:<10} {v.size:>7} {np.median(v):>9.3f} '
                         f'{np.percentile(v, 90):>7.3f} {v.max():>7.3f} {len(whole):>6} {_median(whole):>9} '
                         f'{_median([e[1] for e in values]):>20}')
    return '\n'.join(lines)


def run(args: argparse.Namespace) -> int:
    """Print the 3D centre errors of `physical-ai eval --depth`; return the exit code."""
    from physical_ai.core.detection import Detector, ModelError

    try:
        detector = Detector.from_file(args.model, score_threshold=0.25, nms_iou=args.nms_iou,
                                      max_detections=100, threads=args.threads)
    except ModelError as err:
        print(f'error: {err}', file=sys.stderr)
        return 1
    seeds = range(args.first_seed, args.first_seed + args.depth_seeds)
    errors, count, ms = errors_of(detector, SCENARIOS, seeds, args.depth_steps, args.max_distance)
    print(f'3D centre error against the 3D ground truth: {count} frames (scenarios {", ".join(SCENARIOS)}, '
          f'seeds {seeds.start}..{seeds.stop - 1}, {args.depth_steps} frames each), objects within '
          f'{args.max_distance:g} m, model {args.model}; the 3D stage took {ms:.2f} ms per frame')
    print(table(errors))
    return 0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the options of `physical-ai eval --depth`."""
    parser.add_argument('--depth', action='store_true',
                        help='score the 3D stage instead: centre error against the 3D ground truth')
    parser.add_argument('--depth-seeds', type=int, default=4,
                        help='with --depth: seeds per scenario (default 4)')
    parser.add_argument('--depth-steps', type=int, default=8,
                        help='with --depth: frames per drive, 1 s of driving apart (default 8)')
    parser.add_argument('--max-distance', type=float, default=5.0,
                        help='with --depth: objects up to this far (m, optical z) are scored (default 5)')
