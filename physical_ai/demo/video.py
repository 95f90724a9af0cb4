"""An MP4 of the annotated camera view with text overlaid (planner state, distance, time).

Frames come from `detections/image` when the inference node publishes it, else from
`camera/image_raw` with the newest detections drawn here (the inference core's `draw_detections`).
Frames are placed by their header stamps at the camera rate: a frame that DDS dropped (best
effort) is filled by repeating the previous one, so the video keeps the pace of the (simulated)
time and plays at real speed whatever the simulator's real-time factor was.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
import threading
from typing import Any

import cv2
import numpy as np

# With the module, not at the first frame: the detection package imports torch, which took 2.7 s
# (GIL held) in the demo's watcher process just as the episode started, delaying its monitor.
from physical_ai.core.detection.annotate import draw_detections
from physical_ai.core.detection.detector import Detection
from physical_ai.core.errors import ImageError, PhysicalAIError
from physical_ai.core.image import image_to_array
from physical_ai.core.wire_image import parse_image

# Longest gap (s) filled with repeated frames; beyond it the video simply jumps.
MAX_GAP = 2.0


class VideoError(PhysicalAIError):
    """The video file cannot be written."""


def to_bgr(msg: Any) -> np.ndarray:
    """Return an Image message's pixels as an H x W x 3 uint8 BGR array (raises ImageError)."""
    arr = image_to_array(msg)
    encoding = msg.encoding
    if encoding == 'bgr8':
        return np.ascontiguousarray(arr)
    conversions = {'rgb8': cv2.COLOR_RGB2BGR, 'rgba8': cv2.COLOR_RGBA2BGR, 'bgra8': cv2.COLOR_BGRA2BGR,
                   'mono8': cv2.COLOR_GRAY2BGR}
    if encoding in conversions:
        return cv2.cvtColor(np.ascontiguousarray(arr), conversions[encoding])
    if encoding == 'mono16':
        return cv2.cvtColor((arr >> 8).astype(np.uint8), cv2.COLOR_GRAY2BGR)
    raise ImageError(f'cannot show image encoding {encoding!r} in the video')


def draw_overlay(image: np.ndarray, lines: Sequence[str]) -> np.ndarray:
    """Draw text lines on a dark band at the bottom of a BGR image, in place; return it.

    The bottom (the floor right in front of the robot) hides the least: boxes of near objects
    reach the top border, and their labels are drawn there.
    """
    if not lines:
        return image
    height, width = image.shape[:2]
    scale = max(0.35, min(width, height) / 700)
    line_h = int(24 * scale) + 4
    band = min(height, line_h * len(lines) + 6)
    top = height - band
    image[top:] = (image[top:] * 0.35).astype(np.uint8)
    for i, line in enumerate(lines):
        cv2.putText(image, _fit(line, width - 12, scale), (6, top + line_h * (i + 1) - 2),
                    cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), 1, cv2.LINE_AA)
    return image


def _fit(text: str, width: int, scale: float) -> str:
    """Return `text` shortened (ending in '...') to fit `width` pixels."""
    def size(t: str) -> int:
        return cv2.getTextSize(t, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)[0][0]

    if size(text) <= width:
        return text
    while len(text) > 1 and size(text + '...') > width:
        text = text[:-1]
    return text + '...'


class FrameClock:
    """Places frames on a fixed-rate timeline by stamp: how many times to write each one."""

    def __init__(self, fps: float) -> None:
        if not fps > 0:
            raise VideoError(f'video frame rate must be > 0, got {fps}')
        self.fps = fps
        self._start: float | None = None
        self._last_index = -1

    def slots(self, stamp: float) -> tuple[int, int]:
        """Return (repeats of the previous frame, writes of this frame) for a frame at `stamp` (s).

        (0, 0) means the frame is late or a duplicate of a slot already written.
        """
        if self._start is None:
            self._start = stamp
        index = int(round((stamp - self._start) * self.fps))
        if index <= self._last_index:
            return 0, 0
        gap = index - self._last_index - 1
        repeats = min(gap, int(MAX_GAP * self.fps)) if self._last_index >= 0 else 0
        self._last_index = index
        return repeats, 1


class Mp4Writer:
    """cv2.VideoWriter with the 'mp4v' codec, opened at the first frame's size."""

    def __init__(self, path: str | Path, fps: float) -> None:
        self.path = Path(path)
        self.fps = fps
        self.frames = 0
        self._writer: Any = None

    def write(self, frame: np.ndarray) -> None:
        """Append one BGR frame; frames of another size are resized to the first one's."""
        if self._writer is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._size = (frame.shape[1], frame.shape[0])
            self._writer = cv2.VideoWriter(str(self.path), cv2.VideoWriter_fourcc(*'mp4v'), self.fps,
                                           self._size)
            if not self._writer.isOpened():
                raise VideoError(f'cannot write the video {self.path} (OpenCV mp4v writer did not open)')
        if (frame.shape[1], frame.shape[0]) != self._size:
            frame = cv2.resize(frame, self._size)
        self._writer.write(frame)
        self.frames += 1

    def close(self) -> None:
        """Finish the file."""
        if self._writer is not None:
            self._writer.release()
            self._writer = None


class _Stamp:
    __slots__ = ('sec', 'nanosec')

    def __init__(self, sec: int, nanosec: int) -> None:
        self.sec, self.nanosec = sec, nanosec


class VideoRecorder:
    """Subscribes to the camera view (annotated or raw plus detections) and writes the MP4.

    `overlay(stamp)` returns the text lines for the frame stamped `stamp` (seconds).
    `source`: 'auto' (detections/image once it has a publisher, else camera/image_raw plus
    detections), 'annotated' or 'raw'.
    """

    def __init__(self, node: Any, path: str | Path, fps: float,
                 overlay: Callable[[float], Sequence[str]] | None = None, source: str = 'auto') -> None:
        from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy, qos_profile_sensor_data
        from sensor_msgs.msg import Image
        from vision_msgs.msg import Detection2DArray, LabelInfo

        if source not in ('auto', 'annotated', 'raw'):
            raise VideoError(f'video source {source!r}: expected auto, annotated or raw')
        self._node = node
        self._overlay = overlay or (lambda stamp: [])
        self._source = source
        self._lock = threading.Lock()
        self._clock = FrameClock(fps)
        self.writer = Mp4Writer(path, fps)
        self._previous: np.ndarray | None = None
        self._detections: list[Any] = []
        self._class_index: dict[str, int] = {}
        self.dropped = 0
        self.annotated = False
        self._closed = False
        self._image_type = Image
        self._sensor_qos = qos_profile_sensor_data
        self._raw_sub = None
        self._annotated_sub = None
        if source != 'annotated':
            # raw: pixels are read straight from the serialized bytes (one copy, no Python message).
            self._raw_sub = node.create_subscription(Image, 'camera/image_raw', self._on_raw,
                                                     qos_profile_sensor_data, raw=True)
            reliable = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)
            self._det_sub = node.create_subscription(Detection2DArray, 'detections', self._on_detections,
                                                     reliable)
            latched = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE,
                                 durability=DurabilityPolicy.TRANSIENT_LOCAL)
            self._labels_sub = node.create_subscription(LabelInfo, 'detections/labels', self._on_labels,
                                                        latched)
        if source == 'annotated':
            self._use_annotated()
        self._timer = node.create_timer(1.0, self._check_annotated) if source == 'auto' else None

    @property
    def path(self) -> Path:
        """Return the path of the MP4 file."""
        return self.writer.path

    def _check_annotated(self) -> None:
        if self._annotated_sub is None and self._node.count_publishers('detections/image') > 0:
            self._use_annotated()

    def _use_annotated(self) -> None:
        self._annotated_sub = self._node.create_subscription(
            self._image_type, 'detections/image', self._on_annotated, self._sensor_qos)

    def _on_labels(self, msg: Any) -> None:
        with self._lock:
            for item in msg.class_map:
                self._class_index[item.class_name] = item.class_id

    def _on_detections(self, msg: Any) -> None:
        found = []
        for det in msg.detections:
            if not det.results:
                continue
            hyp = det.results[0].hypothesis
            name = hyp.class_id
            index = self._class_index.setdefault(name, len(self._class_index))
            cx, cy = det.bbox.center.position.x, det.bbox.center.position.y
            w, h = det.bbox.size_x, det.bbox.size_y
            found.append(Detection(cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2, hyp.score, index, name))
        with self._lock:
            self._detections = found

    def _on_raw(self, data: bytes) -> None:
        if self.annotated:
            return
        try:
            msg = parse_image(data)
            frame = to_bgr(msg)
        except ImageError:
            self.dropped += 1
            return
        with self._lock:
            detections = list(self._detections)
        self._write(draw_detections(frame, detections), _Stamp(msg.stamp_sec, msg.stamp_nanosec))

    def _on_annotated(self, msg: Any) -> None:
        try:
            frame = to_bgr(msg)
        except ImageError:
            self.dropped += 1
            return
        if not self.annotated:
            self.annotated = True  # from now on the inference node draws the boxes
            if self._raw_sub is not None:
                self._node.destroy_subscription(self._raw_sub)
                self._raw_sub = None
        self._write(np.array(frame, copy=True), msg.header.stamp)

    def _write(self, frame: np.ndarray, stamp_msg: Any) -> None:
        stamp = stamp_msg.sec + stamp_msg.nanosec * 1e-9
        draw_overlay(frame, self._overlay(stamp))
        with self._lock:
            if self._closed:
                return
            repeats, writes = self._clock.slots(stamp)
            if not writes:
                return
            for _ in range(repeats):
                self.writer.write(self._previous if self._previous is not None else frame)
            self.writer.write(frame)
            self._previous = frame

    def close(self) -> None:
        """Stop receiving and finish the file."""
        if self._timer is not None:
            self._node.destroy_timer(self._timer)
        for sub in (self._raw_sub, self._annotated_sub, getattr(self, '_det_sub', None),
                    getattr(self, '_labels_sub', None)):
            if sub is not None:
                self._node.destroy_subscription(sub)
        with self._lock:
            self._closed = True
            self.writer.close()
