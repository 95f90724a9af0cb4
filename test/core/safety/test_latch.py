"""The e-stop latch: engaged survives a new process, a corrupt file comes up engaged, samples ordered."""

import json
import os
import subprocess
import sys

from physical_ai.core.safety import EStopLatch, LatchStore
from physical_ai.core.safety.latch import SampleOrder


def test_only_an_explicit_release_releases(tmp_path):
    latch = EStopLatch(LatchStore(tmp_path / 'state.json'))
    assert not latch.engaged
    assert latch.engage('pub A') and not latch.engage('pub A')
    assert latch.engaged and latch.state.engage_count == 1
    assert latch.release('pub B') and not latch.release('pub B')
    assert not latch.engaged and latch.release_count == 1


def test_engaged_state_survives_a_new_process(tmp_path):
    path = tmp_path / 'state.json'
    code = ('import sys; from physical_ai.core.safety import EStopLatch, LatchStore; '
            f'EStopLatch(LatchStore({str(path)!r})).engage("operator"); '
            'import os; os.kill(os.getpid(), 9)')
    proc = subprocess.run([sys.executable, '-c', code], check=False)
    assert proc.returncode == -9  # killed right after engaging: nothing flushed at exit
    latch = EStopLatch(LatchStore(path))
    assert latch.engaged and latch.restored and latch.state.source == 'operator'
    latch.release('operator')
    assert not EStopLatch(LatchStore(path)).engaged


def test_missing_file_is_released_and_corrupt_file_is_engaged(tmp_path):
    path = tmp_path / 'state.json'
    assert not EStopLatch(LatchStore(path)).engaged
    for text in ('{', '[]', json.dumps({'version': 1, 'engaged': 'no'}), json.dumps({'version': 7})):
        path.write_text(text)
        latch = EStopLatch(LatchStore(path))
        assert latch.engaged, text
        assert 'corrupt' in latch.store_problem


def test_unwritable_store_still_engages_and_says_why(tmp_path):
    folder = tmp_path / 'ro'
    folder.mkdir()
    latch = EStopLatch(LatchStore(folder / 'state.json'))
    folder.chmod(0o500)
    try:
        if os.access(folder, os.W_OK):  # root ignores the mode: make the path a folder instead
            folder.chmod(0o700)
            (folder / 'state.json').mkdir()
        assert latch.engage('pub')
        assert latch.engaged and 'not saved' in latch.store_problem
    finally:
        folder.chmod(0o700)


def test_sample_order_drops_copies_and_older_samples_per_publisher():
    order = SampleOrder()
    assert order.accept('a', 10) and not order.accept('a', 10) and not order.accept('a', 5)
    assert order.accept('b', 5) and order.accept('a', 11)
    assert order.accept('', 0) and order.accept('', 0)  # nothing to order by: taken
