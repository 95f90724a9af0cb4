"""The tracker on synthetic box sequences: persistence, crossings, occlusion, leaving the image, classes."""

import numpy as np
import pytest

from physical_ai.core.errors import ConfigError
from physical_ai.core.tracking import Tracker, TrackerConfig, iou_matrix

DT = 1.0 / 15.0
BALL, PERSON = 1, 0


def box(cx, cy, w=40.0, h=80.0):
    return [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2]


def frame(tracker, t, items):
    """items: (box, score, class); returns the ids as a list."""
    if not items:
        return tracker.update(np.zeros((0, 4)), np.zeros(0), np.zeros(0, int), t).tolist()
    boxes, scores, classes = zip(*items, strict=True)
    return tracker.update(np.array(boxes), np.array(scores), np.array(classes), t).tolist()


def test_iou_matrix():
    a = np.array([box(100, 100), box(300, 100)])
    b = np.array([box(100, 100), box(120, 100)])
    m = iou_matrix(a, b)
    assert m.shape == (2, 2)
    assert m[0, 0] == pytest.approx(1.0)
    assert m[0, 1] == pytest.approx((20 * 80) / (2 * 40 * 80 - 20 * 80))
    assert m[1, 0] == 0.0
    assert iou_matrix(np.zeros((0, 4)), b).shape == (0, 2)


def test_a_moving_object_keeps_its_id():
    tracker = Tracker()
    ids = [frame(tracker, i * DT, [(box(100 + 6 * i, 200), 0.9, BALL)])[0] for i in range(60)]
    assert ids[0] != 0 and set(ids) == {ids[0]}


def test_new_tracks_are_confirmed_on_their_second_frame():
    tracker = Tracker()
    assert frame(tracker, 0.0, [(box(100, 200), 0.9, BALL)]) == [1]  # first frame: at once
    first, new = frame(tracker, DT, [(box(100, 200), 0.9, BALL), (box(400, 200), 0.9, BALL)])
    assert first == 1 and new == 0
    assert frame(tracker, 2 * DT, [(box(100, 200), 0.9, BALL), (box(400, 200), 0.9, BALL)]) == [1, 2]


def test_low_scores_continue_a_track_but_never_start_one():
    tracker = Tracker()
    frame(tracker, 0.0, [(box(100, 200), 0.9, BALL)])
    assert frame(tracker, DT, [(box(102, 200), 0.3, BALL), (box(400, 200), 0.3, BALL)]) == [1, 0]
    assert frame(tracker, 2 * DT, [(box(104, 200), 0.9, BALL)]) == [1]
    assert frame(tracker, 3 * DT, [(box(400, 200), 0.3, BALL)]) == [0]
    assert len(tracker.tracks) == 1


def test_two_objects_crossing_keep_their_ids():
    """Two same-class boxes cross at constant speed; one hides the other for a few frames."""
    tracker = Tracker()
    a_ids, b_ids = [], []
    for i in range(40):
        t = i * DT
        a, b = box(100 + 10 * i, 200), box(500 - 10 * i, 205)
        items = [(a, 0.9, PERSON)]
        if not 18 <= i <= 22:  # b hidden behind a around the crossing
            items.append((b, 0.9, PERSON))
        ids = frame(tracker, t, items)
        a_ids.append(ids[0])
        if len(ids) > 1:
            b_ids.append(ids[1])
    assert set(a_ids) == {a_ids[0]}
    assert set(b_ids) == {b_ids[0]} and b_ids[0] != a_ids[0]


def test_an_id_survives_leaving_the_image_briefly():
    tracker = Tracker()
    for i in range(10):
        assert frame(tracker, i * DT, [(box(600, 200), 0.9, BALL)]) == [1]
    for i in range(10, 25):  # 1 s out of view
        assert frame(tracker, i * DT, []) == []
    # Comes back near where it left (cut by the border: a narrower box).
    assert frame(tracker, 25 * DT, [([600, 160, 640, 240], 0.8, BALL)]) == [1]


def test_an_id_is_dropped_after_lost_time():
    tracker = Tracker(TrackerConfig(lost_time=0.5))
    frame(tracker, 0.0, [(box(300, 200), 0.9, BALL)])
    frame(tracker, 1.0, [])
    frame(tracker, 1.0 + DT, [(box(300, 200), 0.9, BALL)])
    assert frame(tracker, 1.0 + 2 * DT, [(box(300, 200), 0.9, BALL)]) == [2]


def test_classes_never_share_a_track():
    tracker = Tracker()
    frame(tracker, 0.0, [(box(300, 200), 0.9, BALL)])
    frame(tracker, DT, [(box(300, 200), 0.9, PERSON)])
    assert frame(tracker, 2 * DT, [(box(300, 200), 0.9, PERSON)]) == [2]


def test_time_going_back_starts_afresh_and_ids_are_never_reused():
    tracker = Tracker()
    frame(tracker, 5.0, [(box(300, 200), 0.9, BALL)])
    assert frame(tracker, 1.0, [(box(300, 200), 0.9, BALL)]) == [2]


def test_bad_input_is_refused_or_ignored():
    tracker = Tracker()
    with pytest.raises(ValueError, match='differ in length'):
        tracker.update(np.zeros((2, 4)), np.zeros(1), np.zeros(2, int), 0.0)
    with pytest.raises(ValueError, match='finite'):
        tracker.update(np.zeros((0, 4)), np.zeros(0), np.zeros(0, int), float('nan'))
    ids = frame(tracker, 0.0, [([np.nan, 0, 10, 10], 0.9, BALL), (box(300, 200), np.nan, BALL)])
    assert ids == [0, 0] and tracker.tracks == []


@pytest.mark.parametrize('values, match', [
    ({'high_score': 1.5}, 'track_high_score'),
    ({'low_score': 0.6, 'high_score': 0.5}, 'track_low_score'),
    ({'lost_time': -1.0}, 'track_lost_time'),
])
def test_config_is_checked(values, match):
    with pytest.raises(ConfigError, match=match):
        Tracker(TrackerConfig(**values))
