"""What receiving camera frames costs a node that uses few of them: typed vs serialized subscription.

A camera in this process publishes WxH bgr8 frames at a fixed rate (loopback DDS profile, malloc
tuning); a subscriber process receives them for `--seconds` and uses one frame in `--keep`
(as an inference node behind a slower model does). Variants of the subscriber:
  typed:  the usual `create_subscription(Image, ...)`: every frame deserialized into a Python message;
  raw:    `raw=True`, the callback keeps the bytes; only the kept frame is parsed
          (`physical_ai.core.wire_image.parse_image`: header fields, pixels a view), as inference_node does;
  raw+deserialize: `raw=True`, and the kept frame deserialized with rclpy.serialization.
Prints the subscriber's CPU (percent of one core) and frames received for each, measured in one run.

    .venv/bin/python bench/bench_image_receive.py [--camera 1280x720@30] [--seconds 8] [--keep 6]
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
import sys
import threading
import time

import numpy as np

from physical_ai.testing import NodeProcess

VARIANTS = ('typed', 'raw', 'raw+deserialize')


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--camera', default='1280x720@30', metavar='WxH@HZ')
    parser.add_argument('--seconds', type=float, default=8.0)
    parser.add_argument('--keep', type=int, default=6, help='the subscriber uses one frame in KEEP')
    parser.add_argument('--subscriber', choices=VARIANTS, help=argparse.SUPPRESS)
    parser.add_argument('--report', help=argparse.SUPPRESS)
    return parser.parse_args()


def subscriber(variant: str, keep: int, report: Path) -> int:
    """Receive frames until SIGINT; write 'frames cpu_seconds' to `report` every second."""
    import rclpy
    from rclpy.qos import qos_profile_sensor_data
    from rclpy.serialization import deserialize_message
    from sensor_msgs.msg import Image

    from physical_ai.core.image import image_to_array
    from physical_ai.core.wire_image import parse_image

    rclpy.init()
    node = rclpy.create_node('receiver')
    count = [0]
    kept = []

    def use(pixels: np.ndarray) -> None:
        kept[:] = [int(pixels[0, 0, 0])]  # touch the frame, as a resize would read it

    def on_typed(msg: Image) -> None:
        count[0] += 1
        if count[0] % keep == 0:
            use(image_to_array(msg))

    def on_raw(data: bytes) -> None:
        count[0] += 1
        if count[0] % keep == 0:
            if variant == 'raw':
                use(image_to_array(parse_image(data)))
            else:
                use(image_to_array(deserialize_message(data, Image)))

    if variant == 'typed':
        node.create_subscription(Image, 'camera/image_raw', on_typed, qos_profile_sensor_data)
    else:
        node.create_subscription(Image, 'camera/image_raw', on_raw, qos_profile_sensor_data, raw=True)

    def write() -> None:
        times = os.times()
        partial = report.with_suffix('.part')
        partial.write_text(f'{count[0]} {times.user + times.system}')
        os.replace(partial, report)  # the reader never sees a half-written file

    node.create_timer(0.5, write)
    try:
        rclpy.spin(node)
    except (KeyboardInterrupt, rclpy.executors.ExternalShutdownException):
        pass
    return 0


def main() -> int:
    args = parse_args()
    if args.subscriber:
        return subscriber(args.subscriber, args.keep, Path(args.report))
    from physical_ai.testing import isolate_environment, reexec_with_stack_environment

    reexec_with_stack_environment(__file__)

    domain = isolate_environment()
    import tempfile

    import rclpy
    from rclpy.qos import qos_profile_sensor_data
    from sensor_msgs.msg import Image

    from physical_ai.core.image import array_to_image

    size, rate = args.camera.lower().split('@')
    width, height = (int(v) for v in size.split('x'))
    rate = float(rate)
    rclpy.init()
    node = rclpy.create_node('bench_camera')
    pub = node.create_publisher(Image, 'camera/image_raw', qos_profile_sensor_data)
    rng = np.random.default_rng(0)
    msg = array_to_image(rng.integers(0, 256, (height, width, 3), dtype=np.uint8), 'bgr8')
    stop = threading.Event()

    def camera() -> None:
        next_time = time.monotonic()
        while not stop.is_set():
            msg.header.stamp = node.get_clock().now().to_msg()
            pub.publish(msg)
            next_time += 1.0 / rate
            time.sleep(max(0.0, next_time - time.monotonic()))

    thread = threading.Thread(target=camera, daemon=True)
    thread.start()
    print(f'camera {width}x{height} bgr8 at {rate:g} Hz; the subscriber uses 1 frame in {args.keep}; '
          f'ROS_DOMAIN_ID {domain}, loopback DDS; load average '
          f'{", ".join(f"{v:.2f}" for v in os.getloadavg())}', flush=True)
    results = {}
    workdir = Path(tempfile.mkdtemp(prefix='bench_receive_'))
    for variant in VARIANTS:
        report = workdir / f'{variant.replace("+", "_")}.txt'
        proc = NodeProcess([sys.executable, os.path.abspath(__file__), '--subscriber', variant,
                            '--keep', str(args.keep), '--report', str(report)], workdir, name=variant)
        try:
            deadline = time.monotonic() + 60
            while not (report.exists() and int(report.read_text().split()[0] or 0) > 0):
                if time.monotonic() > deadline:
                    raise RuntimeError(f'{variant}: no frames received')
                time.sleep(0.2)
            time.sleep(1.0)
            frames0, cpu0 = (float(v) for v in report.read_text().split())
            t0 = time.monotonic()
            time.sleep(args.seconds)
            frames1, cpu1 = (float(v) for v in report.read_text().split())
            wall = time.monotonic() - t0
        finally:
            proc.stop()
        results[variant] = ((frames1 - frames0) / wall, 100 * (cpu1 - cpu0) / wall)
        print(f'{variant:16} {results[variant][0]:6.1f} frames/s received, subscriber CPU '
              f'{results[variant][1]:5.1f} % of one core', flush=True)
    stop.set()
    thread.join(timeout=2)
    node.destroy_node()
    rclpy.shutdown()
    typed = results['typed'][1]
    print('CPU relative to the typed subscription: ' + ', '.join(
        f'{v} {results[v][1] / typed:.2f}' for v in VARIANTS if typed > 0))
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
