"""Node executables at start-up: a signal while they import torch or MuJoCo, a malformed command line."""

from pathlib import Path
import signal
import sys
import time

import pytest


@pytest.mark.parametrize('sig', [signal.SIGINT, signal.SIGTERM])
def test_signal_during_start_up_exits_0_without_a_traceback(spawn, sig):
    proc = spawn([str(Path(sys.executable).parent / 'inference_node')], name='inference_early')
    time.sleep(0.5)  # importing torch takes seconds: the signal lands in the middle of it
    code = proc.stop(sig, timeout=20.0)
    out = proc.output()
    assert code == 0, out
    assert 'Traceback' not in out and 'KeyboardInterrupt' not in out
    assert f'{sig.name} during start-up: stopped before any node was created' in out


def test_malformed_ros_args_exit_2_with_what_to_fix(spawn):
    proc = spawn([str(Path(sys.executable).parent / 'planner_node'), '--ros-args', '-p'], name='bad_ros_args')
    code = proc.wait(timeout=60.0)  # exits by itself once rcl has read the arguments
    out = proc.output()
    assert code == 2, out
    assert 'Traceback' not in out
    assert "invalid ROS arguments: Couldn't parse trailing -p flag" in out
    assert 'arguments.c' not in out
