"""Distance filtering over frames."""

import random
import statistics

import pytest

from physical_ai.core.planning.filter import DistanceFilter


def test_constant_input_passes_through():
    f = DistanceFilter(time_constant=0.3)
    assert f.value is None
    assert [f.update(2.0, 0.1 * i) for i in range(5)] == [2.0] * 5


def test_single_frame_outlier_is_rejected():
    f = DistanceFilter(time_constant=0.0, window=3)
    for i in range(3):
        f.update(2.0, 0.1 * i)
    assert f.update(8.0, 0.3) == 2.0  # median of (2, 2, 8)
    assert f.update(2.0, 0.4) == 2.0


def test_noise_is_smoothed_and_step_followed():
    rng = random.Random(7)
    f = DistanceFilter(time_constant=0.3)
    raw = [2.0 + rng.gauss(0.0, 0.1) for _ in range(200)]
    out = [f.update(d, 0.05 * i) for i, d in enumerate(raw)]
    assert statistics.pstdev(out[20:]) < 0.5 * statistics.pstdev(raw[20:])
    assert statistics.mean(out[20:]) == pytest.approx(2.0, abs=0.05)
    # A real change of distance is followed within a few time constants.
    for i in range(200, 240):
        value = f.update(1.0, 0.05 * i)
    assert value == pytest.approx(1.0, abs=0.01)


def test_gap_or_time_going_back_restarts():
    f = DistanceFilter(time_constant=1.0, reset_after=0.5)
    f.update(3.0, 0.0)
    f.update(3.0, 0.1)
    assert f.update(1.0, 1.0) == 1.0  # 0.9 s gap > reset_after
    assert f.update(2.0, 0.5) == 2.0  # time went back
    f.reset()
    assert f.value is None


def test_rejects_non_finite():
    with pytest.raises(ValueError, match='finite'):
        DistanceFilter().update(float('nan'), 0.0)
