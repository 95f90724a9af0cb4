"""Tracking metrics by trackeval on known sequences, and one short closed-loop sequence end to end."""

import math
from pathlib import Path

import numpy as np
import pytest

from physical_ai.training.tracking_eval import (
    SIM_PLANNER,
    FrameRecord,
    evaluate_sequence,
    run_sequence,
    target_figures,
    tracking_metrics,
)

MODEL = Path(__file__).resolve().parents[2] / 'models' / 'default_detector.pt'


def record(t, gt, tracks, target=('', '')):
    """gt: [(name, class, box)], tracks: [(id, class, box)]."""
    return FrameRecord(t, [g[0] for g in gt], [g[1] for g in gt],
                       np.array([g[2] for g in gt], float).reshape(-1, 4),
                       [k[0] for k in tracks], [k[1] for k in tracks],
                       np.array([k[2] for k in tracks], float).reshape(-1, 4), 10.0, 0.5, *target)


def box(x):
    return [x, 100, x + 40, 180]


def test_a_perfect_tracker_scores_one():
    frames = [record(i, [('a', 'person', box(10 * i)), ('b', 'ball', box(300))],
                     [(1, 'person', box(10 * i)), (2, 'ball', box(300))]) for i in range(20)]
    m = tracking_metrics(frames)
    assert m['HOTA'] == pytest.approx(1.0) and m['IDF1'] == pytest.approx(1.0) and m['IDSW'] == 0
    assert m['tracking_to_inference'] == pytest.approx(0.05)


def test_an_id_switch_is_counted_and_classes_never_match():
    frames = [record(i, [('a', 'person', box(100))], [(1 if i < 10 else 2, 'person', box(100))])
              for i in range(20)]
    m = tracking_metrics(frames)
    assert m['IDSW'] == 1 and m['IDF1'] == pytest.approx(0.5) and m['HOTA'] < 0.8
    wrong_class = [record(i, [('a', 'person', box(100))], [(1, 'ball', box(100))]) for i in range(5)]
    assert tracking_metrics(wrong_class)['MOTA'] <= 0.0


def test_target_figures_count_changes_of_id_and_object():
    frames = [record(i, [], [], target=('3' if i < 5 else '4', 'walker')) for i in range(10)]
    assert target_figures(frames) == {'object': 'walker', 'frames': 10, 'track_changes': 1,
                                      'object_changes': 0}


@pytest.mark.skipif(not MODEL.is_file(), reason=f'the shipped model {MODEL} does not exist yet')
def test_a_short_closed_loop_sequence():
    from physical_ai.core.detection import Detector

    detector = Detector.from_file(MODEL, threads=1)
    result = evaluate_sequence(run_sequence('two_balls', 0, 2.0, 10.0, detector, planner_values=SIM_PLANNER,
                                            width=320, height=240, min_pixels=20))
    print(result.line())
    assert len(result.frames) == 20
    assert all(math.isfinite(result.metrics[k]) for k in ('HOTA', 'IDF1', 'MOTA', 'tracking_ms'))
    assert result.target['object'] == 'ball_0' and result.target['track_changes'] == 0
