"""A running image stream while participants join: stalled and lost frames per shared-memory setting.

When a participant opens another's shared-memory port (on discovery, or on the first send to it),
Fast DDS checks the port's health with the port's interprocess lock held: if the port's listener
has not woken since the port watchdog's last check, it sleeps `healthy_check_timeout_ms / 3`
(333 ms at Fast DDS's 1000 ms) and looks again. Every other process opening that port meanwhile
waits for the lock, on the thread that processes discovery and with the participant's discovery
lock held, and that lock also stops the process's shared-memory listener: its image stream stalls
(found with `perf record -e sched:sched_switch --call-graph dwarf`, docs/performance.md). A shorter
timeout shortens the sleep, and also how long a listener may stay asleep before the watchdog takes
its port for dead and rebuilds it, losing what was in it. This measures both, each setting in the
same run:

  a camera process publishes WxH bgr8 at a fixed rate (the loopback DDS profile, sensor-data QoS,
  keep last 1, as the nodes use); one receiver process records every frame it gets; then
  `--joiners` more receiver processes start one after another, as a recorder or `ros2 topic echo`
  joins on a robot, with `--busy` processes keeping the CPUs loaded as at a graph's start-up.

Each receiver writes a line per frame (sequence, DDS source and reception timestamps), so nothing
is lost when it is stopped. Printed per setting, over all rounds, for the receiver already running
and for the joiners: frames lost (published after the receiver's first frame, never received),
stalls (times the newest frame a receiver had grew older than `--stall` ms), the oldest it grew,
and the longest `publish` call. Settings run interleaved, round by round, each round in a domain of
its own, after the stale shared-memory files of dead processes are removed (a port left in
/dev/shm keeps the settings it was made with). 'stock' takes the shipped profile's
`healthy_check_timeout_ms` out; a number sets it. Asserts nothing.

    .venv/bin/python bench/bench_join.py [--camera 640x480@30] [--timeouts stock,150,300]
        [--joiners 4] [--rounds 3] [--busy 1]
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
import os
from pathlib import Path
import re
import signal
import subprocess
import sys
import tempfile
import time
from typing import Any

import numpy as np

from physical_ai.testing import NodeProcess

SHM_SEGMENT = '<segment_size>33554432</segment_size>'


@dataclass
class Group:
    """Figures of a group of receivers (the one already running, or the joiners)."""

    lost: int = 0
    expected: int = 0
    stalls: int = 0
    oldest_ms: float = 0.0  # the oldest the newest frame a receiver had grew


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--camera', default='640x480@30', metavar='WxH@HZ')
    parser.add_argument('--timeouts', default='stock,150,300',
                        help="healthy_check_timeout_ms values to compare; 'stock': Fast DDS's default")
    parser.add_argument('--joiners', type=int, default=4, help='receivers that join the running stream')
    parser.add_argument('--join-every', type=float, default=1.0, help='seconds between two joiners')
    parser.add_argument('--rounds', type=int, default=3)
    parser.add_argument('--busy', type=int, default=1, help='CPU-bound processes running meanwhile')
    parser.add_argument('--stall', type=float, default=150.0,
                        help='a stall: the newest frame a receiver has grows older than this (ms)')
    parser.add_argument('--role', choices=('camera', 'receiver'), help=argparse.SUPPRESS)
    parser.add_argument('--log', help=argparse.SUPPRESS)
    parser.add_argument('--seconds', type=float, default=0.0, help=argparse.SUPPRESS)
    return parser.parse_args()


def run_role(args: argparse.Namespace) -> int:
    """Camera or receiver: run for `--seconds` (or until SIGINT), one line per frame to `--log`."""
    import rclpy
    from rclpy.executors import ExternalShutdownException, SingleThreadedExecutor
    from sensor_msgs.msg import Image

    from physical_ai.core.image import array_to_image
    from physical_ai.core.wire_image import parse_image
    from physical_ai.nodes.common import sensor_qos

    rclpy.init()
    node = rclpy.create_node(f'bench_join_{args.role}_{os.getpid()}')
    log = open(args.log, 'w', buffering=1)  # a line per frame, written as it happens
    deadline = time.monotonic() + args.seconds
    try:
        if args.role == 'camera':
            size, rate = args.camera.lower().split('@')
            width, height = (int(v) for v in size.split('x'))
            pub = node.create_publisher(Image, 'camera/image_raw', sensor_qos())
            frame = np.random.default_rng(0).integers(0, 256, (height, width, 3), dtype=np.uint8)
            msg = array_to_image(frame, 'bgr8')
            next_time = time.monotonic()
            seq = 0
            while time.monotonic() < deadline:
                msg.header.frame_id = str(seq)
                before = time.time_ns()
                msg.header.stamp.sec, msg.header.stamp.nanosec = divmod(before, 1_000_000_000)
                pub.publish(msg)
                log.write(f'{seq} {before} {time.time_ns()}\n')
                seq += 1
                next_time += 1.0 / float(rate)
                time.sleep(max(0.0, next_time - time.monotonic()))
        else:
            def on_frame(data: bytes, info: dict) -> None:
                seq = parse_image(data).frame_id
                log.write(f'{seq} {info["source_timestamp"]} {info["received_timestamp"]}\n')

            node.create_subscription(Image, 'camera/image_raw', on_frame, sensor_qos(), raw=True)
            executor = SingleThreadedExecutor()
            executor.add_node(node)
            while time.monotonic() < deadline:
                executor.spin_once(timeout_sec=0.1)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        log.close()
        node.destroy_node()
        rclpy.try_shutdown()
    return 0


def read_lines(path: Path) -> list[tuple[int, int, int]]:
    """Return the complete lines of a role's log as integer triples."""
    if not path.exists():
        return []
    rows = []
    for line in path.read_text().splitlines():
        parts = line.split()
        if len(parts) == 3:
            rows.append(tuple(int(v) for v in parts))
    return rows


def wait_for_frames(path: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not read_lines(path):
        if time.monotonic() > deadline:
            raise RuntimeError(f'{path.name}: no frame within {timeout:g} s')
        time.sleep(0.1)


def profile_with_timeout(base: str, timeout: str, workdir: Path) -> Path:
    """Write the loopback profile with `healthy_check_timeout_ms` set (or, for 'stock', taken out)."""
    path = workdir / f'fastdds_{timeout}.xml'
    if SHM_SEGMENT not in base:
        raise RuntimeError(f'the loopback profile has no {SHM_SEGMENT}: update this benchmark')
    text = re.sub(r'<!--(?:(?!-->).)*healthy_check(?:(?!-->).)*-->\s*', '', base, flags=re.S)
    text = re.sub(r'\s*<healthy_check_timeout_ms>\d+</healthy_check_timeout_ms>', '', text)
    if timeout != 'stock':
        text = text.replace(
            SHM_SEGMENT, f'{SHM_SEGMENT}<healthy_check_timeout_ms>{int(timeout)}</healthy_check_timeout_ms>')
    path.write_text(text)
    return path


def one_round(args: argparse.Namespace, profile: Path, workdir: Path, tag: str) -> dict[str, Any]:
    """Camera, first receiver, joiners, in a domain of their own; return this round's figures."""
    from physical_ai.core.environment import claim_domain_id

    # A fresh domain per round: Fast DDS keeps a port's settings in its shared-memory file, and
    # ports left without a lock (docs/performance.md) would hand a round a previous setting's ports.
    # Ports numbered without the domain (7000 + n) are shared by every round all the same.
    env = dict(os.environ, FASTDDS_DEFAULT_PROFILES_FILE=str(profile), ROS_DOMAIN_ID=str(claim_domain_id()))
    script = os.path.abspath(__file__)
    seconds = 4.0 + args.joiners * args.join_every + 3.0  # start-up, joins, a settled tail
    busy = [subprocess.Popen([sys.executable, '-c', 'while True: pass'], start_new_session=True)
            for _ in range(args.busy)]
    procs: list[NodeProcess] = []

    def start(role: str, name: str, life: float) -> tuple[NodeProcess, Path]:
        log = workdir / f'{tag}_{name}.txt'
        procs.append(NodeProcess([sys.executable, script, '--role', role, '--camera', args.camera,
                                  '--seconds', f'{life:.2f}', '--log', str(log)], workdir, env=env,
                                 name=f'{tag}_{name}'))
        return procs[-1], log

    try:
        receivers = [start('receiver', 'receiver0', seconds + 10)[1]]
        camera_proc, camera = start('camera', 'camera', seconds)
        wait_for_frames(receivers[0], 30)
        for index in range(1, args.joiners + 1):
            time.sleep(args.join_every)
            receivers.append(start('receiver', f'receiver{index}', seconds + 10)[1])
        camera_proc.wait(seconds + 30)  # the camera ends by itself
        time.sleep(0.5)  # the last frames arrive
    finally:
        for proc in procs:
            proc.stop()
        for proc in busy:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
    published = {seq: (before, after) for seq, before, after in read_lines(camera)}
    if not published:
        raise RuntimeError(f'{tag}: the camera published nothing')
    figures: dict[str, Any] = {'running': Group(), 'joiners': Group()}
    for index, log in enumerate(receivers):
        group = figures['joiners' if index else 'running']
        rows = read_lines(log)
        if not rows:
            group.lost += 1  # a receiver that got nothing at all: counted once, its log says why
            group.expected += 1
            continue
        got = {seq for seq, _, _ in rows}
        expected = [seq for seq in published if seq >= min(got)]
        group.lost += sum(seq not in got for seq in expected)
        group.expected += len(expected)
        # How old the newest frame a receiver holds gets: the first frame's delay, then from each frame's
        # source time to the next frame's reception.
        ages = [(rows[0][2] - rows[0][1]) / 1e6]
        ages += [(b[2] - a[1]) / 1e6 for a, b in zip(rows, rows[1:], strict=False)]
        group.stalls += sum(age > args.stall for age in ages)
        group.oldest_ms = max([group.oldest_ms, *ages])
    figures['publish_ms'] = max((after - before) / 1e6 for before, after in published.values())
    return figures


def main() -> int:
    args = parse_args()
    if args.role:
        return run_role(args)
    from physical_ai.testing import isolate_environment, reexec_with_stack_environment

    reexec_with_stack_environment(__file__)
    isolate_environment()
    timeouts = args.timeouts.split(',')
    base = Path(os.environ['FASTDDS_DEFAULT_PROFILES_FILE']).read_text()
    workdir = Path(tempfile.mkdtemp(prefix='bench_join_'))
    profiles = {timeout: profile_with_timeout(base, timeout, workdir) for timeout in timeouts}
    print(f'camera {args.camera} bgr8; {args.joiners} receivers join {args.join_every:g} s apart after '
          f'the first; {args.busy} busy process(es); {args.rounds} round(s) per setting, interleaved, '
          f'each in a ROS_DOMAIN_ID of its own; loopback DDS; logs in {workdir}', flush=True)
    results: dict[str, list[dict[str, Any]]] = {timeout: [] for timeout in timeouts}

    def summary(rounds: list[dict[str, Any]], name: str) -> str:
        groups = [r[name] for r in rounds]
        lost, expected = sum(g.lost for g in groups), sum(g.expected for g in groups)
        return (f'{name} lost {lost}/{expected} ({100 * lost / max(expected, 1):.1f} %), '
                f'{sum(g.stalls for g in groups)} stalls, oldest {max(g.oldest_ms for g in groups):.0f} ms')

    for round_index in range(args.rounds):
        for timeout in timeouts:
            figures = one_round(args, profiles[timeout], workdir, f'r{round_index}_{timeout}')
            results[timeout].append(figures)
            print(f'  round {round_index + 1} {timeout:>6}: {summary([figures], "running")}; '
                  f'{summary([figures], "joiners")}; publish {figures["publish_ms"]:.1f} ms', flush=True)
    print(f'per setting, over all rounds: frames lost by the receiver already running and by the joiners '
          f'(after their first frame), stalls (times the newest frame a receiver had grew older than '
          f'{args.stall:g} ms), the oldest it grew, the longest publish call')
    for timeout, rounds in results.items():
        print(f'{timeout:>6}: {summary(rounds, "running")}; {summary(rounds, "joiners")}; '
              f'publish {max(r["publish_ms"] for r in rounds):.1f} ms')
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
