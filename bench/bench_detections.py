"""What publishing one frame's detections costs the inference node: typed messages against CDR bytes.

Measured in one run, per box count, on one reliable publisher with a subscriber in another process
(so the middleware writes to a remote reader, as to the planner): (a) the typed path, one Python
Detection2D per box and rclpy converting each field (`detections_message` + publish), and (b) the
bytes packed from the detector's arrays (`serialize_detections` + publish, what inference_node
publishes). Each is timed twice: back to back (warm caches) and after a 50 ms sleep, as the node
publishes after a model run has evicted its caches. Prints medians and (a)/(b). Asserts nothing.

    .venv/bin/python bench/bench_detections.py [--repeats 300]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

COUNTS = (0, 1, 10, 50, 100)
SUBSCRIBER = '''
import rclpy
from rclpy.executors import ExternalShutdownException
from rclpy.qos import QoSProfile, ReliabilityPolicy
from vision_msgs.msg import Detection2DArray
rclpy.init()
node = rclpy.create_node('bench_detections_reader')
node.create_subscription(Detection2DArray, 'detections', lambda msg: None,
                         QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE), raw=True)
print('up', flush=True)
try:
    rclpy.spin(node)
except ExternalShutdownException:  # terminated by the benchmark
    pass
'''


def arguments(count: int) -> tuple:
    boxes = [(10.0 + i, 20.0, 110.0 + i, 220.0) for i in range(count)]
    ids = [str(i) for i in range(count)]
    return 1, 2, 'camera_optical_frame', boxes, [0.5] * count, ['person'] * count, ids


def median_us(publish, build, args: tuple, repeats: int, pause: float) -> float:
    samples = []
    for i in range(repeats + 5):
        if pause:
            time.sleep(pause)
        start = time.perf_counter()
        publish(build(*args))
        if i >= 5:  # the first few: page faults and lazy imports
            samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--repeats', type=int, default=300, help='timed publishes per variant, back to back')
    parser.add_argument('--cold-repeats', type=int, default=40,
                        help='timed publishes per variant after a sleep')
    args = parser.parse_args()
    from physical_ai.testing import isolate_environment, reexec_with_stack_environment

    reexec_with_stack_environment(__file__)

    domain = isolate_environment()
    import rclpy
    from rclpy.qos import QoSProfile, ReliabilityPolicy
    from vision_msgs.msg import Detection2DArray

    from physical_ai.core.wire_detections import detections_message, serialize_detections

    reader = subprocess.Popen([sys.executable, '-c', SUBSCRIBER], stdout=subprocess.PIPE, text=True)
    try:
        reader.stdout.readline()
        rclpy.init()
        node = rclpy.create_node('bench_detections')
        pub = node.create_publisher(Detection2DArray, 'detections',
                                    QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE))
        deadline = time.monotonic() + 30.0
        while not pub.get_subscription_count():
            if time.monotonic() > deadline:
                raise RuntimeError('the reader process never matched')
            time.sleep(0.05)
        print(f'ROS_DOMAIN_ID {domain}, loopback DDS; reader in another process; '
              f'load average {", ".join(f"{x:.2f}" for x in os.getloadavg())}')
        print('boxes  warm: typed us  bytes us  typed/bytes   '
              'after 50 ms sleep: typed us  bytes us  typed/bytes')
        for count in COUNTS:
            row = arguments(count)
            warm = [median_us(pub.publish, build, row, args.repeats, 0.0)
                    for build in (detections_message, serialize_detections)]
            cold = [median_us(pub.publish, build, row, args.cold_repeats, 0.05)
                    for build in (detections_message, serialize_detections)]
            print(f'{count:5d}  {warm[0]:14.1f}  {warm[1]:8.1f}  {warm[0] / warm[1]:10.1f}x   '
                  f'{cold[0]:26.1f}  {cold[1]:8.1f}  {cold[0] / cold[1]:10.1f}x')
        node.destroy_node()
        rclpy.shutdown()
    finally:
        reader.terminate()
        reader.wait(timeout=10)
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
