"""Simulator speed: physics real-time factor, rendering fps, and sim_node's images per second over DDS.

  (a) physics: the demo world stepped with changing commands, no rendering -> sim s per wall s;
  (b) rendering in this process: RGB only, RGB + ground truth (segmentation pass), and RGB + ground
      truth + conversion + publishing image, camera_info and ground truth to real topics with a
      subscriber in this process, at 320x240 and 640x480 (and 640x480 with 4x antialiasing);
  (c) sim_node at real_time_factor 0 (as fast as it can) with camera_rate 30: images received per
      wall second by a subscriber, and the sim time it covered per wall second.
Prints figures; asserts nothing. LP_NUM_THREADS (Mesa's renderer threads) defaults to 1.

    .venv/bin/python bench/bench_sim.py [--seconds 4] [--render-threads 1]
"""

from __future__ import annotations

import argparse
import threading
import time

RESULTS: list[tuple[str, str]] = []


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--seconds', type=float, default=4.0, help='measuring time per phase (wall)')
    parser.add_argument('--render-threads', type=int, default=1, help='LP_NUM_THREADS for llvmpipe')
    return parser.parse_args()


def report(name: str, value: str) -> None:
    RESULTS.append((name, value))
    print(f'{name:58s} {value}', flush=True)


def bench_physics(seconds: float) -> None:
    from physical_ai.core.sim.camera import CameraSpec
    from physical_ai.core.sim.simulator import Simulator

    sim = Simulator('demo', seed=0, camera=CameraSpec(320, 240))
    commands = [(0.5, 0.3), (0.8, -0.2), (0.0, 1.0), (-0.3, 0.0)]
    started = time.perf_counter()
    i = 0
    while time.perf_counter() - started < seconds:
        sim.step(commands[i % len(commands)], dt=0.1)
        i += 1
    wall = time.perf_counter() - started
    report(f'physics, timestep {sim.timestep * 1e3:g} ms (steps/s)', f'{sim.steps / wall:,.0f}')
    report('physics real-time factor (sim s / wall s)', f'{sim.time / wall:.1f}x')


def bench_render(ros_node, seconds: float, width: int, height: int, samples: int = 0) -> None:
    from rclpy.qos import QoSProfile, qos_profile_sensor_data
    from sensor_msgs.msg import CameraInfo, Image
    from vision_msgs.msg import Detection2DArray

    from physical_ai.core.image import array_to_image
    from physical_ai.core.sim.camera import CameraSpec, camera_info_msg
    from physical_ai.core.sim.messages import ground_truth_msg, stamp
    from physical_ai.core.sim.simulator import Simulator

    label = f'{width}x{height}' + (f' antialias {samples}' if samples else '')
    sim = Simulator('demo', seed=0, camera=CameraSpec(width, height, samples=samples))
    sim.render()  # renderer up, caches warm
    for name, truth in (('RGB', False), ('RGB + ground truth', True)):
        count, started = 0, time.perf_counter()
        while time.perf_counter() - started < seconds / 2:
            sim.render(truth)
            sim.step((0.3, 0.2), dt=1 / 15)
            count += 1
        report(f'render {label}, {name} (frames/s)', f'{count / (time.perf_counter() - started):.1f}')

    topic = f'bench_{width}x{height}_{samples}'
    image_pub = ros_node.create_publisher(Image, f'{topic}/image_raw', qos_profile_sensor_data)
    info_pub = ros_node.create_publisher(CameraInfo, f'{topic}/camera_info', qos_profile_sensor_data)
    truth_pub = ros_node.create_publisher(Detection2DArray, f'{topic}/ground_truth', QoSProfile(depth=10))
    received = []
    sub = ros_node.create_subscription(Image, f'{topic}/image_raw', lambda m: received.append(m.header.stamp),
                                       qos_profile_sensor_data)
    time.sleep(1.0)  # discovery
    info, msg = camera_info_msg(sim.intrinsics), Image()
    count, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        frame = sim.render(True)
        image = array_to_image(frame.image, 'rgb8', msg)
        image.header.stamp = stamp(frame.time_ns)
        image.header.frame_id = info.header.frame_id
        info.header = image.header
        image_pub.publish(image)
        info_pub.publish(info)
        truth_pub.publish(ground_truth_msg(frame.truths, image.header))
        sim.step((0.3, 0.2), dt=1 / 15)
        count += 1
    wall = time.perf_counter() - started
    time.sleep(0.3)
    report(f'render {label} + ground truth + publish (frames/s)',
           f'{count / wall:.1f} ({len(received)}/{count} received)')
    ros_node.destroy_subscription(sub)
    sim.close()


def bench_node(ros_context, executor, seconds: float, width: int, height: int) -> None:
    from rclpy.node import Node
    from rclpy.parameter import Parameter
    from rclpy.qos import qos_profile_sensor_data
    from sensor_msgs.msg import Image

    from physical_ai.nodes.sim_node import SimNode

    name = f'sim_{width}'
    node = SimNode(name, namespace=name, context=ros_context, parameter_overrides=[
        Parameter('camera_width', value=width), Parameter('camera_height', value=height),
        Parameter('camera_rate', value=30.0), Parameter('real_time_factor', value=0.0)])
    listener = Node(f'listener_{width}', context=ros_context)
    stamps = []
    listener.create_subscription(Image, f'{name}/camera/image_raw',
                                 lambda m: stamps.append(m.header.stamp.sec + m.header.stamp.nanosec * 1e-9),
                                 qos_profile_sensor_data)
    executor.add_node(node)
    executor.add_node(listener)
    time.sleep(1.0)
    first, started = len(stamps), time.perf_counter()
    sim_start = node.sim.time
    time.sleep(seconds)
    wall = time.perf_counter() - started
    count = len(stamps) - first
    sim_rate = (node.sim.time - sim_start) / wall
    executor.remove_node(node)
    executor.remove_node(listener)
    node.destroy_node()
    listener.destroy_node()
    report(f'sim_node {width}x{height}, real_time_factor 0 (images/s received)',
           f'{count / wall:.1f} at {sim_rate:.1f}x real time')


def main() -> int:
    args = parse_args()
    from physical_ai.core.sim import gl
    from physical_ai.testing import isolate_environment

    isolate_environment()  # loopback DDS and a domain of its own, as in the tests
    gl.load_mujoco('auto', args.render_threads)
    import rclpy
    from rclpy.context import Context
    from rclpy.executors import MultiThreadedExecutor
    from rclpy.node import Node

    print(f'GL backend {gl.backend()}, LP_NUM_THREADS {args.render_threads}, {args.seconds:g} s per phase')
    bench_physics(args.seconds)
    context = Context()
    rclpy.init(context=context)
    executor = MultiThreadedExecutor(num_threads=2, context=context)
    node = Node('bench_sim', context=context)
    executor.add_node(node)
    spinner = threading.Thread(target=executor.spin, daemon=True)
    spinner.start()
    try:
        for width, height, samples in ((320, 240, 0), (640, 480, 0), (640, 480, 4)):
            bench_render(node, args.seconds, width, height, samples)
        for width, height in ((320, 240), (640, 480)):
            bench_node(context, executor, args.seconds, width, height)
    finally:
        executor.remove_node(node)
        node.destroy_node()
        rclpy.shutdown(context=context)
        executor.shutdown(timeout_sec=2.0)
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
