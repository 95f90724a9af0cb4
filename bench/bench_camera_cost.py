"""What a camera stream into a model's process costs the model: its bare loop with the camera on and off.

Behind a camera faster than the model, `inference_node` with one stream can at best run as fast as
the bare loop runs while the frames keep arriving: each frame still crosses the middleware into the
node's process (the camera's copy into shared memory, the node's listener copying it into its
history, the wake-ups), on the same cores as the model's two-thread team, and whenever one of
those takes a core from a team thread, the other waits for it at the next barrier. This measures
that cost without the node: the bare loop of the same model (preprocess + model + postprocess,
`--threads` torch threads) runs in this process, which subscribes to the camera topic as the node
does (sensor-data QoS, keep last 1, never taken), while in every other phase a camera process
(bench_join.py's, WxH bgr8 at a fixed rate) publishes to it. `--receiver` adds a process that takes
every frame, as a recorder does. Phases alternate, camera on and off, the order swapped each round,
so the machine's drift hits both alike. Prints each phase's frames per second and, per round, the
phase with the camera / the phase without it, and their median. Asserts nothing.

    .venv/bin/python bench/bench_camera_cost.py [--camera 1280x720@30] [--model yolov8n-cost]
        [--threads 2] [--rounds 10] [--seconds 5] [--receiver]
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
import statistics
import sys
import tempfile
import time

from bench_join import read_lines  # this folder: its --role camera / receiver logs, a line per frame
import numpy as np

from physical_ai.testing import NodeProcess

JOIN = Path(__file__).with_name('bench_join.py')  # its --role camera / receiver processes


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--camera', default='1280x720@30', metavar='WxH@HZ')
    parser.add_argument('--model', default='yolov8n-cost', help="'yolov8n-cost' (640x640) or a model file")
    parser.add_argument('--threads', type=int, default=2, help='torch threads of the bare loop')
    parser.add_argument('--rounds', type=int, default=10, help='rounds of one phase with, one without')
    parser.add_argument('--seconds', type=float, default=5.0, help='measuring time per phase')
    parser.add_argument('--receiver', action='store_true',
                        help='also run a process that takes every frame (as a recorder)')
    return parser.parse_args()


def frames_per_second(detector, frames: list[np.ndarray], seconds: float) -> float:
    """Run the bare loop for `seconds`; return its frames per second."""
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        detector.detect_arrays(frames[count % len(frames)], 'bgr')
        count += 1
    return count / (time.perf_counter() - start)


def main() -> int:
    args = parse_args()
    from physical_ai.testing import isolate_environment, reexec_with_stack_environment

    reexec_with_stack_environment(__file__)
    domain = isolate_environment()
    import rclpy
    from sensor_msgs.msg import Image
    import torch

    from physical_ai.core.detection import Detector, load_model, samples
    from physical_ai.nodes.common import TakenByCaller, never_called, sensor_qos

    size, rate = args.camera.lower().split('@')
    width, height = (int(v) for v in size.split('x'))
    workdir = Path(tempfile.mkdtemp(prefix='bench_camera_cost_'))
    torch.set_num_threads(args.threads)
    if args.model == 'yolov8n-cost':
        model_path = workdir / 'yolov8n_cost.pt'
        samples.save_yolov8n_cost(model_path, imgsz=(640, 640))
    else:
        model_path = Path(args.model).expanduser()
    detector = Detector(load_model(model_path, threads=args.threads))
    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 256, (height, width, 3), dtype=np.uint8) for _ in range(4)]
    rclpy.init()
    node = rclpy.create_node('bench_camera_cost')
    # As inference_node subscribes: serialized, never run by an executor (the node takes on demand).
    node.create_subscription(Image, 'camera/image_raw', never_called, sensor_qos(), raw=True,
                             callback_group=TakenByCaller())
    roles = ('receiver', 'camera') if args.receiver else ('camera',)
    also = ' + a process taking every frame' if args.receiver else ''
    print(f'model {model_path.name}, {args.threads} torch thread(s), frames {width}x{height}; camera '
          f'{args.camera} bgr8 from another process{also} into this process (subscribed, never taken); '
          f'ROS_DOMAIN_ID {domain}, loopback DDS; '
          f'{os.cpu_count()} CPUs, load average {", ".join(f"{v:.2f}" for v in os.getloadavg())}', flush=True)
    frames_per_second(detector, frames, 2.0)  # warm
    on: list[float] = []
    off: list[float] = []
    delivered: list[float] = []
    try:
        for index in range(args.rounds):
            for with_camera in ((True, False) if index % 2 == 0 else (False, True)):
                procs, logs = [], {role: workdir / f'r{index}_{role}.txt' for role in roles}
                if with_camera:
                    for role in roles:
                        procs.append(NodeProcess(
                            [sys.executable, str(JOIN), '--role', role, '--camera', args.camera,
                             '--seconds', f'{args.seconds + 60:.0f}', '--log', str(logs[role])],
                            workdir, name=role))
                    deadline = time.monotonic() + 60.0
                    while len(read_lines(logs[roles[0]])) < float(rate):  # a second of frames first
                        if time.monotonic() > deadline:
                            raise RuntimeError(f'{roles[0]}: not a second of frames within 60 s '
                                               f'(log {logs[roles[0]]})')
                        time.sleep(0.2)
                    sent = len(read_lines(logs['camera']))
                    started = time.monotonic()
                try:
                    fps = frames_per_second(detector, frames, args.seconds)
                    if with_camera:
                        published = len(read_lines(logs['camera'])) - sent
                        delivered.append(published / (time.monotonic() - started))
                finally:
                    for proc in procs:
                        proc.stop()
                (on if with_camera else off).append(fps)
                state = 'on ' if with_camera else 'off'
                print(f'  round {index + 1} camera {state}: {fps:.2f} fps', flush=True)
    finally:
        node.destroy_node()
        rclpy.shutdown()
    ratios = [a / b for a, b in zip(on, off, strict=True)]
    print(f'bare loop with the camera on:  {", ".join(f"{v:.2f}" for v in on)} fps (median '
          f'{statistics.median(on):.2f}); the camera published {statistics.median(delivered):.1f} fps '
          '(median)')
    print(f'bare loop with the camera off: {", ".join(f"{v:.2f}" for v in off)} fps (median '
          f'{statistics.median(off):.2f})')
    print(f'camera on / off, round by round: {", ".join(f"{r:.3f}" for r in ratios)}; median '
          f'{statistics.median(ratios):.3f}   (what the stream costs the model on these cores)')
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
