"""Approximate-time matching: nearest within the slop, waiting, unmatched and dropped counts."""

from physical_ai.core.depth.sync import ApproximateSync


def test_detections_after_their_depth_image_match_exactly():
    sync = ApproximateSync(slop=0.02, queue_size=5)
    for i in range(3):
        assert sync.add_secondary(i * 0.1, f'depth{i}') == []
    assert sync.add_primary(0.1, 'det1') == [('det1', 'depth1')]
    assert sync.counters.matched == 1 and sync.counters.last_gap == 0.0


def test_a_primary_waits_until_no_later_secondary_can_be_nearer():
    sync = ApproximateSync(slop=0.05, queue_size=5)
    sync.add_secondary(0.0, 'a')
    assert sync.add_primary(0.03, 'p') == [] and sync.waiting == 1  # 0.03 off; one at 0.03 may come
    assert sync.add_secondary(0.04, 'b') == [('p', 'b')]


def test_stamps_never_within_the_slop_are_counted_with_the_gap():
    sync = ApproximateSync(slop=0.01, queue_size=5)
    sync.add_secondary(10.0, 'depth')
    sync.add_primary(10.5, 'det')
    assert sync.add_secondary(10.6, 'depth2') == []
    c = sync.counters
    assert (c.matched, c.unmatched) == (0, 1) and abs(c.min_gap - 0.1) < 1e-9


def test_no_depth_at_all_drops_detections_from_the_full_queue():
    sync = ApproximateSync(slop=0.01, queue_size=3)
    for i in range(5):
        sync.add_primary(float(i), i)
    assert sync.counters.dropped == 2 and sync.waiting == 3


def test_unused_depth_images_are_counted_and_a_restart_clears():
    sync = ApproximateSync(slop=0.01, queue_size=2)
    for i in range(4):
        sync.add_secondary(float(i), i)
    assert sync.counters.unused == 2
    sync.add_secondary(0.5, 'restart')
    assert sync.counters.restarts == 1
    assert sync.add_primary(0.5, 'p') == [('p', 'restart')]
