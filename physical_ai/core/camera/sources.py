"""Camera sources: V4L2 devices, video files, image folders, streams and a synthetic test pattern.

`parse_source(text, options)` turns the node's `source` parameter into a Source; a value that is
none of the accepted forms raises ConfigError naming it. Every Source delivers uint8 BGR frames
(h, w, 3) from `read()`; `open()` and `read()` raise SourceError when the source is unavailable now
(unplugged, dropped, moved away), which the capture thread answers by retrying with backoff.
`rate` is the pace at which the capture thread should read (Hz), or None for sources that pace
themselves (devices, streams).
"""

from __future__ import annotations

from dataclasses import dataclass
import glob
import math
import os
from pathlib import Path
import re
import stat
import time
from urllib.parse import urlsplit, urlunsplit

import cv2
import numpy as np

from physical_ai.core.errors import ConfigError, PhysicalAIError

IMAGE_EXTENSIONS = ('.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff', '.webp', '.pgm', '.ppm', '.pnm',
                    '.jp2')
STREAM_SCHEMES = ('rtsp', 'rtsps', 'rtmp', 'http', 'https', 'udp', 'tcp', 'srt')
PIXEL_FORMATS = ('MJPG', 'YUYV', 'driver')
TEST_PATTERN = 'test_pattern'
DEFAULT_SIZE = (640, 480)
MAX_FILE_RATE = 1000.0  # a video file claiming more frames per second than this has bad metadata

ACCEPTED_FORMS = (
    "accepted: 'test_pattern'; a V4L2 device index ('0') or path ('/dev/video0', '/dev/v4l/by-id/...'); "
    "an existing video file; a directory, image file or glob of images ('/data/*.png'); "
    f"a stream URL ({', '.join(s + '://' for s in STREAM_SCHEMES)}); a GStreamer pipeline ending in "
    "appsink; 'file://' before any path")


class SourceError(PhysicalAIError):
    """The source cannot deliver a frame now (unplugged, dropped, unreadable); the capture retries."""


class SourceEndedError(PhysicalAIError):
    """A video file or image list without `loop` has delivered every frame."""


@dataclass
class SourceOptions:
    """What the node asks of a source (parameters of the same names)."""

    width: int = 0
    height: int = 0
    fps: float = 30.0
    pixel_format: str = 'MJPG'
    loop: bool = True
    timeout: float = 5.0


class Source:
    """Base of every source: open, read BGR frames, close. Not thread-safe: one capture thread uses it."""

    kind = 'source'

    def __init__(self, options: SourceOptions) -> None:
        self.options = options
        self.loop = options.loop
        self.rate: float | None = None
        self.age = 0.0  # seconds between the exposure of the last frame and its read(), when known

    @property
    def description(self) -> str:
        """Return a one-line description for logs and diagnostics."""
        return self.kind

    def check(self) -> None:
        """Validate the source at start-up; raise ConfigError naming what is wrong."""

    def open(self) -> str:
        """Open the source; return a line describing what was opened; raise SourceError if unavailable."""
        return self.description

    def read(self) -> np.ndarray:
        """Return the next frame (uint8 BGR, (h, w, 3)); raise SourceError or SourceEndedError."""
        raise NotImplementedError

    def close(self) -> None:
        """Release the source; open() may be called again afterwards."""

    def set_fps(self, fps: float) -> None:
        """Apply a new `fps` parameter at run time (sources paced by it change their rate)."""
        self.options.fps = fps


def as_bgr(image: np.ndarray) -> np.ndarray:
    """Return `image` as uint8 BGR (h, w, 3): gray and BGRA frames are converted."""
    if image.dtype != np.uint8:
        raise SourceError(f'source delivered {image.dtype} pixels; expected uint8')
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    if image.ndim == 3 and image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    if image.ndim == 3 and image.shape[2] == 3:
        return image
    raise SourceError(f'source delivered a frame of shape {image.shape}; expected (h, w, 3)')


# Test pattern ------------------------------------------------------------------------------------


class PatternSource(Source):
    """A moving synthetic scene (a ball, a sweeping bar, a frame counter) so the node runs anywhere."""

    kind = TEST_PATTERN

    def __init__(self, options: SourceOptions) -> None:
        super().__init__(options)
        self.width = options.width or DEFAULT_SIZE[0]
        self.height = options.height or DEFAULT_SIZE[1]
        self.rate = options.fps
        self._background: np.ndarray | None = None
        self._count = 0

    @property
    def description(self) -> str:
        """Return e.g. 'test pattern 640x480'."""
        return f'test pattern {self.width}x{self.height}'

    def set_fps(self, fps: float) -> None:
        """Generate frames at the new rate."""
        super().set_fps(fps)
        self.rate = fps

    def open(self) -> str:
        """Draw the static background once."""
        w, h = self.width, self.height
        ramp = np.linspace(40, 160, h, dtype=np.float32)[:, None]
        background = np.empty((h, w, 3), np.uint8)
        background[..., 0] = (ramp + np.linspace(0, 60, w, dtype=np.float32)[None, :]).astype(np.uint8)
        background[..., 1] = ramp.astype(np.uint8)
        background[..., 2] = 60
        step = max(8, min(w, h) // 8)
        background[::step, :] = 200
        background[:, ::step] = 200
        self._background = background
        return self.description

    def read(self) -> np.ndarray:
        """Return the next frame: a copy of the background with the moving parts drawn on it."""
        if self._background is None:
            raise SourceError('test pattern read before open')
        frame = self._background.copy()
        w, h = self.width, self.height
        n = self._count
        self._count += 1
        phase = n / max(self.rate or 30.0, 1e-3)  # seconds of pattern time
        radius = max(2, min(w, h) // 10)
        cx = int(radius + (w - 2 * radius) * (0.5 + 0.5 * math.sin(phase * 1.3)))
        cy = int(radius + (h - 2 * radius) * (0.5 + 0.5 * math.sin(phase * 0.7 + 1.0)))
        cv2.circle(frame, (cx, cy), radius, (0, 140, 255), -1, cv2.LINE_AA)
        bar = int((phase * 0.25 % 1.0) * w)
        frame[:, bar:bar + max(2, w // 80)] = (255, 255, 255)
        scale = max(0.4, h / 480)
        cv2.putText(frame, f'physical_ai {n}', (max(4, w // 40), max(16, int(30 * scale))),
                    cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), max(1, int(2 * scale)), cv2.LINE_AA)
        return frame

    def close(self) -> None:
        """Forget the background."""
        self._background = None


# Image files -------------------------------------------------------------------------------------


def _natural_key(path: Path) -> list[object]:
    return [int(part) if part.isdigit() else part for part in re.split(r'(\d+)', str(path))]


class ImageSource(Source):
    """Images from a directory, a glob or one file, in natural sort order, looped, paced at `fps`."""

    kind = 'images'

    def __init__(self, text: str, target: str, mode: str, options: SourceOptions) -> None:
        super().__init__(options)
        self.text = text
        self.target = target  # directory, glob pattern or file
        self.mode = mode  # 'dir', 'glob' or 'file'
        self.rate = options.fps
        self._files: list[Path] = []
        self._index = 0

    @property
    def description(self) -> str:
        """Return e.g. 'images in /data (loop)'."""
        where = {'dir': 'images in', 'glob': 'images matching', 'file': 'image'}[self.mode]
        return f'{where} {self.target}{" (loop)" if self.loop else ""}'

    def set_fps(self, fps: float) -> None:
        """Show images at the new rate."""
        super().set_fps(fps)
        self.rate = fps

    def list_files(self) -> list[Path]:
        """Return the image files the source currently names, in natural sort order."""
        if self.mode == 'file':
            path = Path(self.target)
            return [path] if path.is_file() else []
        if self.mode == 'dir':
            try:
                entries = list(Path(self.target).iterdir())
            except OSError:
                return []
        else:
            entries = [Path(p) for p in glob.glob(self.target, recursive=True)]
        files = [p for p in entries if p.suffix.lower() in IMAGE_EXTENSIONS and p.is_file()]
        return sorted(files, key=_natural_key)

    def check(self) -> None:
        """Require at least one image file."""
        if not self.list_files():
            raise ConfigError(f'source {self.text!r}: no image files ({", ".join(IMAGE_EXTENSIONS)}) '
                              f'found; {ACCEPTED_FORMS}')

    def open(self) -> str:
        """List the images; raise SourceError when there are none (folder moved away, emptied)."""
        self._files = self.list_files()
        self._index = 0
        if not self._files:
            raise SourceError(f'no image files found at {self.target}')
        return f'{self.description}: {len(self._files)} file(s)'

    def read(self) -> np.ndarray:
        """Decode the next image; at the end of the list, list again (loop) or raise SourceEndedError."""
        if self._index >= len(self._files):
            if not self.loop:
                raise SourceEndedError(f'every image of {self.target} was shown (loop is false)')
            self._files = self.list_files()
            self._index = 0
            if not self._files:
                raise SourceError(f'no image files found at {self.target}')
        path = self._files[self._index]
        self._index += 1
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is None:
            raise SourceError(f'cannot read image {path}')
        return image

    def close(self) -> None:
        """Forget the listing."""
        self._files = []
        self._index = 0


# Video files -------------------------------------------------------------------------------------


class VideoFileSource(Source):
    """A video file OpenCV reads, played in real time at its own frame rate (or `fps` if it has none).

    At the end the file is opened again (so a file replaced or moved away is noticed), or with
    `loop` false the source ends.
    """

    kind = 'video'

    def __init__(self, text: str, path: str, options: SourceOptions) -> None:
        super().__init__(options)
        self.text = text
        self.path = path
        self._cap: cv2.VideoCapture | None = None
        self.file_rate: float | None = None
        self.rate = options.fps

    @property
    def description(self) -> str:
        """Return e.g. 'video file /data/run.mp4 (30 Hz, loop)'."""
        rate = f'{self.file_rate:g} Hz' if self.file_rate else f'{self.options.fps:g} Hz (fps)'
        return f'video file {self.path} ({rate}{", loop" if self.loop else ""})'

    def set_fps(self, fps: float) -> None:
        """Only a file without a frame rate of its own plays at `fps`."""
        super().set_fps(fps)
        if not self.file_rate:
            self.rate = fps

    def _capture(self) -> cv2.VideoCapture:
        cap = cv2.VideoCapture(self.path)
        if not cap.isOpened():
            cap.release()
            raise SourceError(f'cannot open video file {self.path}')
        rate = cap.get(cv2.CAP_PROP_FPS)
        self.file_rate = float(rate) if 0 < rate <= MAX_FILE_RATE else None
        self.rate = self.file_rate or self.options.fps
        return cap

    def check(self) -> None:
        """Require that OpenCV opens the file and decodes a frame from it."""
        try:
            cap = self._capture()
        except SourceError:
            raise ConfigError(f'source {self.text!r}: OpenCV cannot open this file as a video; '
                              f'{ACCEPTED_FORMS}') from None
        try:
            ok, _ = cap.read()
        finally:
            cap.release()
        if not ok:
            raise ConfigError(f'source {self.text!r}: OpenCV opens this file but decodes no frame from it')

    def open(self) -> str:
        """Open the file; raise SourceError if it is gone or unreadable."""
        self.close()
        self._cap = self._capture()
        width = int(self._cap.get(cv2.CAP_PROP_FRAME_WIDTH))
        height = int(self._cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
        return f'{self.description}, {width}x{height}'

    def read(self) -> np.ndarray:
        """Return the next frame; at the end, open the file again (loop) or raise SourceEndedError."""
        if self._cap is None:
            raise SourceError(f'video file {self.path} is not open')
        ok, frame = self._cap.read()
        if ok:
            return frame
        if not self.loop:
            raise SourceEndedError(f'end of video file {self.path} (loop is false)')
        self.open()
        ok, frame = self._cap.read()
        if not ok:
            raise SourceError(f'no frame could be read from video file {self.path}')
        return frame

    def close(self) -> None:
        """Release the file."""
        if self._cap is not None:
            self._cap.release()
            self._cap = None


# V4L2 devices ------------------------------------------------------------------------------------


def _fourcc_text(value: float) -> str:
    code = int(value)
    text = ''.join(chr((code >> (8 * i)) & 0xFF) for i in range(4))
    return text if text.isprintable() and text.strip() else f'0x{code:08x}'


def describe_mismatch(options: SourceOptions, fourcc: str, width: int, height: int, fps: float) -> str:
    """Return how a device's granted format differs from the requested one ('' when it does not)."""
    wrong = []
    if options.pixel_format != 'driver' and fourcc != options.pixel_format:
        wrong.append(f'format {fourcc} instead of {options.pixel_format}')
    if options.width and width != options.width or options.height and height != options.height:
        wrong.append(f'size {width}x{height} instead of {options.width or width}x{options.height or height}')
    if fps > 0 and abs(fps - options.fps) > 0.5:
        wrong.append(f'{fps:g} Hz instead of {options.fps:g} Hz')
    return ', '.join(wrong)


class DeviceSource(Source):
    """A V4L2 (USB) camera by index or path; size, rate and pixel format are requested from the device.

    A path that is absent (camera unplugged, or not yet enumerated at boot) is retried, not refused.
    """

    kind = 'device'

    def __init__(self, text: str, target: int | str, options: SourceOptions) -> None:
        super().__init__(options)
        self.text = text
        self.target = target
        self._cap: cv2.VideoCapture | None = None
        self.granted: tuple[str, int, int, float] | None = None  # (fourcc, width, height, fps)

    @property
    def path(self) -> str:
        """Return the device path (/dev/videoN for an index)."""
        return f'/dev/video{self.target}' if isinstance(self.target, int) else self.target

    def requested(self) -> str:
        """Return what is asked of the device, e.g. 'MJPG 1280x720 @ 30 Hz'."""
        o = self.options
        size = f'{o.width}x{o.height}' if o.width and o.height else 'default size'
        fmt = 'driver format' if o.pixel_format == 'driver' else o.pixel_format
        return f'{fmt} {size} @ {o.fps:g} Hz'

    @property
    def description(self) -> str:
        """Return e.g. 'V4L2 device /dev/video0 (MJPG 1280x720 @ 30 Hz requested)'."""
        got = ''
        if self.granted:
            fourcc, width, height, fps = self.granted
            got = f', got {fourcc} {width}x{height} @ {fps:g} Hz'
        return f'V4L2 device {self.path} ({self.requested()} requested{got})'

    def check(self) -> None:
        """Refuse a path that exists but is no character device (a missing one may be plugged later)."""
        if isinstance(self.target, int):
            return
        try:
            mode = os.stat(self.target).st_mode
        except FileNotFoundError:
            return
        except OSError as err:
            raise ConfigError(f'source {self.text!r}: {err.strerror}; {ACCEPTED_FORMS}') from None
        if not stat.S_ISCHR(mode):
            raise ConfigError(f'source {self.text!r} is under /dev but is not a video device; '
                              f'{ACCEPTED_FORMS}')

    def open(self) -> str:
        """Open the device and request format, size and rate; return what the device granted."""
        self.close()
        if not os.path.exists(self.path):
            raise SourceError(f'{self.path} does not exist (camera unplugged?)')
        o = self.options
        # OpenCV's V4L2 backend takes no open parameters (passing timeouts makes open() fail) and no
        # read timeout property; it waits this many seconds per select(), read once per process.
        os.environ.setdefault('OPENCV_VIDEOIO_V4L_SELECT_TIMEOUT', str(max(1, round(o.timeout))))
        cap = cv2.VideoCapture(self.target, cv2.CAP_V4L2)
        if not cap.isOpened():
            cap.release()
            raise SourceError(f'cannot open V4L2 device {self.path} (busy, unplugged or no permission)')
        # V4L2 takes the format before the size, and the size before the rate.
        if o.pixel_format != 'driver':
            cap.set(cv2.CAP_PROP_FOURCC, cv2.VideoWriter_fourcc(*o.pixel_format))
        if o.width:
            cap.set(cv2.CAP_PROP_FRAME_WIDTH, o.width)
        if o.height:
            cap.set(cv2.CAP_PROP_FRAME_HEIGHT, o.height)
        cap.set(cv2.CAP_PROP_FPS, o.fps)
        self.granted = (_fourcc_text(cap.get(cv2.CAP_PROP_FOURCC)), int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)),
                        int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)), float(cap.get(cv2.CAP_PROP_FPS)))
        self._cap = cap
        return self.description

    def mismatch(self) -> str:
        """Return how the granted format differs from the requested one ('' when it does not)."""
        if self.granted is None:
            return ''
        return describe_mismatch(self.options, *self.granted)

    def read(self) -> np.ndarray:
        """Return the next frame; raise SourceError when the device delivers none (unplugged)."""
        if self._cap is None:
            raise SourceError(f'V4L2 device {self.path} is not open')
        ok, frame = self._cap.read()
        if not ok or frame is None:
            raise SourceError(f'V4L2 device {self.path} delivered no frame (unplugged?)')
        # The driver's buffer timestamp is CLOCK_MONOTONIC on current kernels: use it when plausible.
        timestamp_ms = self._cap.get(cv2.CAP_PROP_POS_MSEC)
        age = time.monotonic() - timestamp_ms / 1000.0
        self.age = age if 0.0 <= age < 1.0 else 0.0
        return frame

    def close(self) -> None:
        """Release the device."""
        if self._cap is not None:
            self._cap.release()
            self._cap = None


# Streams -----------------------------------------------------------------------------------------


def redact_url(url: str) -> str:
    """Return `url` with any password replaced by '***' (for logs and diagnostics)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ''
    if parts.port is not None:
        host = f'{host}:{parts.port}'
    return urlunsplit(parts._replace(netloc=f'{parts.username}:***@{host}'))


def gstreamer_available() -> bool:
    """Return whether this OpenCV build has the GStreamer backend."""
    return bool(cv2.videoio_registry.hasBackend(cv2.CAP_GSTREAMER))


class StreamSource(Source):
    """A network stream (FFmpeg: rtsp, http, ...) or a GStreamer pipeline; a dropped stream is reopened."""

    kind = 'stream'

    def __init__(self, text: str, options: SourceOptions, gstreamer: bool = False) -> None:
        super().__init__(options)
        self.text = text
        self.gstreamer = gstreamer
        self._cap: cv2.VideoCapture | None = None

    @property
    def description(self) -> str:
        """Return e.g. 'stream rtsp://user:***@cam/live' or 'GStreamer pipeline ...'."""
        return f'GStreamer pipeline {self.text}' if self.gstreamer else f'stream {redact_url(self.text)}'

    def check(self) -> None:
        """Refuse a pipeline when OpenCV has no GStreamer, or one that does not end in appsink."""
        if not self.gstreamer:
            return
        if not re.search(r'!\s*appsink\b[^!]*$', self.text):
            raise ConfigError(f'source {self.text!r}: a GStreamer pipeline must end with appsink '
                              f"(e.g. '... ! videoconvert ! appsink')")
        if not gstreamer_available():
            raise ConfigError(f'source {self.text!r} is a GStreamer pipeline, but this OpenCV build has no '
                              'GStreamer backend; use a device, file or stream URL instead')

    def open(self) -> str:
        """Connect; raise SourceError when the stream cannot be opened within `timeout`."""
        self.close()
        if self.gstreamer:
            cap = cv2.VideoCapture(self.text, cv2.CAP_GSTREAMER)
        else:
            ms = int(self.options.timeout * 1000)
            cap = cv2.VideoCapture(self.text, cv2.CAP_FFMPEG,
                                   [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, ms, cv2.CAP_PROP_READ_TIMEOUT_MSEC, ms])
        if not cap.isOpened():
            cap.release()
            raise SourceError(f'cannot open {self.description}')
        self._cap = cap
        return self.description

    def read(self) -> np.ndarray:
        """Return the next frame; raise SourceError when the stream ended or dropped."""
        if self._cap is None:
            raise SourceError(f'{self.description} is not open')
        ok, frame = self._cap.read()
        if not ok or frame is None:
            raise SourceError(f'{self.description} ended or dropped')
        return frame

    def close(self) -> None:
        """Disconnect."""
        if self._cap is not None:
            self._cap.release()
            self._cap = None


# Parsing -----------------------------------------------------------------------------------------


def _bad(text: str, why: str) -> ConfigError:
    return ConfigError(f'source {text!r}: {why}; {ACCEPTED_FORMS}')


def parse_source(text: str, options: SourceOptions | None = None) -> Source:
    """Return the Source named by `text` (the `source` parameter), or raise ConfigError naming it.

    Start-up checks that need the file system (`Source.check`) are left to the caller.
    """
    options = options or SourceOptions()
    if options.pixel_format not in PIXEL_FORMATS:
        raise ConfigError(f'pixel_format {options.pixel_format!r}; accepted: {", ".join(PIXEL_FORMATS)}')
    value = text.strip()
    if not value:
        raise _bad(text, 'empty')
    if value == TEST_PATTERN:
        return PatternSource(options)
    if re.fullmatch(r'[+-]?\d+', value):
        index = int(value)
        if index < 0:
            raise _bad(text, 'a device index must be 0 or more')
        return DeviceSource(text, index, options)
    if '!' in value and not os.path.exists(value):
        return StreamSource(value, options, gstreamer=True)
    scheme = re.match(r'([A-Za-z][A-Za-z0-9+.-]*):', value)
    if scheme and len(scheme.group(1)) > 1:  # one letter would be a Windows drive, never a scheme here
        name = scheme.group(1).lower()
        if name == 'file':
            if not value.startswith('file://'):
                raise _bad(text, "write file:///absolute/path or file://relative/path")
            return _parse_path(text, value[len('file://'):], options)
        if name not in STREAM_SCHEMES:
            raise _bad(text, f'unknown scheme {scheme.group(1)}:')
        parts = urlsplit(value)
        if not value[len(name) + 1:].startswith('//') or not parts.hostname:
            raise _bad(text, f'a stream URL needs a host ({name}://host[:port]/path)')
        try:
            parts.port  # noqa: B018  (raises on a malformed port)
        except ValueError:
            raise _bad(text, 'the port is not a number in 0-65535') from None
        return StreamSource(value, options)
    return _parse_path(text, value, options)


def _parse_path(text: str, value: str, options: SourceOptions) -> Source:
    path = os.path.expanduser(value)
    if not path:
        raise _bad(text, 'no path given')
    if os.path.isdir(path):
        return ImageSource(text, path, 'dir', options)
    if os.path.isfile(path):
        if Path(path).suffix.lower() in IMAGE_EXTENSIONS:
            return ImageSource(text, path, 'file', options)
        return VideoFileSource(text, path, options)
    if glob.has_magic(path):
        return ImageSource(text, path, 'glob', options)
    if os.path.abspath(path).startswith('/dev/'):
        return DeviceSource(text, path, options)
    raise _bad(text, 'no such file, directory or device')


def create_source(text: str, options: SourceOptions | None = None) -> Source:
    """Parse `text` and run the start-up checks; raise ConfigError naming what is wrong."""
    source = parse_source(text, options)
    source.check()
    return source
