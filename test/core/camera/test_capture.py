"""The capture thread on real sources: newest-frame slot, drops, faults, backoff and reconnects."""

import itertools
import os
import threading
import time

import pytest

from physical_ai.core.camera.capture import Backoff, Capture, Pacer, RateLimiter
from physical_ai.core.camera.sources import SourceOptions, create_source


def test_backoff_doubles_to_the_maximum_and_resets():
    backoff = Backoff(0.5, 5.0)
    assert [backoff.next() for _ in range(7)] == [0.5, 1.0, 2.0, 4.0, 5.0, 5.0, 5.0]
    backoff.reset()
    assert backoff.next() == 0.5


def test_pacer_spaces_frames_and_restarts_after_falling_behind():
    pacer = Pacer()
    assert pacer.delay(10.0, 0.1) == 0.0
    assert pacer.delay(10.02, 0.1) == pytest.approx(0.08)  # next slot at 10.1
    assert pacer.delay(10.1, 0.1) == pytest.approx(0.1)  # slot 10.2, no drift
    assert pacer.delay(10.6, 0.1) == 0.0  # far behind: no burst, the schedule restarts at now
    assert pacer.delay(10.6, 0.1) == pytest.approx(0.1)


def simulate(limiter, arrivals, period):
    """Publish times of the node's publish loop for frames arriving at `arrivals` (one-slot buffer)."""
    published = []
    for i, arrival in enumerate(arrivals):
        at = arrival + limiter.wait_time(arrival)  # the loop waits until allowed, then takes the slot
        if i + 1 < len(arrivals) and arrivals[i + 1] <= at:
            continue  # replaced by a newer frame before it could go out: dropped
        limiter.mark(at, period)
        published.append(at)
    return published


def test_rate_limiter_caps_the_average_and_tolerates_jitter():
    period = 0.1
    # A source at exactly the cap rate with +-30 ms jitter: no frame is held back.
    jitter = itertools.cycle([0.03, -0.03, 0.0, 0.02, -0.02])
    published = simulate(RateLimiter(), [i * period + next(jitter) for i in range(50)], period)
    assert len(published) == 50
    # A source three times faster than the cap: about a third gets through, never closer than P/2.
    published = simulate(RateLimiter(), [i * period / 3 for i in range(300)], period)
    assert 95 <= len(published) <= 101
    assert min(b - a for a, b in itertools.pairwise(published)) >= period / 2 - 1e-9
    assert (published[-1] - published[0]) / (len(published) - 1) >= period - 1e-9


def wait_until(condition, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    raise AssertionError('timed out')


def test_newest_frame_only_and_dropped_counted():
    source = create_source('test_pattern', SourceOptions(width=64, height=48, fps=100.0))
    stamps = itertools.count()
    capture = Capture(source, stamp=lambda: next(stamps))
    capture.start()
    try:
        first = capture.take(timeout=5.0)
        assert first is not None and first.image.shape == (48, 64, 3)
        time.sleep(0.3)  # nobody takes: frames replace each other in the one slot
        newest = capture.take(timeout=5.0)
        stats = capture.stats()
        assert newest.seq == stats.captured and newest.seq > first.seq + 5
        assert stats.dropped >= newest.seq - first.seq - 2
        assert newest.stamp > first.stamp  # stamped at read time by the given clock
        assert stats.state == 'streaming' and stats.frame_size == (64, 48)
        assert capture.take(timeout=0.0) is None or capture.stats().captured > newest.seq
    finally:
        capture.stop()
    assert not capture.running and capture.stats().state == 'stopped'


def test_folder_moved_away_and_back_reconnects(tmp_path, make_images):
    make_images(tmp_path / 'shots', [(1, 1, 1), (2, 2, 2)])
    events = []
    source = create_source(str(tmp_path / 'shots'), SourceOptions(fps=50.0))
    capture = Capture(source, on_event=lambda kind, text: events.append((kind, text)),
                      retry_min=0.05, retry_max=0.2)
    capture.start()
    try:
        assert capture.take(timeout=5.0) is not None
        os.rename(tmp_path / 'shots', tmp_path / 'away')
        wait_until(lambda: capture.stats().failures >= 3)
        stats = capture.stats()
        assert stats.state == 'reconnecting' and 'no image files found' in stats.last_error
        assert stats.down_since is not None and stats.retry_at is not None
        capture.take(timeout=0.0)  # forget any frame from before the fault
        assert capture.take(timeout=0.3) is None  # nothing is captured while it is gone
        os.rename(tmp_path / 'away', tmp_path / 'shots')
        assert capture.take(timeout=5.0) is not None
        stats = capture.stats()
        assert stats.reconnects == 1 and stats.state == 'streaming' and stats.down_since is None
        assert stats.last_error  # kept for diagnostics after recovery
    finally:
        capture.stop()
    kinds = [kind for kind, _ in events]
    assert kinds[0] == 'opened' and 'fault' in kinds and kinds[-1] == 'recovered'
    assert 'retrying in' in next(text for kind, text in events if kind == 'fault')


def test_real_backoff_schedule_while_down():
    source = create_source('test_pattern')
    source.open = lambda: (_ for _ in ()).throw(OSError('unplugged'))  # a source that never opens
    capture = Capture(source)
    capture.start()
    try:
        wait_until(lambda: capture.stats().failures >= 3, timeout=6.0)
        stats = capture.stats()
        # The n-th failure in a row waits 0.5 * 2**(n-1) s, at most 5 s (here 2 s after the third).
        expected = min(0.5 * 2 ** (stats.failures - 1), 5.0)
        assert stats.retry_at - stats.last_error_time == pytest.approx(expected, abs=1e-6)
        assert stats.last_error == 'OSError: unplugged'
    finally:
        capture.stop()


def test_stream_server_stopped_and_restarted(mjpeg_server):
    source = create_source(mjpeg_server.url, SourceOptions(timeout=1.0))
    capture = Capture(source, retry_min=0.1, retry_max=0.5)
    capture.start()
    try:
        assert capture.take(timeout=10.0) is not None
        mjpeg_server.stop()
        wait_until(lambda: capture.stats().state == 'reconnecting', timeout=10.0)
        mjpeg_server.start()
        wait_until(lambda: capture.stats().reconnects == 1, timeout=15.0)
        capture.take(timeout=0.0)
        assert capture.take(timeout=5.0) is not None
    finally:
        capture.stop()


def test_end_of_file_then_loop_switched_on(tmp_path, make_video):
    path = make_video(tmp_path / 'clip.avi', frames=3, fps=100.0)
    source = create_source(str(path), SourceOptions(loop=False))
    events = []
    capture = Capture(source, on_event=lambda kind, text: events.append(kind))
    capture.start()
    try:
        wait_until(lambda: capture.stats().state == 'ended')
        assert capture.stats().captured == 3 and capture.stats().failures == 0
        source.loop = True
        wait_until(lambda: capture.stats().captured > 6)
    finally:
        capture.stop()
    assert events[:2] == ['opened', 'ended']


def test_stop_interrupts_a_long_backoff():
    source = create_source('test_pattern')
    source.open = lambda: (_ for _ in ()).throw(OSError('gone'))
    capture = Capture(source, retry_min=30.0, retry_max=30.0)
    capture.start()
    wait_until(lambda: capture.stats().failures == 1)
    stopper = threading.Thread(target=capture.stop)
    stopper.start()
    stopper.join(timeout=10.0)  # a third of the backoff: the wait was interrupted
    assert not stopper.is_alive() and not capture.running
