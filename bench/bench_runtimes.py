"""Runtime backends on the same TorchScript file: torch (plain, frozen), OpenVINO, ONNX Runtime.

For each model (the shipped `models/default_detector.pt`, a YOLOv8n-cost graph of the project's own
at 640x640, the small MobileNet-style benchmark detector) and each backend: time to configure
(conversion, then again from the disk cache), the median of preprocess + model + postprocess on
640x480 frames (on a worker thread, as the node runs it), the speed-up over the faster torch graph
measured in the same run, the probe difference against TorchScript, and whether the model's outputs on
the benchmark frames match torch's (the probe check of the runtimes, on real frames: within 1e-3
of the output magnitude; ranked rows may swap near-equal scores). A backend that refuses a
model says why. Prints figures; asserts nothing.

    .venv/bin/python bench/bench_runtimes.py [--seconds 6] [--threads 2] [--plot runtimes.png]
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
import statistics
import tempfile
import threading
import time

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
ROUNDS = 3


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--seconds', type=float, default=6.0, help='measuring time per backend and model')
    parser.add_argument('--threads', type=int, default=2, help='intra-op threads of every backend')
    parser.add_argument('--models', default='default,yolov8n-cost,tiny',
                        help='comma-separated: default, yolov8n-cost, tiny or model files')
    parser.add_argument('--score-threshold', type=float, default=0.02,
                        help='detector threshold (random weights score low; kept low so boxes are compared)')
    parser.add_argument('--plot', default='', help='write a PNG bar chart of the speed-ups here')
    return parser.parse_args()


def frames(count: int = 4) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    out = []
    for _ in range(count):
        frame = rng.integers(0, 80, (480, 640, 3), dtype=np.uint8)
        for _ in range(3):
            x, y = int(rng.integers(0, 560)), int(rng.integers(0, 400))
            frame[y:y + 80, x:x + 80] = rng.integers(100, 256, 3, dtype=np.uint8)
        out.append(frame)
    return out


def model_files(names: str, workdir: Path) -> list[tuple[str, Path]]:
    from physical_ai.core.detection import samples

    out = []
    for name in names.split(','):
        if name == 'default':
            out.append(('default_detector (shipped)', ROOT / 'models' / 'default_detector.pt'))
        elif name == 'yolov8n-cost':
            path = workdir / 'yolov8n_cost.pt'
            samples.save_yolov8n_cost(path, imgsz=(640, 640))
            out.append(('YOLOv8n-cost 640', path))
        elif name == 'tiny':
            path = workdir / 'tiny.pt'
            samples.save_tiny_detector(path, imgsz=(320, 320))
            out.append(('MobileNet-style 320', path))
        else:
            out.append((name, Path(name)))
    return out


def timed_loop(detector, images: list[np.ndarray], seconds: float) -> float:
    """Return the median ms of detect_arrays, run on a worker thread."""
    result: dict = {}

    def loop() -> None:
        for image in images[:2]:
            detector.detect_arrays(image)
        times = []
        start = time.perf_counter()
        i = 0
        while time.perf_counter() - start < seconds or len(times) < 3:
            t0 = time.perf_counter()
            detector.detect_arrays(images[i % len(images)])
            times.append(time.perf_counter() - t0)
            i += 1
        result['ms'] = statistics.median(times) * 1e3

    worker = threading.Thread(target=loop)
    worker.start()
    worker.join()
    return result['ms']


def raw_output(detector, image: np.ndarray):
    """Return the model's raw output on the preprocessed image (what the runtimes must agree on)."""
    tensor, _ = detector.preprocess(image, 'bgr')
    output = detector.model(tensor)
    return tuple(o.clone() for o in output) if isinstance(output, tuple | list) else output.clone()


def detector_rows(detector, image: np.ndarray):
    return detector.detect_arrays(image)[0]


def main() -> int:
    args = parse_args()
    from physical_ai.testing import reexec_with_stack_environment

    reexec_with_stack_environment(__file__)  # the stack's environment (malloc tuning), as the node runs
    import torch

    from physical_ai.core import runtime
    from physical_ai.core.detection import Detector, load_model
    from physical_ai.core.detection.model import ModelError

    torch.set_num_threads(args.threads)
    workdir = Path(tempfile.mkdtemp(prefix='bench_runtimes_'))
    images = frames()
    versions = []
    for backend in runtime.BACKENDS:
        try:
            versions.append(f'{backend} {runtime.backend_version(backend)}')
        except runtime.BackendError:
            versions.append(f'{backend} (not installed)')
    print(f'{", ".join(versions)}; {args.threads} threads; frames 640x480; {os.cpu_count()} CPUs, load '
          f'average {", ".join(f"{v:.2f}" for v in os.getloadavg())}', flush=True)
    header = f'{"model":28} {"backend":14} {"configure s":>11} {"cached s":>9} {"ms/frame":>9} ' \
             f'{"speed-up":>9} {"probe diff":>10}  same outputs as torch on the frames'
    print(header)
    print('-' * len(header))
    chart: dict[str, dict[str, float]] = {}
    variants = (('torch frozen', {}), ('torch plain', {'freeze': False}),
                ('openvino', {'backend': 'openvino'}), ('onnxruntime', {'backend': 'onnxruntime'}))
    for title, path in model_files(args.models, workdir):
        loaded = []
        for backend, options in variants:
            cache = workdir / 'cache'
            start = time.perf_counter()
            try:
                model = load_model(path, threads=args.threads, cache_dir=cache, **options)
            except ModelError as err:
                print(f'{title:28} {backend:14} refused: {str(err).split(": ", 1)[-1][:150]}', flush=True)
                continue
            configure = time.perf_counter() - start
            cached = float('nan')
            if model.compiled is not None:
                start = time.perf_counter()
                load_model(path, threads=args.threads, cache_dir=cache, **options).release()
                cached = time.perf_counter() - start
            if backend == 'torch frozen' and not model.frozen:
                print(f'{title:28} {backend:14} not frozen: {model.freeze_note}', flush=True)
                continue
            detector = Detector(model, score_threshold=args.score_threshold)
            found = [raw_output(detector, image) for image in images]
            loaded.append({'backend': backend, 'detector': detector, 'configure': configure, 'cached': cached,
                           'found': found, 'ms': float('inf')})
        # Rounds alternate the backends, so a load that comes and goes on a shared machine hits all alike;
        # each keeps its best round.
        for _ in range(ROUNDS):
            for row in loaded:
                row['ms'] = min(row['ms'], timed_loop(row['detector'], images, args.seconds / ROUNDS))
        torch_rows = [row for row in loaded if row['backend'].startswith('torch')]
        torch_ms = min((row['ms'] for row in torch_rows), default=float('nan'))
        reference = torch_rows[0]['found'] if torch_rows else None
        for row in loaded:
            model = row['detector'].model
            ranked = model.info.layout == 'xyxy_score_class'
            worst = max((runtime.output_difference(a, b, ranked_rows=ranked)
                         for a, b in zip(reference or [], row['found'], strict=False)), default=float('inf'))
            same = f'{"yes" if worst <= runtime.TOLERANCE else "NO"} (largest difference {worst:.1e})'
            counts = sum(len(detector_rows(row['detector'], image)) for image in images[:1])
            difference = f'{model.compiled.max_difference:.1e}' if model.compiled is not None else '-'
            speedup = torch_ms / row['ms']
            chart.setdefault(title, {})[row['backend']] = speedup
            print(f'{title:28} {row["backend"]:14} {row["configure"]:11.2f} {row["cached"]:9.2f} '
                  f'{row["ms"]:9.1f} {speedup:8.2f}x {difference:>10}  {same}; {counts} detections on '
                  'the first frame', flush=True)
            model.release()
    print('speed-up: the faster torch graph of the same model in this run / this backend (per frame)')
    if args.plot:
        plot(chart, Path(args.plot))
    return 0


def plot(chart: dict[str, dict[str, float]], path: Path) -> None:
    import matplotlib

    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    backends = ['torch frozen', 'torch plain', 'openvino', 'onnxruntime']
    fig, ax = plt.subplots(figsize=(7, 3.5))
    width = 0.8 / len(backends)
    for i, backend in enumerate(backends):
        values = [chart[m].get(backend, 0.0) for m in chart]
        ax.bar([j + i * width for j in range(len(chart))], values, width, label=backend)
    ax.set_xticks([j + 0.4 - width / 2 for j in range(len(chart))], list(chart), fontsize=8)
    ax.axhline(1.0, color='gray', linewidth=0.8)
    ax.set_ylabel('speed-up over torch')
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    print(f'plot: {path}')


if __name__ == '__main__':
    raise SystemExit(main())
