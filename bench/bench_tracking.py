"""Tracking cost per frame against inference, measured in one run on the same frames.

(a) Simulator frames (a scenario, 640x480, the robot driven by the planner) go through the
    shipped detector as the inference node runs it, then through the node's Tracker; the median
    time of each per frame and their ratio are printed.
(b) The tracker alone on synthetic frames with more objects (boxes drifting, scores random), to
    show how its cost grows with the number of boxes, as a ratio to (a)'s inference.
Prints figures; asserts nothing.

    .venv/bin/python bench/bench_tracking.py [--scenario two_balls] [--seconds 10] [--threads 1]
"""

from __future__ import annotations

import argparse
from pathlib import Path
import statistics
import time

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--scenario', default='two_balls', help='scenario of the rendered frames')
    parser.add_argument('--seconds', type=float, default=10.0, help='sim seconds of frames (15 fps)')
    parser.add_argument('--threads', type=int, default=1, help='torch threads of the detector')
    parser.add_argument('--model', default=str(ROOT / 'models' / 'default_detector.pt'))
    args = parser.parse_args()

    from physical_ai.core.detection import Detector
    from physical_ai.core.tracking import Tracker, TrackerConfig
    from physical_ai.training import tracking_eval

    detector = Detector.from_file(args.model, threads=args.threads)
    planner = {**tracking_eval.SIM_PLANNER, **tracking_eval.SEQUENCES.get(args.scenario, {})}
    result = tracking_eval.run_sequence(args.scenario, 0, args.seconds, 15.0, detector, TrackerConfig(),
                                        planner)
    inference = statistics.median(f.inference_ms for f in result.frames)
    tracking = statistics.median(f.tracking_ms for f in result.frames)
    boxes = statistics.mean(len(f.track_ids) for f in result.frames)
    print(f'(a) {args.scenario}: {len(result.frames)} frames, {boxes:.1f} tracked boxes per frame: inference '
          f'{inference:.2f} ms, tracking {tracking:.3f} ms per frame (medians); tracking / inference = '
          f'{tracking / inference:.4f}')

    rng = np.random.default_rng(0)
    for count in (10, 30, 100):
        tracker = Tracker()
        centres = rng.uniform([0, 0], [640, 480], (count, 2))
        velocity = rng.normal(0, 40, (count, 2))
        sizes = rng.uniform(10, 80, (count, 2))
        times = []
        for i in range(150):
            moved = centres + velocity * i / 15.0
            frame_boxes = np.hstack([moved - sizes / 2, moved + sizes / 2])
            scores = rng.uniform(0.2, 0.95, count)
            classes = np.arange(count) % 4
            began = time.perf_counter()
            tracker.update(frame_boxes, scores, classes, i / 15.0)
            times.append((time.perf_counter() - began) * 1e3)
        median = statistics.median(times[10:])
        print(f'(b) {count:>3} boxes per frame: tracking {median:.3f} ms (median) = '
              f'{median / inference:.4f} x (a)\'s inference')
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
