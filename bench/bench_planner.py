"""The planner core's cost per frame of detections, and what max_detections bounds.

Times `Planner.observe` + `command` on frames of 10, 100, 1,000 and 10,000 detections (a ball, a
person, the rest boxes with random scores), once with max_detections 100 (the default) and once
with the cap above the frame size, and prints the time per frame and the ratio to a 10-detection
frame. Prints figures; asserts nothing.

    .venv/bin/python bench/bench_planner.py [--repeat 20]
"""

from __future__ import annotations

import argparse
import random
import time

from physical_ai.core.planning import Detection, Intrinsics, Planner, PlannerConfig

K = Intrinsics(fx=415.7, fy=415.7, cx=320.0, cy=240.0, width=640, height=480)


def frame(count: int, rng: random.Random) -> list[Detection]:
    dets = [Detection('ball', 0.9, 300.0, 300.0, 20.0, 20.0),
            Detection('person', 0.8, 100.0, 250.0, 60.0, 200.0)]
    dets += [Detection('box', rng.random(), rng.uniform(0.0, 640.0), rng.uniform(240.0, 480.0), 20.0, 20.0)
             for _ in range(count - 2)]
    return dets


def per_frame(cap: int, dets: list[Detection], repeat: int) -> float:
    planner = Planner(PlannerConfig.from_params(camera_height=0.3, distance_method='ground',
                                                max_detections=cap))
    planner.set_intrinsics(K)
    start = time.perf_counter()
    for i in range(repeat):
        planner.observe(dets, i * 0.05)
        planner.command(i * 0.05)
    return (time.perf_counter() - start) / repeat


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--repeat', type=int, default=20)
    args = parser.parse_args()
    rng = random.Random(0)
    frames = {n: frame(n, rng) for n in (10, 100, 1_000, 10_000)}
    base = per_frame(100, frames[10], args.repeat)
    print(f'{"detections":>10}  {"cap 100 (ms)":>12}  {"ratio":>6}  {"no cap (ms)":>11}  {"ratio":>6}')
    for n, dets in frames.items():
        capped = per_frame(100, dets, args.repeat)
        uncapped = per_frame(100_000, dets, args.repeat)
        print(f'{n:>10}  {capped * 1e3:>12.3f}  {capped / base:>6.1f}  {uncapped * 1e3:>11.3f}  '
              f'{uncapped / base:>6.1f}')


if __name__ == '__main__':
    main()
