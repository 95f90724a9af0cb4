"""3D stage node: detections + aligned depth image + its camera_info -> detections_3d and rviz markers.

A thin adapter around physical_ai.core.depth. Subscribes `detections` (vision_msgs/Detection2DArray,
boxes in the pixels of the depth image: an aligned depth stream, as the simulator, Gazebo's
rgbd_camera and RealSense/OAK-D aligned depth publish), `camera/depth/image_raw` (32FC1 m or 16UC1
mm) and `camera/depth/camera_info`; pairs detections with the depth image of the same stamp
(approximate time, `sync_slop`) and publishes `detections_3d` (vision_msgs/Detection3DArray, the
detections' stamp, the depth frame or `target_frame`; Detection3D.id = Detection2D.id, results
copied with the 3D centre as their pose) and `detections_3d/markers`. Both inputs are taken
serialized and size-checked before they are decoded; bad input is counted and the node stays up.
Its diagnostics say why nothing comes out when nothing does.
"""

from __future__ import annotations

from collections.abc import Callable
import math
import threading
import time
from typing import Any

from rclpy.duration import Duration
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from rclpy.qos_overriding_options import QoSOverridingOptions
from rclpy.serialization import deserialize_message
from sensor_msgs.msg import CameraInfo, Image
from tf2_msgs.msg import TFMessage
from vision_msgs.msg import Detection2DArray, Detection3D, Detection3DArray, ObjectHypothesisWithPose
from visualization_msgs.msg import Marker, MarkerArray

from physical_ai.core.depth.estimate import (
    ENCODINGS,
    Camera,
    DepthSettings,
    Object3D,
    box_region,
    locate,
    parse_class_depths,
    to_metres,
)
from physical_ai.core.depth.sync import ApproximateSync
from physical_ai.core.depth.transforms import TransformBuffer, TransformError, quaternion_from_matrix
from physical_ai.core.errors import ConfigError, ImageError
from physical_ai.core.image import image_to_array
from physical_ai.core.wire_image import WireImage, parse_image
from physical_ai.nodes.common import Diagnostics, SetUpNode, declare_params, node_main, sensor_qos
from physical_ai.params.depth import PARAMS

WARN_PERIOD = 2.0
STALE = 2.0  # s (steady) without an input before the diagnostics call it missing
SETTING_KEYS = ('min_range', 'max_range', 'cluster_gap', 'cluster_gap_fraction', 'min_fraction',
                'near_percentile', 'min_pixels', 'class_depths')


def settings_from(values: dict[str, Any]) -> DepthSettings:
    """Return the depth settings of the node's parameters (ConfigError when they do not fit)."""
    return DepthSettings(values['min_range'], values['max_range'], values['cluster_gap'],
                         values['cluster_gap_fraction'], values['min_fraction'], values['near_percentile'],
                         values['min_pixels'], parse_class_depths(values['class_depths']))


def stamp_of(header: Any) -> float:
    """Return a header's stamp in seconds."""
    return header.stamp.sec + header.stamp.nanosec * 1e-9


class DepthNode(SetUpNode):
    """Detections and depth in, 3D detections out; see docs/depth.md."""

    def __init__(self, node_name: str = 'depth', **kwargs: Any) -> None:
        super().__init__(node_name, **kwargs)

    def _setup(self) -> None:
        self._lock = threading.Lock()
        self._values = values = declare_params(self, PARAMS, apply=self._apply, check_together=settings_from)
        self.settings = settings_from(values)
        self.sync = ApproximateSync(values['sync_slop'], values['queue_size'])
        self.camera: Camera | None = None
        self.counts = dict.fromkeys(
            ('detections', 'depth_images', 'camera_infos', 'published', 'objects', 'objects_without_depth',
             'malformed_detections', 'malformed_images', 'oversized', 'bad_encoding', 'size_mismatch',
             'no_camera_info', 'tf_failures', 'callback_errors'), 0)
        self.last_problem = ''
        self._seen: dict[str, float] = {}  # input -> steady time of the last message
        self._started = time.monotonic()
        self._target_frame = values['target_frame'].lstrip('/')
        self.tf = TransformBuffer(tolerance=values['tf_tolerance'])

        overrides = QoSOverridingOptions.with_default_policies()
        self._pub = self.create_publisher(Detection3DArray, 'detections_3d',
                                          QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE),
                                          qos_overriding_options=overrides)
        self._marker_pub = self.create_publisher(MarkerArray, 'detections_3d/markers', QoSProfile(depth=1),
                                                 qos_overriding_options=overrides)
        self.create_subscription(Detection2DArray, 'detections', self._guarded(self._on_detections),
                                 QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE),
                                 qos_overriding_options=overrides, raw=True)
        # Best effort, as every camera driver's sensor data; a reliable publisher matches it too.
        self.create_subscription(Image, 'camera/depth/image_raw', self._guarded(self._on_depth),
                                 sensor_qos(), qos_overriding_options=overrides, raw=True)
        self.create_subscription(CameraInfo, 'camera/depth/camera_info', self._guarded(self._on_camera_info),
                                 sensor_qos(), qos_overriding_options=overrides)
        if self._target_frame:
            # Absolute by convention, like the simulator's; a namespaced robot remaps them (profiles).
            self.create_subscription(TFMessage, '/tf', self._guarded(self._on_tf), QoSProfile(depth=100))
            latched = QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE,
                                 durability=DurabilityPolicy.TRANSIENT_LOCAL)
            self.create_subscription(TFMessage, '/tf_static', self._guarded(self._on_tf_static), latched)
        self._diagnostics = Diagnostics(self, '3d stage', self._fill_diagnostics)
        self.get_logger().info(
            f'detections + {self.resolve_topic_name("camera/depth/image_raw")} -> '
            f'{self._pub.topic_name} in {self._target_frame or "the depth frame"}, '
            f'slop {values["sync_slop"]:g} s')

    # Parameters ---------------------------------------------------------------------------------

    def _apply(self, changed: dict[str, Any]) -> None:
        with self._lock:
            self._values.update(changed)
            if any(k in changed for k in SETTING_KEYS):
                self.settings = settings_from(self._values)
            if 'sync_slop' in changed:
                self.sync.slop = self._values['sync_slop']
            if 'queue_size' in changed:
                self.sync.queue_size = self._values['queue_size']
            if 'tf_tolerance' in changed:
                self.tf.tolerance = self._values['tf_tolerance']
        self.get_logger().info('parameters changed: ' + ', '.join(f'{k}={v}' for k, v in changed.items()))

    # Inputs -------------------------------------------------------------------------------------

    def _guarded(self, callback: Callable[..., None]) -> Callable[..., None]:
        """Wrap a callback so that a failure is counted and logged, and the node stays up."""
        def guarded(*args: Any) -> None:
            try:
                callback(*args)
            except Exception as err:  # the node must outlive any one message
                with self._lock:
                    self.counts['callback_errors'] += 1
                    self.last_problem = f'{callback.__name__} failed: {type(err).__name__}: {err}'
                self.get_logger().error(self.last_problem, throttle_duration_sec=WARN_PERIOD)
        guarded.__name__ = callback.__name__
        return guarded

    def _problem(self, key: str, text: str) -> None:
        with self._lock:
            self.counts[key] += 1
            self.last_problem = text
        self.get_logger().warning(f'{text} ({self.counts[key]} so far)', throttle_duration_sec=WARN_PERIOD)

    def _on_detections(self, data: bytes) -> None:
        self._seen['detections'] = time.monotonic()
        limit = self._values['max_message_bytes']
        if len(data) > limit:
            self._problem('oversized', f'detections message of {len(data)} bytes ignored (max_message_bytes '
                          f'{limit})')
            return
        msg = deserialize_message(data, Detection2DArray)
        stamp = stamp_of(msg.header)
        if not math.isfinite(stamp):
            self._problem('malformed_detections', 'detections with a non-finite stamp ignored')
            return
        with self._lock:
            self.counts['detections'] += 1
            pairs = self._sync_reason(self.sync.add_primary, stamp, msg)
        self._process(pairs)

    def _on_depth(self, data: bytes) -> None:
        self._seen['depth'] = time.monotonic()
        limit = self._values['max_image_bytes']
        if len(data) > limit:
            self._problem('oversized', f'depth image of {len(data)} bytes ignored (max_image_bytes {limit})')
            return
        try:  # header fields read from the bytes, the pixels a view of them: no Python Image, no second copy
            image = parse_image(data)
        except ImageError as err:
            self._problem('malformed_images', f'depth image ignored: {err}')
            return
        if image.encoding not in ENCODINGS:
            self._problem('bad_encoding', f'depth image encoding {image.encoding!r} is not supported '
                          f'(accepted: {", ".join(ENCODINGS)}, REP 118); is this the colour stream?')
            return
        try:
            pixels = image_to_array(image)
        except ImageError as err:
            self._problem('malformed_images', f'depth image ignored: {err}')
            return
        with self._lock:
            self.counts['depth_images'] += 1
            pairs = self._sync_reason(self.sync.add_secondary, image.stamp_sec + image.stamp_nanosec * 1e-9,
                                      (image, pixels))
        self._process(pairs)

    def _sync_reason(self, add: Callable[[float, Any], list[Any]], stamp: float, item: Any) -> list[Any]:
        """Add to the synchroniser (under the lock); note why detections left it unmatched."""
        c = self.sync.counters
        unmatched, dropped = c.unmatched, c.dropped
        pairs = add(stamp, item)
        if c.unmatched > unmatched:
            self.last_problem = (f'{c.unmatched} detections without a depth image within sync_slop '
                                 f'{self.sync.slop:g} s (closest {c.min_gap:.3f} s): stamps from different '
                                 "clocks, or queue_size too short for the detector's latency")
        elif c.dropped > dropped:
            self.last_problem = f'{c.dropped} detections dropped waiting for a depth image of their stamp'
        return pairs

    def _on_camera_info(self, msg: CameraInfo) -> None:
        self._seen['camera_info'] = time.monotonic()
        try:
            camera = Camera.from_k(msg.k, msg.width, msg.height, msg.header.frame_id)
        except ConfigError as err:
            self._problem('malformed_images', f'depth camera_info ignored: {err}')
            return
        with self._lock:
            self.counts['camera_infos'] += 1
            self.camera = camera

    def _on_tf(self, msg: TFMessage, static: bool = False) -> None:
        for t in msg.transforms:
            tr, q = t.transform.translation, t.transform.rotation
            self.tf.set_transform(t.header.frame_id, t.child_frame_id, stamp_of(t.header),
                                  (tr.x, tr.y, tr.z), (q.x, q.y, q.z, q.w), static)

    def _on_tf_static(self, msg: TFMessage) -> None:
        self._on_tf(msg, static=True)

    # Processing ---------------------------------------------------------------------------------

    def _process(self, pairs: list[tuple[Any, Any]]) -> None:
        for detections, (image, pixels) in pairs:
            out = self._locate_all(detections, image, pixels)
            if out is None:
                continue
            self._pub.publish(out)
            self._seen['published'] = time.monotonic()
            with self._lock:
                self.counts['published'] += 1
            if self._values['markers'] and self._marker_pub.get_subscription_count() > 0:
                self._marker_pub.publish(markers_of(out))

    def _locate_all(self, detections: Detection2DArray, image: WireImage,
                    pixels: Any) -> Detection3DArray | None:
        camera = self.camera
        if camera is None:
            self._problem('no_camera_info', 'no depth camera_info yet: cannot back-project (is '
                          'camera/depth/camera_info published and remapped?)')
            return None
        if (camera.width, camera.height) != (image.width, image.height):
            self._problem('size_mismatch', f'depth image {image.width}x{image.height} but its camera_info '
                          f'says {camera.width}x{camera.height}: frame ignored')
            return None
        settings = self.settings
        frame = image.frame_id or camera.frame_id
        matrix = None
        if self._target_frame and self._target_frame != frame:
            try:
                matrix = self.tf.lookup(self._target_frame, frame, stamp_of(detections.header))
            except TransformError as err:
                self._problem('tf_failures', f'no transform {frame} -> {self._target_frame}: {err}')
                return None
            frame = self._target_frame
        out = Detection3DArray()
        out.header.stamp = detections.header.stamp
        out.header.frame_id = frame
        for index, det in enumerate(detections.detections):
            box = det.bbox
            values = (box.center.position.x, box.center.position.y, box.size_x, box.size_y)
            if not all(math.isfinite(v) for v in values) or box.size_x <= 0.0 or box.size_y <= 0.0:
                self._problem('malformed_detections', f'detection {index}: unusable box {values}')
                continue
            class_name = _best_class(det)
            obj = self._locate(pixels, image.encoding, camera, class_name, values, settings)
            if obj is None:
                with self._lock:
                    self.counts['objects_without_depth'] += 1
                continue
            out.detections.append(detection_3d(det, obj, out.header, matrix))
        with self._lock:
            self.counts['objects'] += len(out.detections)
        return out

    @staticmethod
    def _locate(pixels: Any, encoding: str, camera: Camera, class_name: str, box: tuple[float, ...],
                settings: DepthSettings) -> Object3D | None:
        # Only the box's pixels are converted to metres: a whole image per object would cost more.
        return locate(to_metres(box_region(pixels, *box), encoding), camera, class_name, *box, settings)

    # Diagnostics ---------------------------------------------------------------------------------

    def _fill_diagnostics(self) -> tuple[str, str, dict[str, Any]]:
        now = time.monotonic()
        with self._lock:
            c, sync = dict(self.counts), self.sync.counters
            values: dict[str, Any] = dict(c)
            values.update({
                'matched': sync.matched, 'unmatched_detections': sync.unmatched,
                'dropped_detections': sync.dropped, 'unused_depth_images': sync.unused,
                'waiting_detections': self.sync.waiting, 'restarts': sync.restarts,
                'last_stamp_gap_s': sync.last_gap if math.isfinite(sync.last_gap) else 'none',
                'sync_slop_s': self.sync.slop, 'target_frame': self._target_frame or 'depth frame',
                'camera_info': 'ok' if self.camera else 'missing',
                'last_problem': self.last_problem or 'none',
            })
        level, message = self._why(now, c, sync)
        return level, message, values

    def _why(self, now: float, c: dict[str, int], sync: Any) -> tuple[str, str]:
        def fresh(key: str) -> bool:
            return now - self._seen.get(key, -math.inf) < STALE

        depth_topic = self.resolve_topic_name('camera/depth/image_raw')
        if not fresh('depth'):
            return 'warn', (f'no depth image on {depth_topic} for {STALE:g} s: check the remapping and '
                            'that the driver publishes aligned depth')
        if c['bad_encoding'] and not c['depth_images']:
            return 'error', self.last_problem
        if not fresh('detections'):
            return 'warn', f'no detections on {self.resolve_topic_name("detections")} for {STALE:g} s'
        if self.camera is None:
            return 'warn', 'no depth camera_info yet (camera/depth/camera_info)'
        if not fresh('published'):
            why = self.last_problem or 'no frame matched yet'
            return 'error', f'nothing published for {STALE:g} s: {why}'
        return 'ok', f'{c["published"]} frames, {c["objects"]} objects in 3D'


def _best_class(det: Any) -> str:
    if not det.results:
        return ''
    best = max(det.results, key=lambda r: r.hypothesis.score if math.isfinite(r.hypothesis.score) else -1.0)
    return best.hypothesis.class_id


def detection_3d(det: Any, obj: Object3D, header: Any, matrix: Any = None) -> Detection3D:
    """Return the Detection3D of a 2D detection located in 3D (transformed by a 4x4 `matrix` if given)."""
    out = Detection3D(header=header, id=det.id)
    x, y, z = obj.centre
    orientation = (0.0, 0.0, 0.0, 1.0)
    if matrix is not None:
        x, y, z = (float(v) for v in matrix[:3, :3] @ (x, y, z) + matrix[:3, 3])
        orientation = quaternion_from_matrix(matrix[:3, :3])
    centre = out.bbox.center
    centre.position.x, centre.position.y, centre.position.z = x, y, z
    centre.orientation.x, centre.orientation.y, centre.orientation.z, centre.orientation.w = orientation
    out.bbox.size.x, out.bbox.size.y, out.bbox.size.z = obj.size
    for result in det.results:
        hypothesis = ObjectHypothesisWithPose()
        hypothesis.hypothesis = result.hypothesis
        hypothesis.pose.pose = centre
        hypothesis.pose.covariance = result.pose.covariance
        out.results.append(hypothesis)
    return out


def markers_of(msg: Detection3DArray) -> MarkerArray:
    """Return a box and a label per 3D detection, in the detections' frame."""
    markers = [Marker(action=Marker.DELETEALL)]
    for i, det in enumerate(msg.detections):
        box = Marker(id=2 * i, type=Marker.CUBE, ns='detections_3d', action=Marker.ADD, header=msg.header)
        box.pose = det.bbox.center
        box.scale.x, box.scale.y, box.scale.z = (max(v, 0.01) for v in
                                                 (det.bbox.size.x, det.bbox.size.y, det.bbox.size.z))
        box.color.r, box.color.g, box.color.b, box.color.a = 0.1, 0.6, 1.0, 0.5
        box.lifetime = Duration(seconds=0.5).to_msg()
        label = Marker(id=2 * i + 1, type=Marker.TEXT_VIEW_FACING, ns='detections_3d', action=Marker.ADD,
                       header=msg.header)
        label.pose = det.bbox.center
        label.scale.z = 0.15
        label.color.r = label.color.g = label.color.b = label.color.a = 1.0
        name = det.results[0].hypothesis.class_id if det.results else ''
        label.text = f'{name} {det.id}'.strip()
        label.lifetime = box.lifetime
        markers += [box, label]
    return MarkerArray(markers=markers)


main = node_main(DepthNode)
