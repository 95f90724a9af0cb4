"""Detection watchdog and e-stop latch."""

import math

from physical_ai.core.planning.safety import EStopLatch, Watchdog


def test_watchdog_judges_stamps_against_now():
    dog = Watchdog(timeout=0.5)
    assert not dog.fresh(100.0) and dog.status(100.0) == 'no detections yet'
    dog.feed(100.0)
    assert dog.fresh(100.0) and dog.fresh(100.5)
    assert not dog.fresh(100.51)
    assert 'stale: newest detections 0.510 s old' in dog.status(100.51)
    assert dog.reason(100.51) == 'no detections newer than detection_timeout (0.5 s)'
    assert dog.reason(100.2) == 'fresh'
    dog.feed(100.4)  # the last one received wins, even if older (a restarted clock)
    assert dog.fresh(100.8) and not dog.fresh(101.0)
    dog.feed(math.nan)
    assert dog.last_stamp == 100.4


def test_watchdog_stamps_far_in_the_future_are_stale():
    dog = Watchdog(timeout=0.5)
    dog.feed(200.0)
    assert dog.fresh(199.6)
    assert not dog.fresh(150.0)
    assert 'future' in dog.status(150.0)
    assert 'ahead of the clock' in dog.reason(150.0)


def test_e_stop_latches_until_false():
    latch = EStopLatch()
    assert not latch.engaged
    assert latch.update(True) and latch.engaged
    assert not latch.update(True) and latch.engaged and latch.engage_count == 1
    assert latch.update(False) and not latch.engaged
    assert latch.update(True) and latch.engage_count == 2
