"""`physical-ai up`: real runner processes start profiles, keep namespaces apart, restart and stop cleanly."""

from dataclasses import replace
import json
import os
from pathlib import Path
import re
import signal
import subprocess
import sys
import warnings

from geometry_msgs.msg import Twist
import pytest
from sensor_msgs.msg import Image
from vision_msgs.msg import Detection2DArray

from physical_ai.core.profiles import available_profiles, load_profile
from physical_ai.runner import REEXEC_MARK, node_command
from physical_ai.testing import python_command

ROOT = Path(__file__).resolve().parent.parent
RELIABLE = 10
# Small images and a trivial model keep two whole stacks affordable on a 2-core machine.
SIM_SMALL = ['--set', 'sim.camera_width=160', '--set', 'sim.camera_height=120',
             '--set', 'sim.ground_truth=false']


def up(*args):
    return python_command('-m', 'physical_ai.cli', 'up', *args)


def fixed_ball_model(path):
    """Write a physical_ai/1 TorchScript model that always sees a ball near the image centre."""
    import torch

    class FixedBall(torch.nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            h, w = x.shape[2], x.shape[3]
            return torch.tensor([[w * 0.45, h * 0.45, w * 0.55, h * 0.55, 0.9, 1.0]])

    meta = {'format': 'physical_ai/1', 'names': ['person', 'ball', 'box', 'cylinder'], 'input_size': [64, 64],
            'input_channels': 'rgb', 'scale': 1 / 255, 'mean': [0.0, 0.0, 0.0], 'std': [1.0, 1.0, 1.0],
            'output': 'xyxy_score_class'}
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')  # TorchScript is deprecated upstream (Future/DeprecationWarning)
        torch.jit.save(torch.jit.script(FixedBall()), str(path),
                       _extra_files={'physical_ai.json': json.dumps(meta)})
    return path


def started_pids(proc, fqn):
    return [int(p) for p in re.findall(rf'started {re.escape(fqn)} \(pid (\d+)\)', proc.output())]


def moving(msg):
    return abs(msg.linear.x) > 1e-6 or abs(msg.angular.z) > 1e-6


def run_cli(*args, env=None):
    return subprocess.run([sys.executable, '-m', 'physical_ai.cli', 'up', *args], capture_output=True,
                          text=True, timeout=60, env=env)


def test_unknown_robot_lists_profiles_and_starts_nothing():
    result = run_cli('--robot', 'no_such_robot')
    assert result.returncode == 1
    assert "unknown robot 'no_such_robot'; available profiles:" in result.stderr
    for name in available_profiles():
        assert name in result.stderr
    assert 'Traceback' not in result.stderr and 'started' not in result.stderr


def test_bad_profile_fails_before_anything_starts(tmp_path):
    path = tmp_path / 'bad.yaml'
    path.write_text('nodes:\n  planner: {type: planner, parameters: {max_linear_speed: fast}}\n')
    result = run_cli('--robot', str(path), '--processes')
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"physical-ai up: {path}: nodes.planner.parameters.max_linear_speed: parameter max_linear_speed: "
        "expected double, got 'fast' (str)")
    result = run_cli('--robot', str(path).replace('bad', 'absent'))
    assert result.returncode == 1 and 'does not exist' in result.stderr


def test_print_shows_the_resolved_graph(tmp_path):
    path = tmp_path / 'bot.yaml'
    path.write_text('nodes:\n  planner: {type: planner, remappings: {cmd_vel: base/cmd_vel}}\n')
    result = run_cli('--robot', str(path), '--namespace', 'r9', '--set', 'planner.rate=5',
                     '--use-sim-time', 'true', '--print')
    assert result.returncode == 0, result.stderr
    assert '/r9/planner:' in result.stdout and 'rate: 5.0' in result.stdout
    assert 'use_sim_time: true' in result.stdout and 'cmd_vel:=base/cmd_vel' in result.stdout
    listed = run_cli('--list')
    assert listed.returncode == 0
    assert [line.split(':')[0] for line in listed.stdout.splitlines()] == available_profiles()


def test_node_command_uses_the_console_script_or_the_module(tmp_path):
    path = tmp_path / 'bot.yaml'
    path.write_text('nodes:\n  planner: {type: planner}\n')
    node = load_profile(path, namespace='r3').node('planner')
    command = node_command(node, tmp_path / 'p.yaml')
    assert command[0] == str(Path(sys.executable).parent / 'planner_node')
    assert command[1:] == ['--ros-args', '-r', '__node:=planner', '-r', '__ns:=/r3',
                           '--params-file', str(tmp_path / 'p.yaml')]
    missing = replace(node, executable='not_installed_node')
    assert node_command(missing)[:2] == [sys.executable, '-c']
    assert 'from physical_ai.nodes.planner_node import main' in node_command(missing)[2]


def test_crashed_child_is_restarted_a_bounded_number_of_times(ros, spawn, tmp_path):
    path = tmp_path / 'planner_only.yaml'
    path.write_text('nodes:\n  planner: {type: planner, parameters: {rate: 20.0}}\n')
    runner = spawn(up('--robot', str(path), '--namespace', 'crash', '--processes', '--max-restarts', '1'),
                   name='runner')
    commands = ros.collect(Twist, '/crash/cmd_vel', RELIABLE)
    commands.wait(1, timeout=60)
    first = started_pids(runner, '/crash/planner')
    assert len(first) == 1

    os.kill(first[0], signal.SIGKILL)
    ros.wait_until(lambda: len(started_pids(runner, '/crash/planner')) == 2, 30, 'the planner restarted')
    assert f'/crash/planner (pid {first[0]}) was killed by SIGKILL; restarting in 1.0 s (restart 1 of 1)' \
        in runner.output()
    second = started_pids(runner, '/crash/planner')[1]
    commands.clear()
    commands.wait(1, timeout=60)  # the new process drives the topic again

    os.kill(second, signal.SIGKILL)
    assert runner.wait(timeout=20) == 1
    assert f'/crash/planner (pid {second}) was killed by SIGKILL; giving up after 1 restart(s)' \
        in runner.output()


def sim_stack(spawn, model, namespace, *extra, env=None):
    args = up('--robot', 'sim', '--namespace', namespace, '--set', f'inference.model_path={model}',
              *SIM_SMALL, *extra)
    return spawn(args, name=f'runner_{namespace}', env=env)


@pytest.fixture
def model(tmp_path):
    return fixed_ball_model(tmp_path / 'fixed_ball.pt')


def test_sim_profile_in_one_process_and_clean_sigint(ros, spawn, model):
    # Started without the malloc tunables, the runner re-executes itself once with them.
    env = dict(os.environ)
    env.pop('GLIBC_TUNABLES', None)
    runner = sim_stack(spawn, model, 'robot1', env=env)
    images = ros.collect(Image, '/robot1/camera/image_raw')
    detections = ros.collect(Detection2DArray, '/robot1/detections', RELIABLE)
    commands = ros.collect(Twist, '/robot1/cmd_vel', RELIABLE)
    images.wait(1, timeout=90)
    detections.wait(1, timeout=60, predicate=lambda m: any(
        d.results and d.results[0].hypothesis.class_id == 'ball' for d in m.detections))
    commands.wait(1, timeout=60, predicate=moving)
    environ = Path(f'/proc/{runner.proc.pid}/environ').read_bytes().split(b'\0')
    assert f'{REEXEC_MARK}=1'.encode() in environ
    assert any(v.startswith(b'GLIBC_TUNABLES=glibc.malloc.trim_threshold=') for v in environ)
    assert all(m.width == 160 and m.height == 120 for m in images.messages)

    assert runner.stop(signal.SIGINT, timeout=5.0) == 0, runner.output()[-3000:]
    ros.wait_until(lambda: not moving(commands.messages[-1]), 5, 'the zero command')
    assert 'zero velocity published on shutdown' in runner.output()


def test_two_namespaces_side_by_side(ros, spawn, model):
    one = sim_stack(spawn, model, 'robot1')
    two = sim_stack(spawn, model, 'robot2', '--processes', '--set', 'sim.camera_width=128',
                    '--set', 'sim.camera_height=96', '--set', 'sim.seed=7')
    spaces = ('robot1', 'robot2')
    images = {ns: ros.collect(Image, f'/{ns}/camera/image_raw') for ns in spaces}
    detections = {ns: ros.collect(Detection2DArray, f'/{ns}/detections', RELIABLE) for ns in spaces}
    commands = {ns: ros.collect(Twist, f'/{ns}/cmd_vel', RELIABLE) for ns in spaces}
    for ns in spaces:
        images[ns].wait(3, timeout=120)
        detections[ns].wait(1, timeout=60)
        commands[ns].wait(1, timeout=60, predicate=moving)
    # Each namespace carries only its own robot's frames, and each robot its own clock.
    assert {(m.width, m.height) for m in images['robot1'].messages} == {(160, 120)}
    assert {(m.width, m.height) for m in images['robot2'].messages} == {(128, 96)}
    # The fixed box sits at the centre of the model input, i.e. of each robot's own image.
    centres = {ns: {round(d.bbox.center.position.x) for m in detections[ns].messages for d in m.detections}
               for ns in spaces}
    assert centres == {'robot1': {80}, 'robot2': {64}}
    helper = ros.node('graph_probe')
    assert helper.count_publishers('/robot1/clock') == 1 and helper.count_publishers('/robot2/clock') == 1
    assert helper.count_publishers('/clock') == 0
    assert two.stop(signal.SIGINT, timeout=5.0) == 0, two.output()[-3000:]
    assert one.stop(signal.SIGINT, timeout=5.0) == 0, one.output()[-3000:]
