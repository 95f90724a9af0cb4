"""The harness itself: real nodes in separate processes talk over loopback-only DDS."""

import os
from pathlib import Path
import subprocess
import sys

from std_msgs.msg import String

from physical_ai.testing import python_command

CHATTER = str(Path(__file__).parent / 'support' / 'chatter.py')


def test_two_node_processes_pass_a_message(spawn):
    listener = spawn(python_command(CHATTER, 'listen'), name='listener')
    spawn(python_command(CHATTER, 'talk', 'hello over loopback'), name='talker')
    code = listener.wait(timeout=30)
    assert code == 0, listener.output()
    assert 'heard: hello over loopback' in listener.output()


def test_in_process_node_hears_a_node_process(ros, spawn):
    spawn(python_command(CHATTER, 'talk', 'from a process'), name='talker')
    msgs = ros.wait_for(String, 'chatter', qos=10, timeout=30)
    assert msgs[0].data == 'from a process'


def test_environment_is_isolated():
    profile = Path(os.environ['FASTDDS_DEFAULT_PROFILES_FILE'])
    text = profile.read_text()
    assert '<address>127.0.0.1</address>' in text
    assert '<useBuiltinTransports>false</useBuiltinTransports>' in text
    assert os.environ['ROS_AUTOMATIC_DISCOVERY_RANGE'] == 'SYSTEM_DEFAULT'
    assert 1 <= int(os.environ['ROS_DOMAIN_ID']) <= 232
    assert os.environ['ROS_LOG_DIR'].startswith('/tmp') or 'TMPDIR' in os.environ


def test_a_benchmark_runs_again_once_with_the_stack_environment(tmp_path):
    script = tmp_path / 'bench_env.py'
    script.write_text('import os, sys\n'
                      'print("run", os.getpid(), flush=True)\n'
                      'from physical_ai.testing import reexec_with_stack_environment\n'
                      'reexec_with_stack_environment(__file__)\n'
                      'print("args", sys.argv[1:], os.environ.get("GLIBC_TUNABLES", ""),\n'
                      '      os.environ.get("FASTDDS_DEFAULT_PROFILES_FILE", ""))\n')
    env = {k: v for k, v in os.environ.items() if k not in ('GLIBC_TUNABLES', 'PHYSICAL_AI_BENCH_ENV')}
    out = subprocess.run([sys.executable, str(script), '--x', '1'], env=env, capture_output=True, text=True,
                         timeout=60, check=True).stdout.splitlines()
    runs = [line for line in out if line.startswith('run ')]
    assert len(runs) == 2 and len({r.split()[1] for r in runs}) == 1  # execve: the same process, once again
    args, = [line for line in out if line.startswith('args ')]
    assert "['--x', '1']" in args and 'glibc.malloc' in args and 'fastdds_loopback.xml' in args
