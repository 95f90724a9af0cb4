"""Cost of depth and of the 3D stage, as ratios measured in one run (640x480 demo world).

  (a) the simulator's render + ground truth per frame, without and with the depth image read back
      from the colour pass, converted (32FC1) and filled into a sensor_msgs/Image;
  (b) the 3D stage per frame (deserialize the depth image, locate every detection of the default
      model) against the default model's inference on the same frame.
Each pair is measured alternately, frame by frame. Prints figures; asserts nothing.

    .venv/bin/python bench/bench_depth.py [--frames 30]
"""

from __future__ import annotations

import argparse
import statistics
import time


def timed(first, second, frames: int) -> tuple[float, float]:
    """Return the median ms of each, measured alternately (a shared machine's load hits both alike)."""
    samples: tuple[list[float], list[float]] = ([], [])
    for _ in range(frames):
        for fn, out in zip((first, second), samples, strict=True):
            started = time.perf_counter()
            fn()
            out.append((time.perf_counter() - started) * 1e3)
    return statistics.median(samples[0]), statistics.median(samples[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--frames', type=int, default=30, help='frames per measurement')
    args = parser.parse_args()

    from rclpy.serialization import deserialize_message, serialize_message
    from sensor_msgs.msg import Image

    from physical_ai.core.depth.estimate import Camera, DepthSettings, box_region, locate, to_metres
    from physical_ai.core.detection import Detector
    from physical_ai.core.image import array_to_image, image_to_array
    from physical_ai.core.profiles import package_root
    from physical_ai.core.sim.camera import CameraSpec
    from physical_ai.core.sim.simulator import Simulator
    from physical_ai.nodes.sim_node import depth_pixels

    sim = Simulator('demo', 0, CameraSpec(640, 480))
    frame = sim.render(True, True)

    def with_depth() -> None:
        f = sim.render(True, True)
        array_to_image(depth_pixels(f.depth, '32FC1'), '32FC1')

    plain, depth = timed(lambda: sim.render(True, False), with_depth, args.frames)
    print(f'(a) render + ground truth {plain:.1f} ms per frame; with depth read back and converted '
          f'{depth:.1f} ms: x{depth / plain:.2f}')

    detector = Detector.from_file(str(package_root() / 'models/default_detector.pt'))
    boxes = [d for d in detector.detect(frame.image, 'rgb') if d.score >= 0.4]
    data = serialize_message(array_to_image(frame.depth, '32FC1'))
    k = sim.intrinsics
    camera, settings = Camera(k.fx, k.fy, k.cx, k.cy, k.width, k.height), DepthSettings()

    def stage() -> None:
        pixels = image_to_array(deserialize_message(data, Image))
        for d in boxes:
            cx, cy, w, h = (d.x1 + d.x2) / 2, (d.y1 + d.y2) / 2, d.x2 - d.x1, d.y2 - d.y1
            locate(to_metres(box_region(pixels, cx, cy, w, h), '32FC1'), camera, d.class_name, cx, cy, w, h,
                   settings)

    inference, three_d = timed(lambda: detector.detect(frame.image, 'rgb'), stage, args.frames)
    print(f'(b) 3D stage {three_d:.2f} ms per frame ({len(boxes)} detections) against inference '
          f'{inference:.1f} ms: {three_d / inference:.3f} of it')


if __name__ == '__main__':
    main()
