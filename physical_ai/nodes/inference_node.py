"""Inference node: a TorchScript detector on camera/image_raw, Detection2DArray out, newest frame only.

Lifecycle: the model is loaded in on_configure, frames are processed while active, the model is
released in on_cleanup. With `autostart` (default) the node configures and activates itself.
Frames are taken on demand: the executor never takes from the image subscription (its callback
group never runs); the frame loop, on the node's model thread (core/runtime/thread.py) whenever
the model is free, waits on the subscription itself, takes the newest sample serialized (keep last
1: older ones were replaced in the middleware), parses only that frame and runs the model on it
without handing it to another thread. Frames the model cannot take never reach Python, wake no
thread and are counted from the publisher's sequence numbers. With `streams` > 1, that many loops
run frames at once, each on a model thread of its own (one waits for the next frame at a time);
each frame's detections are tracked and published in the order the frames were taken.
"""

from __future__ import annotations

from concurrent import futures
import sys
import threading
import time
from typing import Any

from builtin_interfaces.msg import Time as TimeMsg
import numpy as np
from rcl_interfaces.msg import SetParametersResult
from rclpy.guard_condition import GuardCondition
from rclpy.impl.implementation_singleton import rclpy_implementation as _rclpy
from rclpy.lifecycle import LifecycleNode, LifecycleState, TransitionCallbackReturn
from rclpy.parameter import Parameter
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from rclpy.qos_overriding_options import QoSOverridingOptions
from sensor_msgs.msg import Image
from std_msgs.msg import Header
from vision_msgs.msg import Detection2DArray, LabelInfo, VisionClass

from physical_ai.core.detection import Detection, Detector, as_color, draw_detections, load_model
from physical_ai.core.detection.model import error_line
from physical_ai.core.errors import ConfigError, ImageError, PhysicalAIError
from physical_ai.core.image import array_to_image, image_to_array
from physical_ai.core.runtime import thread as model_thread
from physical_ai.core.tracking import Tracker, TrackerConfig
from physical_ai.core.wire_detections import detections_message, serialize_detections, serializer_matches
from physical_ai.core.wire_image import WireImage, parse_image
from physical_ai.nodes.common import (
    Diagnostics,
    TakenByCaller,
    declare_params,
    never_called,
    sensor_qos,
    spin_nodes,
)
from physical_ai.params.inference import PARAMS

SUCCESS = TransitionCallbackReturn.SUCCESS
FAILURE = TransitionCallbackReturn.FAILURE


def detections_qos() -> QoSProfile:
    """Return a new profile for detections: reliable, depth 10 (new: overrides apply in place)."""
    return QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)


def labels_qos() -> QoSProfile:
    """Return a new transient-local profile for the class map, so late subscribers get it."""
    return QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE,
                      durability=DurabilityPolicy.TRANSIENT_LOCAL)
WARN_PERIOD = 5.0  # seconds between repeated warnings about bad frames
WAIT_NS = 200_000_000  # a frame loop's longest wait for a frame before it looks at its stop flag again


class _Stats:
    """Counters and the latency window on /diagnostics (written by the frame loops, read by a timer)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.processed = 0
        self.dropped = 0
        self.malformed = 0
        self.errors = 0
        self.window_start = time.monotonic()
        self.window_frames = 0
        self.window_bad = 0
        self.latencies: list[float] = []
        self.added: list[float] = []  # per frame: latency less the model's time on that frame
        self.inference: list[float] = []
        self.tracking: list[float] = []

    def frame(self, latency_ms: float | None, inference_ms: float, tracking_ms: float | None = None) -> None:
        with self.lock:
            self.processed += 1
            self.window_frames += 1
            if latency_ms is not None:
                self.latencies.append(latency_ms)
                self.added.append(latency_ms - inference_ms)
            self.inference.append(inference_ms)
            if tracking_ms is not None:
                self.tracking.append(tracking_ms)

    def bad(self, kind: str) -> None:
        with self.lock:
            setattr(self, kind, getattr(self, kind) + 1)
            self.window_bad += 1

    def take_window(self) -> dict[str, Any]:
        with self.lock:
            now = time.monotonic()
            elapsed = max(now - self.window_start, 1e-6)
            latencies = sorted(self.latencies)
            added = sorted(self.added)
            inference = sum(self.inference) / len(self.inference) if self.inference else float('nan')
            tracking = sum(self.tracking) / len(self.tracking) if self.tracking else float('nan')
            values = {
                'inference_rate_hz': self.window_frames / elapsed,
                'latency_p50_ms': latencies[len(latencies) // 2] if latencies else float('nan'),
                'latency_max_ms': latencies[-1] if latencies else float('nan'),
                # What the node adds to the model: image stamp to detections published, less the
                # model's own time (preprocess, forward, postprocess) on the same frame.
                'added_latency_p50_ms': added[len(added) // 2] if added else float('nan'),
                'inference_ms_mean': inference,
                # Tracking runs after the model in the same frame loop: its cost per frame, and per
                # millisecond of inference.
                'tracking_ms_mean': tracking,
                'tracking_to_inference': tracking / inference if inference > 0.0 else float('nan'),
                'processed_frames': self.processed,
                'dropped_frames': self.dropped,
                'malformed_frames': self.malformed,
                'failed_frames': self.errors,
            }
            bad = self.window_bad
            self.window_start, self.window_frames, self.window_bad = now, 0, 0
            self.latencies, self.added, self.inference, self.tracking = [], [], [], []
        return values | {'_bad_in_window': bad}


class InferenceNode(LifecycleNode):
    """Runs a TorchScript detector on the newest camera image; publishes detections, labels, diagnostics."""

    def __init__(self, node_name: str = 'inference', **kwargs: Any) -> None:
        # Everything destroy_node touches exists before anything can raise (a bad start-up parameter).
        self.failed = False
        self._detector: Detector | None = None
        self._pub_detections = self._pub_annotated = self._pub_labels = None
        self._subscription = None
        self._wake: GuardCondition | None = None
        self._last_sequence: dict[bytes, int] = {}  # publisher gid -> last publication sequence number
        self._stop = False
        self._streams: tuple[int, ...] = ()  # the model streams (threads) this node claimed
        self._loops: list[futures.Future[None]] = []  # the frame loops running on them
        self._take_lock = threading.Lock()  # one loop at a time waits for and takes the next frame
        self._order = threading.Condition()  # frames are tracked and published in the order taken
        self._next_ticket = 0  # the number the next frame taken gets
        self._next_turn = 0  # the lowest ticket not yet finished
        self._finished: set[int] = set()  # tickets finished out of order
        self._stats = _Stats()
        self._tracker: Tracker | None = None
        self._serialize = True  # detections as CDR bytes (core/wire_detections.py), checked on configure
        self._state = 'unconfigured'
        self._error = ''
        super().__init__(node_name, **kwargs)
        self._values = declare_params(self, PARAMS, apply=self._apply)
        TrackerConfig.from_params(self._values)  # a bad combination at start-up is a ConfigError
        self._make_tracker()
        self.add_on_set_parameters_callback(self._check_classes)
        self.add_on_set_parameters_callback(self._check_tracking)
        self._diagnostics = Diagnostics(self, 'inference', self._fill_diagnostics)
        if self._values['autostart']:
            if self.trigger_configure() != SUCCESS or self.trigger_activate() != SUCCESS:
                self.failed = True

    # Lifecycle -----------------------------------------------------------------------------------

    def on_configure(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Load and check the model; create the publishers. A bad model is one error line and FAILURE."""
        v = self._values
        try:
            # Loaded (and warmed up) on the threads that run every frame: torch work on two threads
            # cost half the speed on two cores (core/runtime/thread.py).
            if not self._streams:
                self._streams = model_thread.claim(v['streams'])
            model = model_thread.run(
                load_model, v['model_path'], sha256=v['model_sha256'], device=v['device'], half=v['half'],
                threads=v['threads'], model_format=v['model_format'], labels=v['labels'],
                input_size=v['input_size'], freeze=v['graph'] != 'loaded',
                optimize=v['graph'] == 'optimized', backend=v['backend'],
                cache_dir=v['backend_cache'] or None, streams=v['streams'], stream=self._streams[0])
            detector = Detector(model, score_threshold=v['score_threshold'], nms_iou=v['nms_iou'],
                                max_detections=v['max_detections'], classes=v['classes'],
                                letterbox=v['letterbox'])
            _warm_up(detector, self._streams[1:])
        except PhysicalAIError as err:
            self._error = str(err)
            self.get_logger().error(f'configure failed: {err}')
            return FAILURE
        except Exception as err:  # rclpy would turn it into a silent ERROR transition
            self._error = f'{type(err).__name__}: {err}'
            self.get_logger().error(f'configure failed unexpectedly: {self._error}')
            return FAILURE
        if v['half'] and not model.half:
            self.get_logger().warning(f'half ignored: float16 runs on CUDA only, device is {model.device}')
        self._detector = detector
        self._error = ''
        self._serialize = serializer_matches()
        if not self._serialize:
            self.get_logger().warning('the installed vision_msgs reads detections serialized by this node '
                                      'differently: publishing typed messages (slower with many boxes)')
        overrides = QoSOverridingOptions.with_default_policies()
        self._pub_detections = self.create_lifecycle_publisher(
            Detection2DArray, 'detections', detections_qos(), qos_overriding_options=overrides)
        self._pub_annotated = self.create_lifecycle_publisher(
            Image, 'detections/image', sensor_qos(), qos_overriding_options=overrides)
        self._pub_labels = self.create_lifecycle_publisher(
            LabelInfo, 'detections/labels', labels_qos(), qos_overriding_options=overrides)
        info = model.info
        size = 'image size' if info.input_size is None else f'{info.input_size[0]}x{info.input_size[1]}'
        graph = 'frozen' if model.optimized else 'frozen, not optimized'
        frozen = model.backend_note or (graph if model.frozen else model.freeze_note or 'not frozen')
        device = f'{model.device}{", fp16" if model.half else ""}'
        streams = f', {v["streams"]} streams' if v['streams'] > 1 else ''
        self.get_logger().info(
            f'loaded {model.path} ({info.layout} from {info.source}, input {size}, '
            f'{detector.num_classes or "?"} classes, {device}, {frozen}{streams})')
        self._state = 'inactive'
        return SUCCESS

    def on_activate(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Enable the publishers, publish the label map, subscribe to images and start the frame loops."""
        result = super().on_activate(state)
        if result != SUCCESS:
            return result
        self._publish_labels()
        # Serialized, and taken by a frame loop when the model is free (never by the executor).
        self._subscription = self.create_subscription(
            Image, 'camera/image_raw', never_called, sensor_qos(),
            qos_overriding_options=QoSOverridingOptions.with_default_policies(), raw=True,
            callback_group=TakenByCaller())  # taken by the frame loops
        self._start_loops()
        self._state = 'active'
        return SUCCESS

    def on_deactivate(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Stop taking images and finish the frame in progress; then disable the publishers."""
        self._stop_processing()
        self._state = 'inactive'
        return super().on_deactivate(state)

    def on_cleanup(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Destroy the publishers and release the model."""
        self._release()
        self._state = 'unconfigured'
        return super().on_cleanup(state)

    def on_shutdown(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Stop everything from whatever state the node is in."""
        self._stop_processing()
        self._release()
        self._state = 'finalized'
        return SUCCESS

    def shutdown(self) -> None:
        """Stop the frame loops before the node is destroyed (called by spin_nodes)."""
        self._stop_processing()

    def destroy_node(self) -> None:
        """Stop the frame loops, give back the model streams, then destroy the node."""
        self._stop_processing()
        streams, self._streams = self._streams, ()
        model_thread.release(streams)
        super().destroy_node()

    # Parameters ----------------------------------------------------------------------------------

    def _check_classes(self, params: list[Parameter]) -> SetParametersResult:
        detector = self._detector
        for param in params:
            if param.name == 'classes' and detector is not None and isinstance(param.value, list | tuple):
                try:
                    detector.class_indices([str(c) for c in param.value])
                except ConfigError as err:
                    return SetParametersResult(successful=False, reason=str(err))
        return SetParametersResult(successful=True)

    def _check_tracking(self, params: list[Parameter]) -> SetParametersResult:
        changed = {p.name: p.value for p in params if p.name.startswith('track_')}
        if changed:
            try:
                TrackerConfig.from_params({**self._values, **changed})
            except ConfigError as err:
                return SetParametersResult(successful=False, reason=str(err))
        return SetParametersResult(successful=True)

    def _make_tracker(self) -> None:
        """(Re)create the tracker from the parameters; a bad combination is logged, tracking then off."""
        try:
            self._tracker = Tracker(TrackerConfig.from_params(self._values)) if self._values['tracking'] \
                else None
        except ConfigError as err:
            self._tracker = None
            self.get_logger().error(f'tracking off: {err}')

    def _apply(self, changed: dict[str, Any]) -> None:
        self._values.update(changed)
        if any(k == 'tracking' or k.startswith('track_') for k in changed):
            self._make_tracker()
        detector = self._detector
        options = {k: changed[k] for k in ('score_threshold', 'nms_iou', 'max_detections', 'classes')
                   if k in changed}
        if detector is not None and options:
            try:
                detector.configure(**options)
            except ConfigError as err:  # validated in _check_classes; kept for a model loaded meanwhile
                self.get_logger().error(f'parameter change not applied: {err}')
        if 'score_threshold' in changed and self._state == 'active':
            self._publish_labels()

    # Processing ----------------------------------------------------------------------------------

    def _start_loops(self) -> None:
        self._stop = False
        self._last_sequence.clear()
        with self._order:
            self._next_ticket = self._next_turn = 0
            self._finished.clear()
        self._wake = GuardCondition(None, None, context=self.context)
        self._loops = [model_thread.start(self._run, self._subscription, self._wake, stream=stream)
                       for stream in self._streams]

    def _stop_processing(self) -> None:
        self._stop = True
        wake, self._wake = self._wake, None
        if wake is not None:
            wake.trigger()
        with self._order:
            self._order.notify_all()
        loops, self._loops = self._loops, []
        if loops and model_thread.current_stream() not in self._streams:
            futures.wait(loops, timeout=10.0)
        if self._subscription is not None:  # after the loops: they wait on the subscription
            self.destroy_subscription(self._subscription)
            self._subscription = None
        if wake is not None:
            wake.destroy()

    def _release(self) -> None:
        for name in ('_pub_detections', '_pub_annotated', '_pub_labels'):
            pub = getattr(self, name)
            if pub is not None:
                self.destroy_lifecycle_publisher(pub)
                setattr(self, name, None)
        detector, self._detector = self._detector, None
        if detector is not None:
            detector.model.release()

    def _run(self, subscription: Any, wake: GuardCondition) -> None:
        """Take and process frames on this model stream until the node stops (runs on its thread)."""
        wait_set = _rclpy.WaitSet(1, 1, 0, 0, 0, 0, self.context.handle)
        while not self._stop:
            if not self._take_lock.acquire(timeout=WAIT_NS / 1e9):
                continue
            try:
                with subscription.handle, wake.handle:
                    wait_set.clear_entities()
                    wait_set.add_subscription(subscription.handle)
                    wait_set.add_guard_condition(wake.handle)
                    wait_set.wait(WAIT_NS)
                    if self._stop:
                        return
                    data = self._take_newest(subscription)
                ticket = self._next_ticket
                if data is not None:
                    self._next_ticket += 1
            except Exception as err:  # the context going away mid-wait; anything else is reported
                if self._stop or not self.context.ok():
                    return
                self._stats.bad('errors')
                self.get_logger().error(f'taking an image failed: {error_line(err)}',
                                        throttle_duration_sec=WARN_PERIOD)
                time.sleep(0.1)
                continue
            finally:
                self._take_lock.release()
            if data is None:
                continue
            try:
                self._process(data, ticket)
            except Exception as err:  # the loop must outlive any one frame
                self._stats.bad('errors')
                self.get_logger().error(f'frame failed: {error_line(err)}', throttle_duration_sec=WARN_PERIOD)
            finally:
                self._finish(ticket)

    def _wait_turn(self, ticket: int) -> None:
        """Wait until every frame taken before this one is finished (published, dropped or failed)."""
        with self._order:
            while self._next_turn < ticket and not self._stop:
                self._order.wait(WAIT_NS / 1e9)

    def _finish(self, ticket: int) -> None:
        """Mark a frame done (published, dropped or failed), so the frames after it take their turn."""
        with self._order:
            self._finished.add(ticket)
            while self._next_turn in self._finished:
                self._finished.remove(self._next_turn)
                self._next_turn += 1
            self._order.notify_all()

    def _take_newest(self, subscription: Any) -> bytes | None:
        """Take every waiting sample (one, at keep last 1); return the newest, count the others as dropped."""
        newest = None
        while (taken := subscription.handle.take_message(subscription.msg_type, True)) is not None:
            data, info = taken
            skipped = self._skipped(info) + (newest is not None)
            if skipped:
                with self._stats.lock:
                    self._stats.dropped += skipped
            newest = data
        return newest

    def _skipped(self, info: dict[str, Any]) -> int:
        """Return how many samples of this sample's publisher the middleware replaced since the last one."""
        gid = info.get('publisher_gid') or {}
        publisher = bytes(gid.get('data', b'')) if isinstance(gid, dict) else b''
        sequence = int(info.get('publication_sequence_number') or 0)
        if not sequence:  # the rmw does not report sequence numbers
            return 0
        last = self._last_sequence.get(publisher)
        self._last_sequence[publisher] = sequence
        return sequence - last - 1 if last is not None and sequence > last + 1 else 0

    def _process(self, data: bytes, ticket: int) -> None:
        detector = self._detector
        if detector is None:
            return
        try:
            wire = parse_image(data)
            image, order = as_color(image_to_array(wire), wire.encoding)
        except ImageError as err:
            self._stats.bad('malformed')
            self.get_logger().warning(f'dropped image: {err}', throttle_duration_sec=WARN_PERIOD)
            return
        started = time.perf_counter()
        boxes, scores, classes = detector.detect_arrays(image, order)  # on this loop's model thread
        inference_ms = (time.perf_counter() - started) * 1e3
        self._wait_turn(ticket)  # the frames after this one wait until _run calls _finish(ticket)
        self._publish(detector, wire, image, order, boxes, scores, classes, inference_ms)

    def _publish(self, detector: Detector, wire: WireImage, image: Any, order: str, boxes: Any, scores: Any,
                 classes: Any, inference_ms: float) -> None:
        """Track and publish one frame's detections (and the annotated image): in turn, frame by frame."""
        stamp_ns = wire.stamp_sec * 1_000_000_000 + wire.stamp_nanosec if wire.stamp_sec >= 0 else 0
        ids, tracking_ms = self._track(boxes, scores, classes, stamp_ns)
        box_list, score_list = boxes.tolist(), scores.tolist()
        names = [detector.class_name(c) for c in classes.tolist()]
        args = (wire.stamp_sec, wire.stamp_nanosec, wire.frame_id, box_list, score_list, names, ids)
        # Serialized (core/wire_detections.py): no Python message per box; typed where the installed
        # vision_msgs reads those bytes differently (checked on configure).
        write = serialize_detections if self._serialize else detections_message
        self._pub_detections.publish(write(*args))
        self._stats.frame(self._latency_ms(stamp_ns), inference_ms, tracking_ms)
        annotated = self._pub_annotated
        if self._values['publish_annotated'] and annotated is not None and annotated.get_subscription_count():
            drawn = draw_detections(image, [
                Detection(*box, score, index, name) for box, score, index, name
                in zip(box_list, score_list, classes.tolist(), names, strict=True)], order)
            picture = array_to_image(drawn, 'bgr8' if order == 'bgr' else 'rgb8')
            picture.header = Header(stamp=TimeMsg(sec=wire.stamp_sec, nanosec=wire.stamp_nanosec),
                                    frame_id=wire.frame_id)
            annotated.publish(picture)

    def _track(self, boxes: Any, scores: Any, classes: Any, stamp_ns: int) -> tuple[list[str], float | None]:
        """Return the track id of each detection ('' untracked) and the tracker's time (ms, None if off)."""
        tracker = self._tracker
        if tracker is None:
            return [''] * len(boxes), None
        # unstamped images: the node's clock
        seconds = (stamp_ns or self.get_clock().now().nanoseconds) * 1e-9
        started = time.perf_counter()
        ids = tracker.update(boxes, scores, classes, seconds)
        return [str(i) if i else '' for i in ids.tolist()], (time.perf_counter() - started) * 1e3

    def _latency_ms(self, stamp_ns: int) -> float | None:
        """Return the node's clock now less the image stamp (ms); None for unstamped or pre-epoch images."""
        if stamp_ns <= 0:
            return None
        return (self.get_clock().now().nanoseconds - stamp_ns) / 1e6

    def _publish_labels(self) -> None:
        detector, pub = self._detector, self._pub_labels
        if detector is None or pub is None:
            return
        msg = LabelInfo()
        msg.header.stamp = self.get_clock().now().to_msg()
        count = len(detector.names) or detector.num_classes or 0
        msg.class_map = [VisionClass(class_id=i, class_name=detector.class_name(i)) for i in range(count)]
        msg.threshold = float(detector.options.score_threshold)
        pub.publish(msg)

    def _fill_diagnostics(self) -> tuple[str, str, dict[str, Any]]:
        values = self._stats.take_window()
        bad = values.pop('_bad_in_window')
        detector = self._detector
        values['state'] = self._state
        values['streams'] = self._values['streams']
        values['tracking'] = self._tracker is not None
        values['model_file'] = self._values['model_path']
        if detector is not None:
            model = detector.model
            values['device'] = str(model.device) + (' fp16' if model.half else '')
            values['format'] = f'{model.info.layout} ({model.info.source})'
            values['frozen'] = model.frozen
            values['optimized'] = model.optimized
            values['backend'] = model.backend
        else:
            values['device'] = self._values['device']
        if self._error:
            return 'error', self._error, values
        if self._state != 'active':
            return 'ok', self._state, values
        if bad:
            return 'warn', f'{bad} frame(s) dropped as malformed or failed', values
        if values['processed_frames'] == 0:
            return 'ok', 'active, no image yet', values
        return 'ok', f'{values["inference_rate_hz"]:.1f} Hz', values


def _warm_up(detector: Detector, streams: tuple[int, ...]) -> None:
    """Run the model once on each of these streams (the first loaded it): their first frame is not slow."""
    height, width = detector.model.info.input_size or (480, 640)
    blank = np.zeros((height, width, 3), np.uint8)
    for stream in streams:
        model_thread.run(detector.detect_arrays, blank, stream=stream)


def main(args: list[str] | None = None) -> int:
    """Run the node alone in a single-threaded executor (frames are processed on the node's model threads)."""
    return spin_nodes([InferenceNode], args=sys.argv if args is None else args, threads=1)


if __name__ == '__main__':
    raise SystemExit(main())
