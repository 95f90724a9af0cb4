"""Inference speed: bare model loop vs camera -> inference_node -> detections vs a typical rclpy node.

The same model (a ~1 M parameter MobileNet-style detector with random weights, frozen as the node
freezes it) runs on the same 640x480 bgr8 frames:
  (a) a plain loop of preprocess + model + postprocess in this process;
  (b) a camera publisher here -> `inference_node` in its own process -> `detections` back here;
  (c) the same graph with a typical rclpy inference node instead: `np.array(list(msg.data))`, an
      eager (not frozen) torch module, numpy preprocessing, a depth-10 queue, every message processed.
Throughput is measured with the camera faster than the model (--overload x the bare rate); latency
(image stamp -> detections received) with the camera at half the bare rate. The node under test
runs as `inference_node` does on a robot (own process, single-threaded executor, frozen model).
Prints figures; asserts nothing.

    .venv/bin/python bench/bench_inference.py [--seconds 8] [--size 640] [--threads 1] [--overload 1.25]

With `--camera WxH@HZ` it measures the realistic case instead: a camera of that size and fixed
rate in this process, the node in its own process, and the bare loop of the same model on the
same frames (best of the plain, the frozen and the frozen + optimized graph, before and after); it prints
detections per second of each and their ratio, latency p50/p99, frames lost and CPU per process.
`--search` then also looks for the highest camera rate with under 5 % of frames lost
(ros2_benchmark style). `--model yolov8n-cost` is a graph of the project's own with the
architecture and cost of YOLOv8n (3.1 M parameters, 8.6 GFLOP at 640x640), saved in the project's
format; `--backend` runs node and bare loop on openvino or onnxruntime. `--alternate NAME=V1,V2`
sets a run-time parameter of the node to each value in turn before each node phase (an A/B inside
one run: this machine's speed moves more from minute to minute than most changes do) and prints
the phases of each value apart. `--param NAME:=VALUE` (repeatable) starts the node with that
parameter, for the settings that need a new configure (`graph:=frozen`).

    .venv/bin/python bench/bench_inference.py --camera 1280x720@30 --model yolov8n-cost --threads 2
    .venv/bin/python bench/bench_inference.py --camera 1920x1080@30 --model yolov8n-cost --threads 2
    .venv/bin/python bench/bench_inference.py --camera 640x480@30 --model tiny --size 320 --search
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
import statistics
import struct
import sys
import tempfile
import threading
import time

import numpy as np

from physical_ai.testing import NodeProcess

NAMES = ('person', 'ball', 'box', 'cylinder')
STAMP = struct.Struct('<iI')  # builtin_interfaces/Time in little-endian CDR


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--seconds', type=float, default=8.0, help='measuring time per phase')
    parser.add_argument('--size', type=int, default=640, help='model input size (square, letterboxed)')
    parser.add_argument('--overload', type=float, default=1.25,
                        help='camera rate / bare model rate in the throughput phase')
    parser.add_argument('--threads', type=int, default=1, help='torch threads in every variant')
    parser.add_argument('--camera', default='', metavar='WxH@HZ',
                        help='fixed-rate camera mode, e.g. 1280x720@30 (see the module docstring)')
    parser.add_argument('--model', default='tiny',
                        help="camera mode: 'tiny', 'yolov8n-cost' (input --size) or a model file")
    parser.add_argument('--rounds', type=int, default=3,
                        help='camera mode: node phases, each followed by a bare loop of the best variant')
    parser.add_argument('--streams', type=int, default=1,
                        help='camera mode: the node runs this many frames at once (its streams parameter)')
    parser.add_argument('--backend', default='torch', choices=('torch', 'openvino', 'onnxruntime'),
                        help='camera mode: runtime of node and bare loop')
    parser.add_argument('--param', action='append', default=[], metavar='NAME:=VALUE',
                        help='camera mode: a parameter of the node under test (repeatable), e.g. '
                             'graph:=frozen')
    parser.add_argument('--alternate', default='', metavar='NAME=V1,V2',
                        help='camera mode: set this run-time parameter of the node to V1, V2, ... in turn '
                             'before each node phase (YAML values) and print the phases of each value')
    parser.add_argument('--search', action='store_true',
                        help='camera mode: also search the highest camera rate with < 5 %% of frames lost')
    parser.add_argument('--plot', default='', help='with --search: write a PNG of the search here')
    parser.add_argument('--typical-node', action='store_true', help=argparse.SUPPRESS)
    return parser.parse_args()


def make_frames(count: int = 8, width: int = 640, height: int = 480) -> list[np.ndarray]:
    """Return bgr8 frames with a few coloured shapes on noise."""
    rng = np.random.default_rng(0)
    frames = []
    side = max(16, width // 8)
    for _ in range(count):
        frame = rng.integers(0, 80, (height, width, 3), dtype=np.uint8)
        for _ in range(3):
            x, y = int(rng.integers(0, width - side)), int(rng.integers(0, height - side))
            frame[y:y + side, x:x + side] = rng.integers(100, 256, 3, dtype=np.uint8)
        frames.append(frame)
    return frames


def bench_bare(model_path: Path, frames: list[np.ndarray], threads: int, seconds: float) -> dict:
    from physical_ai.core.detection import Detector

    detector = Detector.from_file(model_path, threads=threads)
    for frame in frames:  # warm-up
        detector.detect_arrays(frame)
    times = []
    start = time.perf_counter()
    i = 0
    while time.perf_counter() - start < seconds:
        t0 = time.perf_counter()
        detector.detect_arrays(frames[i % len(frames)])
        times.append(time.perf_counter() - t0)
        i += 1
    elapsed = time.perf_counter() - start
    return {'fps': len(times) / elapsed, 'ms': statistics.median(times) * 1e3,
            'frozen': detector.model.frozen, 'detections': len(detector.detect(frames[0]))}


class Graph:
    """Camera publisher and detections subscriber in this process, around a node process."""

    def __init__(self, frames: list[np.ndarray]) -> None:
        from diagnostic_msgs.msg import DiagnosticArray
        import rclpy
        from rclpy.executors import SingleThreadedExecutor
        from rclpy.node import Node
        from rclpy.qos import QoSProfile, ReliabilityPolicy, qos_profile_sensor_data
        from rclpy.serialization import serialize_message
        from sensor_msgs.msg import Image
        from vision_msgs.msg import Detection2DArray

        from physical_ai.core.image import array_to_image
        from physical_ai.nodes.common import TakenByCaller, never_called

        rclpy.init(args=[])  # not this script's argv: --param NAME:=VALUE would read as a remap rule
        self.node = Node('bench_camera')
        self.clock = self.node.get_clock()
        self.pub = self.node.create_publisher(Image, 'camera/image_raw', qos_profile_sensor_data)
        self.lock = threading.Lock()
        self.received: list[tuple[float, float]] = []  # (monotonic arrival, latency ms)
        # Detections are taken by a thread of their own that waits on the subscription (as the node
        # takes its frames, and as a C++ subscriber would), not through rclpy's Python executor: the
        # figures are the node's and the middleware's, not this harness's callback dispatch.
        self._detections = self.node.create_subscription(
            Detection2DArray, 'detections', never_called,
            QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE), raw=True,
            callback_group=TakenByCaller())
        self._closing = False
        self.receiver = threading.Thread(target=self._receive, daemon=True)
        self.receiver.start()
        self.compute: list[tuple[float, float]] = []  # (monotonic, the node's own inference_ms_mean)
        self.added: list[tuple[float, float]] = []  # (monotonic, the node's own added_latency_p50_ms)
        self.delivery: list[tuple[float, float]] = []  # (monotonic, node's publish -> received, ms)
        self.node.create_subscription(DiagnosticArray, '/diagnostics', self._on_diagnostics, 10)
        self.published = 0
        # Frames go out serialized, the stamp written into the CDR bytes (after the 4-byte
        # encapsulation header): one copy per frame, as a C++ driver publishes, so the figures are the
        # node's and the middleware's, not Python message conversion in this harness.
        self.messages = []
        for f in frames:
            msg = array_to_image(f, 'bgr8')
            msg.header.frame_id = 'camera_optical_frame'
            self.messages.append(bytearray(serialize_message(msg)))
        self.executor = SingleThreadedExecutor()
        self.executor.add_node(self.node)
        self.spinner = threading.Thread(target=self.executor.spin, daemon=True)
        self.spinner.start()

    def _receive(self) -> None:
        from rclpy.impl.implementation_singleton import rclpy_implementation as _rclpy

        sub = self._detections
        wait_set = _rclpy.WaitSet(1, 0, 0, 0, 0, 0, self.node.context.handle)
        while not self._closing:
            with sub.handle:
                wait_set.clear_entities()
                wait_set.add_subscription(sub.handle)
                wait_set.wait(100_000_000)
                while (taken := sub.handle.take_message(sub.msg_type, True)) is not None:
                    self._on_detections(*taken)

    def _on_diagnostics(self, msg) -> None:
        for status in msg.status:
            if status.name == 'inference: inference':
                values = {kv.key: kv.value for kv in status.values}
                with self.lock:
                    self.compute.append((time.monotonic(), float(values.get('inference_ms_mean', 'nan'))))
                    self.added.append((time.monotonic(), float(values.get('added_latency_p50_ms', 'nan'))))

    def _on_detections(self, data: bytes, info: dict) -> None:
        now = self.clock.now().nanoseconds
        sec, nanosec = STAMP.unpack_from(data, 4)  # the header's stamp: only it is needed here
        latency = (now - (sec * 10**9 + nanosec)) / 1e6
        delivery = (now - info['source_timestamp']) / 1e6  # the node's write (system time) -> here
        with self.lock:
            self.received.append((time.monotonic(), latency))
            self.delivery.append((time.monotonic(), delivery))

    def set_parameter(self, node: str, name: str, value: object, timeout: float = 10.0) -> None:
        """Set a parameter of the node under test; raise RuntimeError if it is refused or nobody answers."""
        from rcl_interfaces.srv import SetParameters
        from rclpy.parameter import Parameter

        client = self.node.create_client(SetParameters, f'/{node}/set_parameters')
        try:
            if not client.wait_for_service(timeout_sec=timeout):
                raise RuntimeError(f'/{node}/set_parameters does not answer')
            future = client.call_async(SetParameters.Request(
                parameters=[Parameter(name, value=value).to_parameter_msg()]))
            deadline = time.monotonic() + timeout
            while not future.done() and time.monotonic() < deadline:
                time.sleep(0.01)
            if not future.done():
                raise RuntimeError(f'/{node}/set_parameters did not answer within {timeout:g} s')
            result = future.result().results[0]
            if not result.successful:
                raise RuntimeError(f'{name}={value!r} refused: {result.reason}')
        finally:
            self.node.destroy_client(client)

    def run_camera(self, rate: float, seconds: float) -> tuple[float, float]:
        """Publish at `rate` Hz for `seconds`; return (start, end) monotonic times."""
        period = 1.0 / rate
        start = time.monotonic()
        next_time = start
        i = 0
        while time.monotonic() - start < seconds:
            data = self.messages[i % len(self.messages)]
            STAMP.pack_into(data, 4, *divmod(self.clock.now().nanoseconds, 10**9))
            self.pub.publish(bytes(data))
            self.published += 1
            i += 1
            next_time += period
            delay = next_time - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            else:
                next_time = time.monotonic()
        return start, time.monotonic()

    def wait_ready(self, timeout: float = 90.0) -> None:
        """Publish slowly until the node under test answers."""
        deadline = time.monotonic() + timeout
        while not self.received:
            if time.monotonic() > deadline:
                raise RuntimeError('no detections from the node under test')
            self.run_camera(10.0, 0.3)

    def window(self, start: float, end: float) -> list[float]:
        """Return the latencies of detections that arrived between start and end."""
        with self.lock:
            return [lat for t, lat in self.received if start <= t <= end]

    def measure(self, bare_fps: float, seconds: float, overload: float) -> dict:
        """Return throughput (camera at `overload` x the bare rate) and latency (camera at 0.5x)."""
        warm = 1.5
        start, end = self.run_camera(overload * bare_fps, seconds + warm)
        time.sleep(0.5)
        throughput = len(self.window(start + warm, end)) / (end - start - warm)
        start, end = self.run_camera(0.5 * bare_fps, seconds + warm)
        time.sleep(1.0)
        latencies = sorted(self.window(start + warm, end + 1.0))
        with self.lock:
            compute = [ms for t, ms in self.compute if start + warm + 1.0 <= t <= end + 1.0 and ms == ms]
            added = [ms for t, ms in self.added if start + warm + 1.0 <= t <= end + 1.0 and ms == ms]
            delivery = [ms for t, ms in self.delivery if start + warm <= t <= end + 1.0]
        return {'node_ms': statistics.median(compute) if compute else float('nan'),
                'added': statistics.median(added) if added else float('nan'),
                'delivery': statistics.median(delivery) if delivery else float('nan'),
                'fps': throughput, 'camera_hz': overload * bare_fps, 'latency_hz': 0.5 * bare_fps,
                'p50': latencies[len(latencies) // 2] if latencies else float('nan'),
                'p90': latencies[int(len(latencies) * 0.9)] if latencies else float('nan')}

    def close(self) -> None:
        """Stop spinning and shut rclpy down."""
        import rclpy

        self._closing = True
        self.receiver.join(timeout=5.0)
        self.executor.shutdown(timeout_sec=1.0)
        self.spinner.join(timeout=5.0)
        self.node.destroy_node()
        rclpy.shutdown()


def run_variant(graph: Graph, command: list[str], log: Path, bare_fps: float,
                args: argparse.Namespace) -> dict:
    proc = NodeProcess(command, log.parent, log_path=log)
    try:
        with graph.lock:
            graph.received.clear()
        graph.wait_ready()
        return graph.measure(bare_fps, args.seconds, args.overload)
    finally:
        proc.stop()


def typical_node(size: int, threads: int) -> int:
    """Run an rclpy inference node written the usual way (the baseline of variant c)."""
    import cv2
    import rclpy
    from rclpy.node import Node
    from rclpy.qos import QoSProfile, ReliabilityPolicy
    from sensor_msgs.msg import Image
    import torch
    from vision_msgs.msg import Detection2D, Detection2DArray, ObjectHypothesisWithPose

    from physical_ai.core.detection.decode import decode
    from physical_ai.core.detection.nms import batched_nms
    from physical_ai.core.detection.samples import TinyDetector

    torch.set_num_threads(threads)
    torch.manual_seed(0)  # the same weights as save_tiny_detector(seed=0)
    model = TinyDetector(len(NAMES)).eval()

    class TypicalInference(Node):
        def __init__(self) -> None:
            super().__init__('typical_inference')
            # depth 10; best effort only because a reliable reader would not match the camera
            self.create_subscription(Image, 'camera/image_raw', self.on_image,
                                     QoSProfile(depth=10, reliability=ReliabilityPolicy.BEST_EFFORT))
            self.pub = self.create_publisher(Detection2DArray, 'detections', 10)

        def on_image(self, msg: Image) -> None:
            img = np.array(list(msg.data), dtype=np.uint8).reshape(msg.height, msg.width, 3)
            ratio = min(size / msg.height, size / msg.width)
            new_w, new_h = round(msg.width * ratio), round(msg.height * ratio)
            canvas = np.full((size, size, 3), 114, np.uint8)
            top, left = (size - new_h) // 2, (size - new_w) // 2
            canvas[top:top + new_h, left:left + new_w] = cv2.resize(img, (new_w, new_h))
            x = torch.from_numpy(canvas[:, :, ::-1].transpose(2, 0, 1) / 255.0).float().unsqueeze(0)
            with torch.no_grad():
                out = model(x)
            boxes, scores, classes = decode(out, 'yolov8', 0.25, len(NAMES))
            keep = batched_nms(boxes, scores, classes, 0.45)[:100]
            result = Detection2DArray(header=msg.header)
            for box, score, cls in zip(boxes[keep].tolist(), scores[keep].tolist(), classes[keep].tolist(),
                                       strict=True):
                det = Detection2D(header=msg.header)
                det.bbox.center.position.x = ((box[0] + box[2]) / 2 - left) / ratio
                det.bbox.center.position.y = ((box[1] + box[3]) / 2 - top) / ratio
                det.bbox.size_x, det.bbox.size_y = (box[2] - box[0]) / ratio, (box[3] - box[1]) / ratio
                hypothesis = ObjectHypothesisWithPose()
                hypothesis.hypothesis.class_id, hypothesis.hypothesis.score = NAMES[cls], score
                det.results.append(hypothesis)
                result.detections.append(det)
            self.pub.publish(result)

    rclpy.init()
    node = TypicalInference()
    try:
        rclpy.spin(node)
    except (KeyboardInterrupt, rclpy.executors.ExternalShutdownException):
        pass
    return 0



# Fixed-rate camera mode -------------------------------------------------------------------------------

def parse_camera(text: str) -> tuple[int, int, float]:
    """Return (width, height, rate) of 'WxH@HZ'."""
    try:
        size, rate = text.lower().split('@')
        width, height = (int(v) for v in size.split('x'))
        return width, height, float(rate)
    except ValueError:
        raise SystemExit(f'--camera {text!r}: expected WxH@HZ, e.g. 1280x720@30') from None


def make_model(args: argparse.Namespace, workdir: Path) -> tuple[Path, str]:
    """Write (or name) the model of camera mode; return its path and a description."""
    from physical_ai.core.detection import samples

    if args.model == 'yolov8n-cost':
        size = args.size
        path = workdir / 'yolov8n_cost.pt'
        samples.save_yolov8n_cost(path, imgsz=(size, size))
        params = sum(p.numel() for p in samples.YoloV8nCost(4).parameters()) / 1e6
        return path, (f'YOLOv8n-cost physical_ai/1 graph ({params:.1f} M parameters, random weights), input '
                      f'{size}x{size} letterboxed')
    if args.model == 'tiny':
        path = workdir / 'tiny.torchscript'
        samples.save_tiny_detector(path, imgsz=(args.size, args.size), names=NAMES, seed=0)
        return path, f'MobileNet-style detector (random weights), input {args.size}x{args.size} letterboxed'
    path = Path(args.model).expanduser()
    if not path.is_file():
        raise SystemExit(f'--model {args.model!r}: expected tiny, yolov8n-cost or a model file')
    return path, f'model file {path}'


def bare_best(model_path: Path, frames: list[np.ndarray], args: argparse.Namespace) -> dict:
    """Return the fastest bare loop: plain, frozen-only, frozen graph (or the backend), main or worker thread.

    The thread matters: once torch has run on one thread, a second thread calling it gets an OpenMP
    team of its own, and libgomp, counting more threads than cores, stops spinning at its barriers:
    the worker variants here (run after torch ran on the main thread) show that cost. The faster
    variant is the reference, so it is never handicapped. With --streams N > 1 it also times N
    loops at once on one model, `threads / N` torch threads each, as the node's streams run
    (`streams_fps`: their frames per second together; not part of the reference).
    """
    from physical_ai.core.detection import Detector, load_model

    # 'frozen' as the node's default graph (optimized), 'frozen-only' as its graph:=frozen.
    variants = [('frozen', {'freeze': True}), ('frozen-only', {'freeze': True, 'optimize': False}),
                ('plain', {'freeze': False})] if args.backend == 'torch' \
        else [(args.backend, {'backend': args.backend})]
    best: dict = {}
    rates: dict = {}
    for name, options in variants:
        detector = Detector(load_model(model_path, threads=args.threads, **options))
        if name.startswith('frozen') and not detector.model.frozen:
            print(f'    (the frozen graph is not used: {detector.model.freeze_note})', flush=True)
            continue
        for where in ('worker', 'main'):
            result = _bare_loop_on(where, detector, frames, args.seconds)
            rates[f'{name}/{where}_fps'] = result['fps']
            if not best or result['fps'] > best['fps']:
                best = result | {'graph': f'{name} graph, {where} thread', 'variant': (name, options, where)}
        detector.model.release()
    if args.streams > 1:
        options = {'backend': args.backend} if args.backend != 'torch' else {}
        detector = Detector(load_model(model_path, threads=args.threads, streams=args.streams, **options))
        results: list[dict] = [{} for _ in range(args.streams)]
        loops = [threading.Thread(target=_bare_loop, args=(detector, frames, args.seconds, result))
                 for result in results]
        for loop in loops:
            loop.start()
        for loop in loops:
            loop.join()
        rates['streams_fps'] = sum(result['fps'] for result in results)
        detector.model.release()
    return best | rates


def bare_variant(model_path: Path, frames: list[np.ndarray], args: argparse.Namespace,
                 variant: tuple[str, dict, str]) -> float:
    """Return the frames per second of one bare-loop variant (as bare_best names it)."""
    from physical_ai.core.detection import Detector, load_model

    _, options, where = variant
    detector = Detector(load_model(model_path, threads=args.threads, **options))
    result = _bare_loop_on(where, detector, frames, args.seconds)
    detector.model.release()
    return result['fps']


def _bare_loop_on(where: str, detector, frames: list[np.ndarray], seconds: float) -> dict:
    """Run the bare loop on this ('main') or a new ('worker') thread; return its figures."""
    result: dict = {}
    if where == 'main':
        _bare_loop(detector, frames, seconds, result)
    else:
        worker = threading.Thread(target=_bare_loop, args=(detector, frames, seconds, result))
        worker.start()
        worker.join()
    return result


def _bare_loop(detector, frames: list[np.ndarray], seconds: float, result: dict) -> None:
    for frame in frames[:2]:  # warm-up
        detector.detect_arrays(frame)
    times = []
    start = time.perf_counter()
    i = 0
    while time.perf_counter() - start < seconds or len(times) < 3:
        t0 = time.perf_counter()
        detector.detect_arrays(frames[i % len(frames)])
        times.append(time.perf_counter() - t0)
        i += 1
    result['fps'] = len(times) / (time.perf_counter() - start)
    result['ms'] = statistics.median(times) * 1e3


def cpu_seconds(pid: int | None = None) -> float:
    """Return user + system CPU seconds of a process (this one when pid is None)."""
    import psutil

    times = psutil.Process(pid).cpu_times()
    return times.user + times.system


def fixed_rate(graph: Graph, pid: int, rate: float, seconds: float) -> dict:
    """Run the camera at `rate` Hz; return detections per second, loss, latency and CPU figures."""
    warm = min(3.0, max(1.0, seconds / 4))
    with graph.lock:
        graph.received.clear()
    graph.published = 0
    start, _ = graph.run_camera(rate, warm)
    cpu_node, cpu_here, t0 = cpu_seconds(pid), cpu_seconds(), time.monotonic()
    sent_before = graph.published
    start, end = graph.run_camera(rate, seconds)
    sent = graph.published - sent_before
    cpu_node, cpu_here = cpu_seconds(pid) - cpu_node, cpu_seconds() - cpu_here
    wall = time.monotonic() - t0
    time.sleep(0.3)
    latencies = sorted(graph.window(start, end + 0.3))
    got = len(graph.window(start, end))
    with graph.lock:
        compute = [ms for t, ms in graph.compute if start + 1.0 <= t <= end + 0.3 and ms == ms]
    return {'rate': rate, 'sent': sent, 'dps': got / (end - start), 'camera_fps': sent / (end - start),
            'node_ms': statistics.median(compute) if compute else float('nan'),
            'lost': 1.0 - min(1.0, got / max(1, sent)),
            'p50': latencies[len(latencies) // 2] if latencies else float('nan'),
            'p99': latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] if latencies
            else float('nan'),
            'cpu_node': 100.0 * cpu_node / wall, 'cpu_camera': 100.0 * cpu_here / wall}


def parse_alternate(text: str) -> tuple[str, list[object]]:
    """Return (parameter name, values) of --alternate NAME=V1,V2 (values read as YAML scalars)."""
    import yaml

    name, sep, values = text.partition('=')
    if not sep or not name or not values:
        raise SystemExit(f'--alternate {text!r}: expected NAME=V1,V2')
    return name, [yaml.safe_load(v) for v in values.split(',')]


def camera_mode(args: argparse.Namespace, domain: int) -> int:
    """Measure the realistic case: a fixed-rate camera into the node, and the bare loop of the same model."""
    import platform

    import torch

    width, height, rate = parse_camera(args.camera)
    torch.set_num_threads(args.threads)
    workdir = Path(tempfile.mkdtemp(prefix='bench_inference_'))
    model_path, described = make_model(args, workdir)
    frames = make_frames(4, width, height)
    print(f'model: {described}; backend {args.backend}; camera {width}x{height} bgr8 at {rate:g} Hz from '
          f'this process; torch threads {args.threads}; ROS_DOMAIN_ID {domain}, loopback DDS (32 MiB shared '
          f'memory), GLIBC malloc tuning; {os.cpu_count()} CPUs ({platform.machine()}), load average '
          f'{", ".join(f"{v:.2f}" for v in os.getloadavg())}', flush=True)
    bare = bare_best(model_path, frames, args)
    others = ', '.join(f'{k[:-4]} {v:.2f} fps' for k, v in bare.items()
                       if k.endswith('_fps') and k != 'streams_fps')
    print(f'(a) bare loop (preprocess + model + postprocess, {width}x{height} frames): {bare["fps"]:.2f} '
          f'fps, {bare["ms"]:.1f} ms per frame (median), best graph: {bare["graph"]} ({others})', flush=True)
    if args.streams > 1:
        each = args.threads // args.streams or 1
        print(f'    {args.streams} bare loops at once on one model ({each} torch thread(s) each, as the '
              f'node\'s {args.streams} streams): {bare["streams_fps"]:.2f} fps together', flush=True)
    graph = Graph(frames)
    rows = []
    node_cmd = [sys.executable, '-m', 'physical_ai.nodes.inference_node', '--ros-args',
                '-p', f'model_path:={model_path}', '-p', f'threads:={args.threads}',
                '-p', f'backend:={args.backend}', '-p', 'publish_annotated:=false',
                '-p', f'streams:={args.streams}']
    for param in args.param:
        node_cmd += ['-p', param]
    if args.param:
        print(f'node parameters: {", ".join(args.param)}', flush=True)
    log = workdir / 'inference_node.log'
    alt_name, alt_values = parse_alternate(args.alternate) if args.alternate else ('', [])

    def node_phase(index: int) -> dict:
        if alt_values:
            graph.set_parameter('inference', alt_name, alt_values[index % len(alt_values)])
        return fixed_rate(graph, proc.proc.pid, rate, args.seconds * 2)

    try:
        proc = NodeProcess(node_cmd, workdir, log_path=log)
        try:
            graph.wait_ready(timeout=300.0)
            main_row = node_phase(0)
            row = main_row
            # More rounds: a bare loop of the best variant (the node idle, the camera off), then the
            # node again, so each node phase has a bare loop measured just before and just after it.
            bare_rates, node_rows = [bare['fps']], [main_row]
            for index in range(1, args.rounds):
                bare_rates.append(bare_variant(model_path, frames, args, bare['variant']))
                node_rows.append(node_phase(index))
            node_rates = [r['dps'] for r in node_rows]
            print(f'(b) camera {rate:g} Hz -> inference_node -> detections: {row["dps"]:.2f} '
                  f'detections/s (camera delivered {row["camera_fps"]:.1f} fps); latency stamp->received '
                  f'p50 {row["p50"]:.1f} ms, p99 {row["p99"]:.1f} ms; CPU: node {row["cpu_node"]:.0f} %, '
                  f'camera + receiver process {row["cpu_camera"]:.0f} %; the node\'s own '
                  f'inference_ms_mean {row["node_ms"]:.1f} ms', flush=True)
            if args.search:
                rows = rate_search(graph, proc.proc.pid, bare['fps'], args.seconds)
        finally:
            proc.stop()
    finally:
        graph.close()
    again = bare_best(model_path, frames, args)
    streams = f'; {args.streams} loops at once {again["streams_fps"]:.2f} fps' if args.streams > 1 else ''
    print(f'(a) bare loop again (the machine may be shared): {again["fps"]:.2f} fps '
          f'({again["graph"]}){streams}', flush=True)
    name, _, where = bare['variant']
    bare_rates.append(again[f'{name}/{where}_fps'])  # the same variant, in the final bare loops
    reference = max(bare['fps'], again['fps'])
    print(f'detections per second (b)/(a) = {main_row["dps"] / reference:.3f}   (a = the faster of both bare '
          f'loops, {reference:.2f} fps; goal >= 0.95; against their mean: '
          f'{main_row["dps"] / ((bare["fps"] + again["fps"]) / 2):.3f})')
    if args.rounds > 1:
        paired = [dps / ((before + after) / 2)
                  for dps, before, after in zip(node_rates, bare_rates, bare_rates[1:], strict=False)]
        bares, nodes = ', '.join(f'{v:.2f}' for v in bare_rates), ', '.join(f'{v:.2f}' for v in node_rates)
        print(f'rounds (bare loop, node, bare loop, ...; the first bare loop\'s best variant each time): '
              f'bare {bares} fps; node {nodes} detections/s')
        print(f'detections per second, each node phase / the mean of the bare loops just before and after '
              f'it: {", ".join(f"{r:.3f}" for r in paired)}; median {statistics.median(paired):.3f}   (goal '
              f'>= 0.95); all node phases / the fastest bare loop: '
              f'{statistics.mean(node_rates) / max(bare_rates):.3f}')

        def listed(figures: list[float], digits: int) -> str:
            return ', '.join(f'{v:.{digits}f}' for v in figures)

        for i, value in enumerate(alt_values):
            phases = node_rows[i::len(alt_values)]
            ratios = paired[i::len(alt_values)]
            if not ratios:  # fewer rounds than values
                continue
            print(f'  {alt_name}={value}: each phase / the bare loops around it {listed(ratios, 3)} (median '
                  f'{statistics.median(ratios):.3f}); node {listed([r["dps"] for r in phases], 2)} '
                  f'detections/s, {listed([r["node_ms"] for r in phases], 1)} ms per frame; x '
                  f'inference_ms_mean / streams '
                  f'{listed([r["dps"] * r["node_ms"] / 1e3 / args.streams for r in phases], 3)}')
    if args.streams > 1:
        loops = max(bare['streams_fps'], again['streams_fps'])
        print(f'detections per second (b) / {args.streams} bare loops at once = '
              f'{main_row["dps"] / loops:.3f}   (the node\'s own cost with {args.streams} streams; the '
              f'faster of both, {loops:.2f} fps)')
    print(f'detections per second (b) x the node\'s own inference_ms_mean / streams = '
          f'{main_row["dps"] * main_row["node_ms"] / 1e3 / args.streams:.3f}   (1.0: the model never waits '
          'for a frame; measured in one process at one time, so a shared machine moves it least)')
    if rows:
        best = max((r for r in rows if r['lost'] < 0.05), key=lambda r: r['rate'], default=None)
        found = f'{best["rate"]:.2f} Hz = {best["rate"] / reference:.2f} x the bare rate' if best else 'none'
        print(f'highest camera rate with < 5 % of frames lost: {found}')
        if args.plot:
            plot_search(rows, reference, Path(args.plot), described)
    return 0


def rate_search(graph: Graph, pid: int, bare_fps: float, seconds: float) -> list[dict]:
    """ros2_benchmark-style: camera rates around the bare rate, keeping the highest with < 5 % lost."""
    rows = []
    low, high = 0.5 * bare_fps, 1.5 * bare_fps
    for _ in range(5):
        rate = (low + high) / 2
        row = fixed_rate(graph, pid, rate, seconds)
        rows.append(row)
        print(f'    search: camera {rate:.2f} Hz ({rate / bare_fps:.2f} x bare): {row["dps"]:.2f} '
              f'detections/s, {100 * row["lost"]:.1f} % of frames lost, latency p50 {row["p50"]:.1f} ms, '
              f'p99 {row["p99"]:.1f} ms', flush=True)
        low, high = (rate, high) if row['lost'] < 0.05 else (low, rate)
    return rows


def plot_search(rows: list[dict], bare_fps: float, path: Path, described: str) -> None:
    """Write a PNG: detections per second and frames lost against the camera rate."""
    import matplotlib

    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    rows = sorted(rows, key=lambda r: r['rate'])
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot([r['rate'] for r in rows], [r['dps'] for r in rows], 'o-', label='detections/s (node)')
    ax.axhline(bare_fps, color='gray', linestyle='--', label='bare loop')
    ax.set_xlabel('camera rate (Hz)')
    ax.set_ylabel('detections per second')
    twin = ax.twinx()
    twin.plot([r['rate'] for r in rows], [100 * r['lost'] for r in rows], 's:', color='tab:red',
              label='frames lost (%)')
    twin.set_ylabel('frames lost (%)')
    ax.set_title(described[:60], fontsize=8)
    fig.legend(loc='upper left', fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    print(f'plot: {path}')


def main() -> int:
    args = parse_args()
    if args.typical_node:
        return typical_node(args.size, args.threads)
    from physical_ai.testing import isolate_environment, reexec_with_stack_environment

    reexec_with_stack_environment(__file__)

    domain = isolate_environment()
    if args.camera:
        return camera_mode(args, domain)
    import torch

    from physical_ai.core.detection import samples

    torch.set_num_threads(args.threads)
    workdir = Path(tempfile.mkdtemp(prefix='bench_inference_'))
    model_path = workdir / 'tiny.torchscript'
    samples.save_tiny_detector(model_path, imgsz=(args.size, args.size), names=NAMES, seed=0)
    params = sum(p.numel() for p in samples.TinyDetector(len(NAMES)).parameters()) / 1e6
    frames = make_frames()
    print(f'model: MobileNet-style detector, {params:.1f} M parameters, random weights, input '
          f'{args.size}x{args.size} letterboxed; frames 640x480 bgr8; torch threads {args.threads}; '
          f'ROS_DOMAIN_ID {domain}, loopback DDS (32 MiB shared memory), GLIBC malloc tuning', flush=True)

    bare = bench_bare(model_path, frames, args.threads, args.seconds)
    print(f'(a) bare loop (preprocess + frozen model + postprocess): {bare["fps"]:.1f} fps, '
          f'{bare["ms"]:.2f} ms per frame (median), frozen={bare["frozen"]}, '
          f'{bare["detections"]} detection(s) per frame', flush=True)

    graph = Graph(frames)
    try:
        node_cmd = [sys.executable, '-m', 'physical_ai.nodes.inference_node', '--ros-args',
                    '-p', f'model_path:={model_path}', '-p', f'threads:={args.threads}']
        pipeline = run_variant(graph, node_cmd, workdir / 'inference_node.log', bare['fps'], args)
        print(f'(b) camera -> inference_node (own process) -> detections: {pipeline["fps"]:.1f} fps with '
              f'the camera at {pipeline["camera_hz"]:.0f} Hz; latency stamp->received p50 '
              f'{pipeline["p50"]:.2f} ms, p90 {pipeline["p90"]:.2f} ms with the camera at '
              f'{pipeline["latency_hz"]:.0f} Hz (the node\'s own compute then: {pipeline["node_ms"]:.2f} ms)',
              flush=True)
        again = bench_bare(model_path, frames, args.threads, args.seconds / 2)
        print(f'(a) bare loop again (the machine may be shared): {again["fps"]:.1f} fps, '
              f'{again["ms"]:.2f} ms', flush=True)
        typical_cmd = [sys.executable, os.path.abspath(__file__), '--typical-node', '--size', str(args.size),
                       '--threads', str(args.threads)]
        typical = run_variant(graph, typical_cmd, workdir / 'typical_node.log', bare['fps'], args)
        print(f'(c) camera -> typical rclpy node (list conversion, eager model, depth 10) -> detections: '
              f'{typical["fps"]:.1f} fps; latency p50 {typical["p50"]:.2f} ms, p90 {typical["p90"]:.2f} ms '
              'at the same camera rates', flush=True)
    finally:
        graph.close()
    bare_fps = (bare['fps'] + again['fps']) / 2
    bare_ms = (bare['ms'] + again['ms']) / 2
    # A bare loop behind the same camera could not run faster than the camera either: with the
    # camera at about the model's rate (--overload 1.0) a faster second bare loop would otherwise
    # cap the ratio below 1 for a node that ran every frame.
    reference = min(bare_fps, pipeline['camera_hz'])
    print(f'throughput (b)/(a) = {pipeline["fps"] / reference:.3f}   (goal >= 0.95, >= 0.98 with '
          f'--overload 1.0; (a) = the mean of both loops, {bare_fps:.1f} fps, or the camera rate if lower); '
          f'against the loops alone {pipeline["fps"] / bare_fps:.3f}')
    added = pipeline['added'] + pipeline['delivery']
    print(f'added latency per frame: {added:.2f} ms = {pipeline["added"]:.2f} ms image stamp -> detections '
          f'published less the model\'s time on the same frame (p50, the node\'s diagnostics) + '
          f'{pipeline["delivery"]:.2f} ms publish -> received here (p50, DDS source timestamps)'
          '   (goal < 2 ms)')
    print(f'   the same from medians of different frames (a machine\'s noise moves these most): (b) p50 - '
          f'(a) per-frame = {pipeline["p50"] - bare_ms:.2f} ms; (b) p50 - the node\'s own compute in the '
          f'same run = {pipeline["p50"] - pipeline["node_ms"]:.2f} ms')
    print(f'throughput (c)/(a) = {typical["fps"] / bare_fps:.3f};  '
          f'(b)/(c) = {pipeline["fps"] / typical["fps"]:.2f}x;  '
          f'latency p50 (c) - (a) = {typical["p50"] - bare_ms:.2f} ms')
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
