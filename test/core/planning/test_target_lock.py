"""The planner locks onto a track id: crossings, a better-scored rival, occlusion, re-acquisition."""

from dataclasses import replace

from physical_ai.core.planning import Detection, Intrinsics, Planner, PlannerConfig
from physical_ai.core.planning.messages import detections_from_msg

K = Intrinsics(fx=500.0, fy=500.0, cx=320.0, cy=240.0, width=640, height=480)
DT = 0.05


def person(u, distance=2.0, score=0.8, track_id=''):
    h = K.fy * 1.7 / distance
    return Detection('person', score, u, K.cy, h * 0.4, h, track_id=track_id)


def planner(**overrides):
    values = dict(behavior='follow', target_class='person', stop_classes=[''], stop_distance=2.0,
                  distance_filter_time=0.0, track_lock_timeout=1.0)
    values.update(overrides)
    p = Planner(PlannerConfig.from_params(values))
    p.set_intrinsics(K)
    return p


def test_a_better_scored_person_does_not_take_the_locked_target():
    p = planner()
    t = 0.0
    p.update(t, [person(200, score=0.6, track_id='4')])
    assert p.locked_id == '4'
    for i in range(1, 40):
        t = i * DT
        plan = p.update(t, [person(200, score=0.6, track_id='4'), person(450, score=0.95, track_id='9')])
        assert plan.target.track_id == '4'
        assert plan.angular > 0.0  # turns toward the followed one, on the left


def test_the_target_keeps_its_id_through_a_crossing():
    """Two people cross; the rival hides the target for a few frames, then both walk on."""
    p = planner()
    seen = []
    for i in range(60):
        t = i * DT
        a, b = 150 + 6 * i, 500 - 6 * i
        dets = [person(b, score=0.9, track_id='2')] if i >= 3 else []  # the rival walks in later
        if not 27 <= i <= 32:
            dets.append(person(a, score=0.7, track_id='1'))
        plan = p.update(t, dets)
        if plan.target is not None:
            seen.append(plan.target.track_id)
    assert set(seen) == {'1'}


def test_without_ids_the_best_scored_wins_as_before():
    p = planner()
    p.update(0.0, [person(200, score=0.6)])
    plan = p.update(DT, [person(200, score=0.6), person(450, score=0.95)])
    assert plan.target.detection.cx == 450 and p.locked_id == ''


def test_a_lost_lock_is_released_after_the_timeout_and_the_nearest_is_taken():
    p = planner(track_lock_timeout=0.5)
    p.update(0.0, [person(300, distance=2.0, track_id='1')])
    # The target's id is gone (tracker gave up); two others are there, the farther one scores better.
    near, far = person(310, distance=2.2, score=0.7, track_id='7'), person(600, distance=4.0, score=0.8,
                                                                           track_id='8')
    plan = p.update(0.3, [near, far])
    assert p.locked_id == '1' and plan.target.track_id == '1'  # held: nothing else taken
    plan = p.update(0.6, [near, far])
    assert p.locked_id == '7' and plan.target.track_id == '7' and p.reacquired == 1


def test_a_lock_resets_when_the_target_class_changes():
    p = planner()
    p.update(0.0, [person(300, track_id='1')])
    p.config = replace(p.config, target_class='ball', class_heights={'person': 1.7, 'ball': 0.25})
    assert p.locked_id == ''


def test_detection2d_id_becomes_the_track_id():
    from vision_msgs.msg import Detection2D, Detection2DArray, ObjectHypothesisWithPose

    msg = Detection2DArray()
    det = Detection2D(id='17')
    det.bbox.center.position.x, det.bbox.center.position.y = 100.0, 100.0
    det.bbox.size_x, det.bbox.size_y = 20.0, 40.0
    hyp = ObjectHypothesisWithPose()
    hyp.hypothesis.class_id, hyp.hypothesis.score = 'person', 0.9
    det.results.append(hyp)
    msg.detections.append(det)
    untracked = Detection2D()
    untracked.bbox = det.bbox
    untracked.results.append(hyp)
    msg.detections.append(untracked)
    found, problems = detections_from_msg(msg)
    assert problems == [] and [d.track_id for d in found] == ['17', '']


def test_a_hidden_locked_target_is_waited_for_and_one_gone_out_of_the_image_searched():
    p = planner(track_lock_timeout=1.0)
    p.update(0.0, [person(300, track_id='1')])
    plan = p.update(0.5, [])  # hidden in mid-image: wait, no search turn
    assert plan.state == 'searching' and plan.angular == 0.0 and 'hidden' in plan.reason
    plan = p.update(1.2, [])  # lock expired: search
    assert plan.state == 'searching' and plan.angular != 0.0
    q = planner()
    q.update(0.0, [person(630, track_id='1')])  # at the right border, then gone out of the image
    plan = q.update(0.5, [])
    assert plan.state == 'searching' and plan.angular < 0.0
