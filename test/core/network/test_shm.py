"""Stale Fast DDS shared-memory files: the ones a dead process left go, the ones a live process holds stay."""

from __future__ import annotations

import fcntl
import mmap
import os
from pathlib import Path
import signal
import sys
import time

from physical_ai.core.network.shm import SHM_DIR, _mapped_files, remove_stale_files
from physical_ai.testing import NodeProcess

SEGMENT = 'fastdds_0123456789abcdef'
LIVE_SEGMENT = 'fastdds_fedcba9876543210'


def make(directory: Path, *names: str, size: int = 4096, age: float = 60.0) -> None:
    for name in names:
        path = directory / name
        path.write_bytes(b'\0' * (0 if name.endswith(('_el', '_sl')) else size))
        then = time.time() - age
        os.utime(path, (then, then))


def test_files_of_dead_processes_go_and_held_ones_stay(tmp_path: Path) -> None:
    make(tmp_path, SEGMENT, f'{SEGMENT}_el', LIVE_SEGMENT, f'{LIVE_SEGMENT}_el',
         'fastdds_port7411', 'fastdds_port7411_el', 'sem.fastdds_port7411_mutex',  # dead listener
         'fastdds_port7413', 'fastdds_port7413_el',  # live listener
         'fastdds_port7415', 'sem.fastdds_port7415_mutex',  # no lock file, nobody maps it
         'fastdds_port7417',  # no lock file, mapped by a live process
         'unrelated_file', 'fastdds_notasegment')
    held = [os.open(tmp_path / name, os.O_RDONLY) for name in (f'{LIVE_SEGMENT}_el', 'fastdds_port7413_el')]
    for fd in held:
        fcntl.flock(fd, fcntl.LOCK_EX)
    with open(tmp_path / 'fastdds_port7417', 'r+b') as mapped_file, \
            mmap.mmap(mapped_file.fileno(), 0):
        try:
            would = remove_stale_files(tmp_path, dry_run=True)
            assert len(os.listdir(tmp_path)) == 14, 'a dry run removes nothing'
            found = remove_stale_files(tmp_path)
        finally:
            for fd in held:
                os.close(fd)
    # A port without a lock file goes only when every process could be read and none maps it; where
    # some process's maps are closed to this user (a container's init), it stays and is counted.
    _, every_process_read = _mapped_files(tmp_path)
    unlocked = ['fastdds_port7415'] if every_process_read else []
    assert found.segments == would.segments == [SEGMENT]
    assert found.ports == would.ports == ['fastdds_port7411', *unlocked]
    assert found.bytes == would.bytes == (3 + 2 * len(unlocked)) * 4096  # port files with their mutex
    assert found.kept_unsure == (0 if every_process_read else 2)
    kept = [] if every_process_read else ['fastdds_port7415', 'sem.fastdds_port7415_mutex']
    assert sorted(os.listdir(tmp_path)) == sorted([
        LIVE_SEGMENT, f'{LIVE_SEGMENT}_el', 'fastdds_port7413', 'fastdds_port7413_el', 'fastdds_port7417',
        'unrelated_file', 'fastdds_notasegment', *kept])
    assert f'1 segment(s) and {1 + len(unlocked)} port(s)' in found.summary()


def test_files_being_made_now_and_segments_without_lock_are_kept(tmp_path: Path) -> None:
    make(tmp_path, SEGMENT, f'{SEGMENT}_el', 'fastdds_port7411', 'fastdds_port7411_el', age=0.0)
    make(tmp_path, LIVE_SEGMENT)  # Fast DDS makes the lock before the segment: this one is being made
    assert not remove_stale_files(tmp_path)
    assert len(os.listdir(tmp_path)) == 5
    assert remove_stale_files(tmp_path, fresh_seconds=0.0).segments == [SEGMENT]


def test_a_killed_participant_leaves_files_that_are_found_stale(tmp_path: Path) -> None:
    """A real rclpy process killed with SIGKILL leaves its segment; a live one's files are kept."""
    code = ('import rclpy, sys, time; from std_msgs.msg import String; rclpy.init(); '
            "n = rclpy.create_node('shm_probe'); n.create_publisher(String, 'shm_probe', 1); "
            "n.create_subscription(String, 'shm_probe', lambda m: None, 1); print('ready', flush=True); "
            'time.sleep(120)')
    before = set(os.listdir(SHM_DIR))
    victim = NodeProcess([sys.executable, '-c', code], tmp_path, name='victim')
    survivor = NodeProcess([sys.executable, '-c', code], tmp_path, name='survivor')
    try:
        deadline = time.monotonic() + 60
        while not all('ready' in p.output() for p in (victim, survivor)):
            assert time.monotonic() < deadline, victim.output() + survivor.output()
            time.sleep(0.2)
        time.sleep(1.0)  # both discovered each other and opened each other's ports
        victim.stop(signal.SIGKILL)
        made = set(os.listdir(SHM_DIR)) - before
        segments = {name for name in made if len(name) == 24 and name.startswith('fastdds_')}
        assert len(segments) >= 2, f'each participant has a segment: {sorted(made)}'
        # The machine's /dev/shm: files younger than half a second may be another run's, being made
        # now; the victim's are older (made before 'ready', then a second's wait).
        found = remove_stale_files(fresh_seconds=0.5)
        ours = set(found.segments) & segments
        assert len(ours) == 1, f'the killed process has one data segment: {found.segments}'
        assert found.bytes > 0
        left = set(os.listdir(SHM_DIR))
        assert not ours & left
        assert segments - ours <= left, 'the live participant keeps its segment'
        assert survivor.proc.poll() is None
    finally:
        victim.stop(signal.SIGKILL)
        survivor.stop()
