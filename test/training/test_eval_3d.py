"""`physical-ai eval --depth`: the 3D stage on rendered frames against the 3D ground truth."""

import statistics

from physical_ai.training.eval_3d import errors_of, table


def test_ground_truth_boxes_put_the_ball_within_centimetres():
    errors, frames, _ = errors_of(None, ('demo',), (1,), 2, max_distance=6.0)
    assert frames == 2 and errors['model'] == {}
    assert statistics.median(e[0] for e in errors['truth']['ball']) < 0.02
    assert 'truth   ball' in table(errors)
