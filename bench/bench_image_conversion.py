"""Image <-> numpy conversion speed for a 1920x1080 bgr8 frame, against a plain numpy copy of it.

Measured in one run, on the same buffer: (a) `arr.copy()` (the yardstick), (b) `array_to_image`
(numpy -> sensor_msgs/Image), (c) `image_to_array` (Image -> numpy, a view) and the same followed
by a copy, and, for scale, (d) the conversion many rclpy nodes write, `np.array(list(msg.data))`.
Prints medians and the ratio to the copy; the goal is at most 2x the copy both ways. Asserts nothing.

    .venv/bin/python bench/bench_image_conversion.py [--repeats 200]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np

from physical_ai.core.image import array_to_image, image_to_array

GOAL = 2.0


def median_ms(func, repeats: int) -> float:
    for _ in range(min(5, repeats)):  # warm-up: page faults and caches
        func()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        func()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1e3


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--repeats', type=int, default=200, help='timed runs per variant')
    parser.add_argument('--width', type=int, default=1920)
    parser.add_argument('--height', type=int, default=1080)
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    frame = rng.integers(0, 256, (args.height, args.width, 3), dtype=np.uint8)
    msg = array_to_image(frame, 'bgr8')
    assert np.array_equal(image_to_array(msg), frame)
    mb = frame.nbytes / 1e6

    copy_ms = median_ms(frame.copy, args.repeats)
    to_msg_ms = median_ms(lambda: array_to_image(frame, 'bgr8'), args.repeats)
    view_ms = median_ms(lambda: image_to_array(msg), args.repeats)
    view_copy_ms = median_ms(lambda: image_to_array(msg).copy(), args.repeats)
    typical_ms = median_ms(lambda: np.array(list(msg.data), np.uint8), 3)

    checks = os.environ.get('ROS_PYTHON_CHECK_FIELDS', '0')
    print(f'{args.width}x{args.height} bgr8 ({mb:.1f} MB), medians of {args.repeats} runs, '
          f'ROS_PYTHON_CHECK_FIELDS={checks}')
    print(f'{"variant":44s} {"ms":>9s} {"x copy":>9s}')
    rows = [
        ('numpy copy (arr.copy(), the yardstick)', copy_ms),
        ('numpy -> Image   array_to_image', to_msg_ms),
        ('Image -> numpy   image_to_array (view)', view_ms),
        ('Image -> numpy   image_to_array + copy', view_copy_ms),
        ('Image -> numpy   np.array(list(msg.data))', typical_ms),
    ]
    for name, ms in rows:
        print(f'{name:44s} {ms:9.3f} {ms / copy_ms:9.2f}')
    worst = max(to_msg_ms, view_copy_ms) / copy_ms
    print(f'goal: both ways <= {GOAL:g}x the copy -> numpy->Image {to_msg_ms / copy_ms:.2f}x, '
          f'Image->numpy {view_ms / copy_ms:.3f}x (view), {view_copy_ms / copy_ms:.2f}x (own copy): '
          f'{"met" if worst <= GOAL else "NOT met"}')
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
