"""`physical-ai eval --tracking`: HOTA, IDF1 and ID switches of the tracker on rendered sequences.

Each sequence is a scenario run in closed loop without ROS: the simulator renders a frame, the
inference node's Detector and Tracker (same defaults as the node's parameters) find and track
the objects, the project's Planner (the `sim` profile's settings, with a behaviour per
scenario) drives the robot from them, and the simulator steps on. The simulator's ground truth
(exact boxes from segmentation, object names as ids) is the reference. Metrics are computed by
trackeval (the reference implementation of HOTA, Luiten et al., IJCV 2021; its CLEAR and
Identity metrics give MOTA, ID switches and IDF1), not by hand; boxes of different classes never
match. The followed target is judged too: how often the planner's target changed its track id,
and how often the ground-truth object under it changed.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
import math
import sys
import time
from typing import Any

import numpy as np

from physical_ai.core.tracking import Tracker, TrackerConfig, iou_matrix

# Sequences of `physical-ai eval --tracking` and the planner settings each is driven with (on top
# of the sim profile's planner parameters).
SEQUENCES: dict[str, dict[str, Any]] = {
    'crossing': {},
    'two_balls': {},
    'follow_person': {'behavior': 'follow', 'target_class': 'person', 'stop_distance': 2.5},
}
# The sim profile's planner parameters (config/robots/sim.yaml).
SIM_PLANNER = {'target_class': 'ball', 'camera_height': 0.3, 'distance_method': 'ground', 'min_score': 0.4}
TARGET_IOU = 0.3  # the planner's target box matches a ground-truth box of its class at this IoU


@dataclass
class FrameRecord:
    """One frame: ground truth and tracker output (boxes xyxy px), costs, the planner's target."""

    time: float
    gt_names: list[str]
    gt_classes: list[str]
    gt_boxes: np.ndarray
    track_ids: list[int]
    track_classes: list[str]
    track_boxes: np.ndarray
    inference_ms: float
    tracking_ms: float
    target_track: str = ''  # the planner's target track id in this frame ('' = none, or untracked)
    target_object: str = ''  # the ground-truth object under the planner's target ('' = none matched)


@dataclass
class SequenceResult:
    """A rendered sequence and its figures."""

    scenario: str
    seed: int
    frames: list[FrameRecord] = field(default_factory=list)
    metrics: dict[str, float] = field(default_factory=dict)
    target: dict[str, Any] = field(default_factory=dict)

    def line(self) -> str:
        """Return the figures as one line of text."""
        m, t = self.metrics, self.target
        return (f'{self.scenario:<14} seed {self.seed:<3} frames {len(self.frames):>4}  '
                f'HOTA {m["HOTA"]:.3f}  DetA {m["DetA"]:.3f}  AssA {m["AssA"]:.3f}  '
                f'IDF1 {m["IDF1"]:.3f}  MOTA {m["MOTA"]:.3f}  '
                f'IDsw {int(m["IDSW"])}  | target {t["object"] or "-"}: in {t["frames"]} frames, '
                f'track id changes {t["track_changes"]}, object changes {t["object_changes"]}  | '
                f'tracking {m["tracking_ms"]:.2f} ms/frame = {m["tracking_to_inference"]:.3f} x inference '
                f'({m["inference_ms"]:.1f} ms)')


def run_sequence(scenario: str, seed: int, seconds: float, fps: float, detector: Any,
                 tracker_config: TrackerConfig | None = None, planner_values: Mapping[str, Any] | None = None,
                 width: int = 640, height: int = 480, min_pixels: int = 50) -> SequenceResult:
    """Run one closed-loop sequence and return its frames (metrics not yet computed).

    `planner_values`: planner parameters (None: the robot stands still). Ground-truth objects
    with fewer than `min_pixels` visible pixels are left out (slivers no detector can see).
    """
    from physical_ai.core.planning import Detection, Intrinsics, Planner, PlannerConfig
    from physical_ai.core.sim.camera import CameraSpec
    from physical_ai.core.sim.simulator import Simulator

    sim = Simulator(scenario, seed=seed, camera=CameraSpec(width, height), min_visible_pixels=min_pixels)
    tracker = Tracker(tracker_config)
    planner = None
    if planner_values is not None:
        planner = Planner(PlannerConfig.from_params(dict(planner_values)))
        k = sim.intrinsics
        planner.set_intrinsics(Intrinsics(k.fx, k.fy, k.cx, k.cy, k.width, k.height))
    result = SequenceResult(scenario, seed)
    dt = 1.0 / fps
    try:
        for _ in range(max(1, round(seconds * fps))):
            frame = sim.render()
            began = time.perf_counter()
            boxes, scores, classes = detector.detect_arrays(frame.image, 'rgb')
            middle = time.perf_counter()
            ids = tracker.update(boxes, scores, classes, frame.time)
            ended = time.perf_counter()
            names = [detector.class_name(c) for c in classes.tolist()]
            truths = frame.truths
            record = FrameRecord(
                frame.time, [t.name for t in truths], [t.class_name for t in truths],
                np.array([t.box for t in truths], np.float64).reshape(-1, 4),
                [int(i) for i in ids if i], [n for n, i in zip(names, ids, strict=True) if i],
                boxes[ids > 0].astype(np.float64).reshape(-1, 4), (middle - began) * 1e3,
                (ended - middle) * 1e3)
            command = (0.0, 0.0)
            if planner is not None:
                detections = [Detection.from_corners(n, float(s), *b) for n, s, b
                              in zip(names, scores.tolist(), boxes.tolist(), strict=True)]
                detections = [Detection(d.class_name, d.score, d.cx, d.cy, d.width, d.height,
                                        track_id=str(i) if i else '')
                              for d, i in zip(detections, ids, strict=True)]
                plan = planner.update(frame.time, detections)
                command = (plan.linear, plan.angular)
                target = plan.target
                if target is not None and target.stamp == frame.time:
                    record.target_track = target.track_id
                    record.target_object = _object_under(target.detection, record)
            result.frames.append(record)
            sim.step(command, dt=dt)
    finally:
        sim.close()
    return result


def _object_under(det: Any, record: FrameRecord) -> str:
    box = np.array([[det.cx - det.width / 2, det.cy - det.height / 2, det.cx + det.width / 2,
                     det.cy + det.height / 2]])
    same = np.array([c == det.class_name for c in record.gt_classes], bool)
    if not same.any():
        return ''
    overlap = np.where(same, iou_matrix(box, record.gt_boxes)[0], 0.0)
    best = int(np.argmax(overlap))
    return record.gt_names[best] if overlap[best] >= TARGET_IOU else ''


def trackeval_data(frames: Sequence[FrameRecord]) -> dict[str, Any]:
    """Return one sequence in trackeval's preprocessed form (ids 0.., IoU similarity, classes kept apart)."""
    gt_index: dict[str, int] = {}
    tr_index: dict[int, int] = {}
    data: dict[str, Any] = {'gt_ids': [], 'tracker_ids': [], 'similarity_scores': []}
    gt_dets = tr_dets = 0
    for f in frames:
        gt = np.array([gt_index.setdefault(n, len(gt_index)) for n in f.gt_names], int)
        tr = np.array([tr_index.setdefault(i, len(tr_index)) for i in f.track_ids], int)
        similarity = iou_matrix(f.gt_boxes, f.track_boxes)
        same = np.array(f.gt_classes, object)[:, None] == np.array(f.track_classes, object)[None, :] \
            if len(gt) and len(tr) else np.zeros(similarity.shape, bool)
        data['gt_ids'].append(gt)
        data['tracker_ids'].append(tr)
        data['similarity_scores'].append(np.where(same, similarity, 0.0))
        gt_dets += len(gt)
        tr_dets += len(tr)
    data.update(num_timesteps=len(frames), num_gt_ids=len(gt_index), num_tracker_ids=len(tr_index),
                num_gt_dets=gt_dets, num_tracker_dets=tr_dets)
    return data


def tracking_metrics(frames: Sequence[FrameRecord]) -> dict[str, float]:
    """Return HOTA, DetA, AssA (means over the IoU thresholds), IDF1, MOTA, IDSW and median costs (ms)."""
    from trackeval.metrics import CLEAR, HOTA, Identity

    data = trackeval_data(frames)
    quiet = {'PRINT_CONFIG': False}
    hota = HOTA(quiet).eval_sequence(data)
    clear = CLEAR(quiet).eval_sequence(data)
    identity = Identity(quiet).eval_sequence(data)
    # Medians: the first calls of a TorchScript model include its optimisation passes.
    inference = float(np.median([f.inference_ms for f in frames])) if frames else math.nan
    tracking = float(np.median([f.tracking_ms for f in frames])) if frames else math.nan
    return {'HOTA': float(np.mean(hota['HOTA'])), 'DetA': float(np.mean(hota['DetA'])),
            'AssA': float(np.mean(hota['AssA'])), 'IDF1': float(identity['IDF1']),
            'MOTA': float(clear['MOTA']), 'IDSW': float(clear['IDSW']),
            'inference_ms': inference, 'tracking_ms': tracking,
            'tracking_to_inference': tracking / inference if inference > 0 else math.nan}


def target_figures(frames: Sequence[FrameRecord]) -> dict[str, Any]:
    """Return the followed target's figures: its object, frames, track id and object changes."""
    seen = [(f.target_track, f.target_object) for f in frames if f.target_track or f.target_object]
    tracks = [t for t, _ in seen if t]
    objects = [o for _, o in seen if o]
    main = max(set(objects), key=objects.count) if objects else ''
    return {'object': main, 'frames': len(seen),
            'track_changes': sum(a != b for a, b in zip(tracks, tracks[1:], strict=False)),
            'object_changes': sum(a != b for a, b in zip(objects, objects[1:], strict=False))}


def evaluate_sequence(result: SequenceResult) -> SequenceResult:
    """Fill the metrics and target figures of a run sequence; return it."""
    result.metrics = tracking_metrics(result.frames)
    result.target = target_figures(result.frames)
    return result


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the tracking options of `physical-ai eval`."""
    group = parser.add_argument_group('tracking (--tracking)')
    group.add_argument('--tracking', action='store_true',
                       help='score the tracker (HOTA, IDF1, ID switches by trackeval) on closed-loop '
                       f'sequences of the scenarios {", ".join(SEQUENCES)} instead of the detector\'s mAP')
    group.add_argument('--scenario', action='append', default=None, metavar='NAME',
                       help='with --tracking: scenario(s) to run (repeatable; default: all of the above)')
    group.add_argument('--seconds', type=float, default=20.0,
                       help='with --tracking: sim seconds per sequence (default 20)')
    group.add_argument('--fps', type=float, default=15.0, help='with --tracking: camera rate (default 15)')
    group.add_argument('--seed', type=int, default=0, help='with --tracking: simulator seed (default 0)')
    group.add_argument('--still', action='store_true',
                       help='with --tracking: the robot stands still (no planner)')


def run(args: argparse.Namespace) -> int:
    """Run the sequences and print their figures; return the exit code."""
    from physical_ai.core.detection import Detector, ModelError
    from physical_ai.core.errors import ConfigError
    from physical_ai.params.inference import PARAMS

    defaults = {spec.name: spec.default for spec in PARAMS}
    try:
        detector = Detector.from_file(args.model, score_threshold=defaults['score_threshold'],
                                      nms_iou=defaults['nms_iou'], max_detections=defaults['max_detections'],
                                      threads=args.threads)
        tracker_config = TrackerConfig.from_params(defaults)
    except (ModelError, ConfigError) as err:
        print(f'error: {err}', file=sys.stderr)
        return 1
    names = args.scenario or list(SEQUENCES)
    print(f'tracking on {len(names)} closed-loop sequence(s) of {args.seconds:g} s at {args.fps:g} fps, '
          f'model {args.model}; HOTA/DetA/AssA/IDF1/MOTA/IDsw by trackeval')
    for name in names:
        planner = None if args.still else {**SIM_PLANNER, **SEQUENCES.get(name, {})}
        try:
            result = run_sequence(name, args.seed, args.seconds, args.fps, detector, tracker_config, planner)
        except ConfigError as err:
            print(f'error: {err}', file=sys.stderr)
            return 1
        print(evaluate_sequence(result).line(), flush=True)
    return 0
