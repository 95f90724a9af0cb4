"""Camera node: a V4L2 device, video file, image folder, stream or test pattern as ROS 2 image topics.

Publishes camera/image_raw (sensor_msgs/Image), camera/camera_info (same header) and, optionally,
camera/image_raw/compressed (JPEG). Capture runs in its own thread into a one-slot buffer; a publish
thread sends the newest frame, at most `fps` times a second, so nothing ever queues. A source that
fails is retried with backoff (0.5 s doubling to 5 s) and publishing resumes by itself; the fault,
reconnects, dropped frames and achieved rate are reported on /diagnostics.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import cv2
from rclpy.duration import Duration
from rclpy.node import Node
from rclpy.qos_overriding_options import QoSOverridingOptions
from sensor_msgs.msg import CameraInfo, CompressedImage, Image
from std_msgs.msg import Header

from physical_ai.core.camera import (
    Calibration,
    Capture,
    Frame,
    RateLimiter,
    SourceOptions,
    camera_info,
    compress_jpeg,
    create_source,
    load_calibration,
    to_encoding,
)
from physical_ai.core.errors import PhysicalAIError
from physical_ai.core.image import array_to_image
from physical_ai.nodes.common import Diagnostics, declare_params, node_main, sensor_qos
from physical_ai.params.camera import PARAMS

WARN_PERIOD = 5.0  # seconds between repeated warnings from the capture and publish threads


class CameraNode(Node):
    """Captures from the configured source and publishes image, camera_info and diagnostics."""

    def __init__(self, node_name: str = 'camera', **kwargs: Any) -> None:
        # Everything destroy_node touches exists before anything can raise (a bad start-up parameter).
        self.failed = False
        self._capture: Capture | None = None
        self._worker: threading.Thread | None = None
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._published = 0
        self._publish_errors = 0
        self._infos: dict[tuple[int, int], CameraInfo] = {}
        self._window = (time.monotonic(), 0, 0)  # (start, published, captured) of the rate window
        super().__init__(node_name, **kwargs)
        try:
            self._setup()
        except PhysicalAIError:
            self._stop()
            super().destroy_node()
            raise

    def _setup(self) -> None:
        v = self._values = declare_params(self, PARAMS, apply=self._apply)
        options = SourceOptions(width=v['width'], height=v['height'], fps=v['fps'],
                                pixel_format=v['pixel_format'], loop=v['loop'], timeout=v['timeout'])
        source = create_source(v['source'], options)
        self._calibration: Calibration | None = None
        if v['camera_info_url']:
            self._calibration = load_calibration(v['camera_info_url'])
        # OpenCV would print a warning line on every failed reopen; the node reports faults itself.
        cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)

        overrides = QoSOverridingOptions.with_default_policies()
        self._pub_image = self.create_publisher(Image, 'camera/image_raw', sensor_qos(),
                                                qos_overriding_options=overrides)
        self._pub_info = self.create_publisher(CameraInfo, 'camera/camera_info', sensor_qos(),
                                               qos_overriding_options=overrides)
        self._pub_compressed = None
        if v['publish_compressed']:
            self._pub_compressed = self.create_publisher(
                CompressedImage, 'camera/image_raw/compressed', sensor_qos(),
                qos_overriding_options=overrides)

        log = self.get_logger()
        cal = self._calibration
        if cal is None:
            log.info('camera is uncalibrated (camera_info_url is empty): camera_info carries the frame '
                     'size only')
        else:
            log.info(f'calibration {cal.camera_name or "(unnamed)"} from {cal.source}: '
                     f'{cal.width}x{cal.height}, {cal.distortion_model}')
        log.info(f'publishing {source.description} on camera/image_raw at up to {v["fps"]:g} Hz '
                 f'({v["encoding"]}, frame {v["frame_id"]})')

        self._source = source
        self._diagnostics = Diagnostics(self, 'capture', self._fill_diagnostics,
                                        hardware_id=source.description)
        self._capture = Capture(source, stamp=self.get_clock().now, on_event=self._on_capture_event)
        self._capture.start(name=f'{self.get_name()}_capture')
        self._worker = threading.Thread(target=self._publish_loop, name=f'{self.get_name()}_publish',
                                        daemon=True)
        self._worker.start()

    # Shutdown ------------------------------------------------------------------------------------

    def _stop(self) -> None:
        self._stopping.set()
        if self._capture is not None:
            self._capture.stop()
        worker, self._worker = self._worker, None
        if worker is not None and worker is not threading.current_thread():
            worker.join(timeout=5.0)

    def shutdown(self) -> None:
        """Stop capturing and publishing (called by spin_nodes before the node is destroyed)."""
        self._stop()

    def destroy_node(self) -> None:
        """Stop the threads, then destroy the node."""
        self._stop()
        super().destroy_node()

    # Parameters ----------------------------------------------------------------------------------

    def _apply(self, changed: dict[str, Any]) -> None:
        self._values.update(changed)
        if 'fps' in changed:
            self._source.set_fps(changed['fps'])
        if 'loop' in changed:
            self._source.loop = changed['loop']

    def counters(self) -> dict[str, int]:
        """Return frames captured, published and dropped, reconnects and failures so far."""
        stats = self._capture.stats() if self._capture is not None else None
        with self._lock:
            published = self._published
        return {'captured': stats.captured if stats else 0, 'published': published,
                'dropped': stats.dropped if stats else 0, 'reconnects': stats.reconnects if stats else 0,
                'failures': stats.failures if stats else 0}

    # Capture thread events -----------------------------------------------------------------------

    def _on_capture_event(self, kind: str, text: str) -> None:
        log = self.get_logger()
        if kind == 'opened':
            log.info(f'opened {text}')
            mismatch = getattr(self._source, 'mismatch', lambda: '')()
            if mismatch:
                log.warning(f'the device granted {mismatch}')
        elif kind == 'fault':
            log.warning(f'source fault: {text}', throttle_duration_sec=WARN_PERIOD)
        elif kind == 'recovered':
            log.info(f'source back: {text}')
        elif kind == 'ended':
            log.warning(f'{text}; no more frames')

    # Publishing ----------------------------------------------------------------------------------

    def _publish_loop(self) -> None:
        capture = self._capture
        limiter = RateLimiter()
        while not self._stopping.is_set():
            wait = limiter.wait_time(time.monotonic())
            if wait > 0:
                self._stopping.wait(wait)
                continue
            frame = capture.take(timeout=0.25)
            if frame is None:
                continue
            limiter.mark(time.monotonic(), 1.0 / self._values['fps'])
            try:
                self._publish(frame)
            except Exception as err:  # the publish thread must outlive any one frame
                if self._stopping.is_set():
                    return
                with self._lock:
                    self._publish_errors += 1
                self.get_logger().error(f'publishing a frame failed: {type(err).__name__}: {err}',
                                        throttle_duration_sec=WARN_PERIOD)

    def _publish(self, frame: Frame) -> None:
        v = self._values
        encoding = v['encoding']
        pixels = to_encoding(frame.image, encoding)
        stamp = frame.stamp
        age_ns = int(frame.age * 1e9)
        if 0 < age_ns < stamp.nanoseconds:
            stamp = stamp - Duration(nanoseconds=age_ns)
        header = Header(stamp=stamp.to_msg(), frame_id=v['frame_id'])
        image = array_to_image(pixels, encoding)
        image.header = header
        info = self._camera_info(image.width, image.height)
        info.header = header
        self._pub_image.publish(image)
        self._pub_info.publish(info)
        compressed = self._pub_compressed
        if compressed is not None and compressed.get_subscription_count() > 0:
            msg = compress_jpeg(pixels, encoding, v['jpeg_quality'])
            msg.header = header
            compressed.publish(msg)
        with self._lock:
            self._published += 1

    def _camera_info(self, width: int, height: int) -> CameraInfo:
        info = self._infos.get((width, height))
        if info is None:
            cal = self._calibration
            if cal is not None and (width, height) != (cal.width, cal.height):
                sx, sy = width / cal.width, height / cal.height
                note = '' if abs(sx - sy) < 0.01 * max(sx, sy) else \
                    '; the aspect ratio differs too: a cropped mode needs a calibration of its own'
                self.get_logger().warning(
                    f'frame size {width}x{height} differs from the calibration\'s {cal.width}x{cal.height}: '
                    f'intrinsics scaled by {sx:.4g} x {sy:.4g}{note}')
            info = self._infos[(width, height)] = camera_info(cal, width, height)
        return info

    # Diagnostics ---------------------------------------------------------------------------------

    def _fill_diagnostics(self) -> tuple[str, str, dict[str, Any]]:
        capture = self._capture
        stats = capture.stats()
        now = time.monotonic()
        with self._lock:
            published, publish_errors = self._published, self._publish_errors
        start, published_before, captured_before = self._window
        elapsed = max(now - start, 1e-6)
        self._window = (now, published, stats.captured)
        rate = (published - published_before) / elapsed
        v = self._values
        size = f'{stats.frame_size[0]}x{stats.frame_size[1]}' if stats.frame_size else 'unknown'
        cal = self._calibration
        if cal is None:
            calibration = 'none (uncalibrated)'
        elif stats.frame_size and stats.frame_size != (cal.width, cal.height):
            calibration = f'{cal.source} (scaled from {cal.width}x{cal.height})'
        else:
            calibration = cal.source
        values: dict[str, Any] = {
            'source': self._source.description,
            'state': stats.state,
            'publish_rate_hz': rate,
            'capture_rate_hz': (stats.captured - captured_before) / elapsed,
            'fps_cap': v['fps'],
            'frames_captured': stats.captured,
            'frames_published': published,
            'frames_dropped': stats.dropped,
            'reconnects': stats.reconnects,
            'failures': stats.failures,
            'publish_errors': publish_errors,
            'last_error': stats.last_error,
            'last_error_age_s': now - stats.last_error_time if stats.last_error_time is not None else '',
            'resolution': size,
            'encoding': v['encoding'],
            'frame_id': v['frame_id'],
            'calibration': calibration,
        }
        if stats.state == 'reconnecting':
            retry = max(0.0, (stats.retry_at or now) - now)
            down = now - (stats.down_since or now)
            message = f'source unavailable for {down:.1f} s, retry in {retry:.1f} s: {stats.last_error}'
            return 'error', message, values
        if stats.state == 'ended':
            return 'warn', 'end of the source (loop is false): no more frames', values
        if stats.state != 'streaming':
            return 'warn', f'{stats.state} {self._source.description}', values
        expected = self._expected_rate()
        if expected and rate < 0.5 * expected:
            return 'warn', f'publishing {rate:.1f} Hz, expected about {expected:.1f} Hz', values
        return 'ok', f'{rate:.1f} Hz {size} {v["encoding"]}', values

    def _expected_rate(self) -> float | None:
        source_rate = self._source.rate
        if source_rate is None:
            granted = getattr(self._source, 'granted', None)
            source_rate = granted[3] if granted and granted[3] > 0 else None
        if source_rate is None:
            return None
        return min(source_rate, self._values['fps'])


main = node_main(CameraNode)

if __name__ == '__main__':
    raise SystemExit(main())
