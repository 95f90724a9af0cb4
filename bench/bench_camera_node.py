"""The camera node's own CPU cost per published 1280x720 frame at 30 fps from a video file.

Writes a 1280x720, 30 fps video of the moving test pattern with cv2.VideoWriter in a temporary
folder, then runs `CameraNode` on it in a child process started with the stack's environment
(loopback DDS with 32 MiB shared memory, malloc tuning), with a subscriber in this process so every
frame really goes out. The child measures its own CPU time (resource.getrusage: all its threads)
over a window after warm-up, and counts the frames it published. For scale, the CPU time of just
decoding the same file with cv2.VideoCapture is measured here. Prints figures; asserts nothing.

    .venv/bin/python bench/bench_camera_node.py [--seconds 10] [--codec mp4v] [--encoding bgr8]
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
import resource
import subprocess
import sys
import tempfile
import threading
import time

import cv2

WIDTH, HEIGHT, FPS = 1280, 720, 30.0


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--seconds', type=float, default=10.0, help='measuring window')
    parser.add_argument('--warmup', type=float, default=3.0, help='seconds before the window starts')
    parser.add_argument('--codec', default='mp4v', help='fourcc of the video file (mp4v, MJPG, ...)')
    parser.add_argument('--encoding', default='bgr8', choices=('bgr8', 'rgb8', 'mono8'))
    parser.add_argument('--child', nargs=1, metavar='VIDEO', help=argparse.SUPPRESS)
    return parser.parse_args()


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def write_video(path: Path, codec: str, frames: int = 90) -> None:
    from physical_ai.core.camera.sources import SourceOptions, create_source

    pattern = create_source('test_pattern', SourceOptions(width=WIDTH, height=HEIGHT, fps=FPS))
    pattern.open()
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*codec), FPS, (WIDTH, HEIGHT))
    if not writer.isOpened():
        raise SystemExit(f'OpenCV cannot write {codec} to {path}')
    for _ in range(frames):
        writer.write(pattern.read())
    writer.release()


def decode_cost(path: Path, frames: int = 150) -> float:
    """Return CPU ms per frame of a bare cv2.VideoCapture read loop over the file (looping)."""
    cap = cv2.VideoCapture(str(path))
    for _ in range(10):
        cap.read()
    start, done = cpu_seconds(), 0
    while done < frames:
        ok, _ = cap.read()
        if not ok:
            cap.release()
            cap = cv2.VideoCapture(str(path))
            continue
        done += 1
    cap.release()
    return (cpu_seconds() - start) / done * 1e3


def child(video: str, args: argparse.Namespace) -> None:
    """Run the node; print its CPU time and published frames over the window as one JSON line."""
    import rclpy
    from rclpy.executors import MultiThreadedExecutor
    from rclpy.parameter import Parameter

    from physical_ai.nodes.camera_node import CameraNode

    rclpy.init()
    node = CameraNode(parameter_overrides=[Parameter('source', value=video), Parameter('fps', value=FPS),
                                           Parameter('encoding', value=args.encoding)])
    executor = MultiThreadedExecutor()
    executor.add_node(node)
    threading.Thread(target=executor.spin, daemon=True).start()
    time.sleep(args.warmup)
    c0, cpu0, t0 = node.counters(), cpu_seconds(), time.monotonic()
    time.sleep(args.seconds)
    c1, cpu1, t1 = node.counters(), cpu_seconds(), time.monotonic()
    print(json.dumps({'cpu_s': cpu1 - cpu0, 'wall_s': t1 - t0, 'published': c1['published'] - c0['published'],
                      'captured': c1['captured'] - c0['captured'], 'dropped': c1['dropped'] - c0['dropped']}),
          flush=True)
    node.shutdown()
    executor.shutdown()  # stop spinning before the node goes away
    node.destroy_node()
    rclpy.shutdown()


def main() -> int:
    args = parse_args()
    if args.child:
        child(args.child[0], args)
        return 0
    from physical_ai.testing import isolate_environment

    isolate_environment()  # loopback DDS, a domain of its own, the stack's malloc tuning for the child
    import rclpy
    from rclpy.executors import SingleThreadedExecutor
    from rclpy.qos import qos_profile_sensor_data
    from sensor_msgs.msg import Image

    with tempfile.TemporaryDirectory(prefix='physical_ai_bench_camera_') as tmp:
        video = Path(tmp) / f'clip_{WIDTH}x{HEIGHT}.{"avi" if args.codec == "MJPG" else "mp4"}'
        write_video(video, args.codec)
        decode_ms = decode_cost(video)

        rclpy.init()
        listener = rclpy.create_node('bench_listener')
        received = []
        listener.create_subscription(Image, 'camera/image_raw', lambda m: received.append(time.monotonic()),
                                     qos_profile_sensor_data)
        executor = SingleThreadedExecutor()
        executor.add_node(listener)
        threading.Thread(target=executor.spin, daemon=True).start()
        command = [sys.executable, __file__, '--child', str(video), '--seconds', str(args.seconds),
                   '--warmup', str(args.warmup), '--encoding', args.encoding]
        result = subprocess.run(command, capture_output=True, text=True, env=dict(os.environ),
                                timeout=args.seconds + args.warmup + 60)
        executor.shutdown()
        listener.destroy_node()
        rclpy.shutdown()
    lines = [line for line in result.stdout.splitlines() if line.startswith('{')]
    if result.returncode != 0 or not lines:
        print(result.stdout + result.stderr)
        return 1
    m = json.loads(lines[-1])
    per_frame = m['cpu_s'] / max(m['published'], 1) * 1e3
    print(f'camera_node, {WIDTH}x{HEIGHT} {args.codec} video file at {FPS:g} fps, encoding {args.encoding}, '
          f'{m["wall_s"]:.1f} s window')
    print(f'  published             {m["published"] / m["wall_s"]:6.1f} fps ({m["published"]} frames, '
          f'{m["dropped"]} dropped; the subscriber here received {len(received)} over the whole run)')
    print(f'  node CPU              {per_frame:6.2f} ms per published frame '
          f'({m["cpu_s"] / m["wall_s"] * 100:.0f}% of one core)')
    print(f'  decoding alone        {decode_ms:6.2f} ms per frame (bare cv2.VideoCapture loop)')
    print(f'  node beyond decoding  {per_frame - decode_ms:6.2f} ms per frame '
          f'(ratio node / decode-only {per_frame / decode_ms:.2f})')
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
