"""The simulated camera: its size, field of view and mount, and the pinhole intrinsics it renders with.

MuJoCo renders a pinhole camera with square pixels from a vertical field of view `fovy`:
fy = (height / 2) / tan(fovy / 2) and fx = fy. Pixel coordinates follow the project's box
convention (pixel i covers [i, i + 1), a box of the whole image is [0, width]), in which the
optical axis meets the image at (width / 2, height / 2); so the published CameraInfo and the
rendered image agree exactly. `camera_intrinsics` is what the simulator node, the data generator
and the demo use to describe the camera.
"""

from __future__ import annotations

from dataclasses import dataclass
import math
from typing import Any

from physical_ai.core.errors import ConfigError

# Largest image the offscreen buffer is sized for (width x height).
MAX_WIDTH, MAX_HEIGHT = 1920, 1080
MIN_SIZE = 16
MIN_FOVY, MAX_FOVY = 10.0, 150.0


@dataclass(frozen=True)
class CameraIntrinsics:
    """Pinhole intrinsics (no distortion) of an image of `width` x `height` pixels."""

    width: int
    height: int
    fx: float
    fy: float
    cx: float
    cy: float

    @property
    def k(self) -> list[float]:
        """Return the 3x3 camera matrix, row-major (CameraInfo.k)."""
        return [self.fx, 0.0, self.cx, 0.0, self.fy, self.cy, 0.0, 0.0, 1.0]

    @property
    def p(self) -> list[float]:
        """Return the 3x4 projection matrix of a monocular camera, row-major (CameraInfo.p)."""
        return [self.fx, 0.0, self.cx, 0.0, 0.0, self.fy, self.cy, 0.0, 0.0, 0.0, 1.0, 0.0]

    def project(self, x: float, y: float, z: float) -> tuple[float, float]:
        """Return the pixel (u, v) of a point in the optical frame (x right, y down, z forward)."""
        return self.cx + self.fx * x / z, self.cy + self.fy * y / z


def camera_intrinsics(width: int, height: int, fovy: float) -> CameraIntrinsics:
    """Return the intrinsics of a MuJoCo camera rendering `width` x `height` with `fovy` degrees."""
    fy = (height / 2.0) / math.tan(math.radians(fovy) / 2.0)
    return CameraIntrinsics(int(width), int(height), fy, fy, width / 2.0, height / 2.0)


def fovy_from_focal(fy: float, height: int) -> float:
    """Return the vertical field of view (degrees) of a focal length `fy` (pixels) over `height` rows."""
    if not fy > 0.0:
        raise ConfigError(f'focal length must be > 0 pixels, got {fy}')
    return math.degrees(2.0 * math.atan((height / 2.0) / fy))


@dataclass(frozen=True)
class CameraSpec:
    """Image size, vertical field of view (degrees) and mount on the base (m, rad)."""

    width: int = 640
    height: int = 480
    fovy: float = 60.0
    mount_x: float = 0.17
    mount_z: float = 0.30
    pitch: float = 0.0  # positive looks down, as the planner's camera_pitch
    samples: int = 0  # multisample antialiasing (0 = off; 4 smooths edges at about 3x the render time)

    def __post_init__(self) -> None:
        """Reject sizes the offscreen buffer is not made for and unusable fields of view."""
        if not (MIN_SIZE <= self.width <= MAX_WIDTH and MIN_SIZE <= self.height <= MAX_HEIGHT):
            raise ConfigError(
                f'camera size {self.width}x{self.height} is not supported: the offscreen buffer takes '
                f'{MIN_SIZE}x{MIN_SIZE} up to {MAX_WIDTH}x{MAX_HEIGHT} (width x height)')
        if not MIN_FOVY <= self.fovy <= MAX_FOVY:
            raise ConfigError(f'camera fovy {self.fovy} degrees is out of range [{MIN_FOVY}, {MAX_FOVY}]')
        if self.samples not in (0, 2, 4, 8):
            raise ConfigError(f'camera antialiasing samples {self.samples}: expected 0, 2, 4 or 8')
        if not -1.5 <= self.pitch <= 1.5:
            raise ConfigError(f'camera pitch {self.pitch} rad is out of range [-1.5, 1.5]')

    @classmethod
    def from_params(cls, values: dict[str, Any]) -> CameraSpec:
        """Return the spec of the sim node's camera_* parameters (camera_fx > 0 wins over camera_fovy)."""
        width, height = int(values['camera_width']), int(values['camera_height'])
        fx = float(values.get('camera_fx', 0.0))
        fovy = fovy_from_focal(fx, height) if fx > 0.0 else float(values['camera_fovy'])
        return cls(width, height, fovy, cls.mount_x, float(values.get('camera_mount_height', cls.mount_z)),
                   float(values.get('camera_pitch', 0.0)), int(values.get('camera_antialias', 0)))

    @property
    def intrinsics(self) -> CameraIntrinsics:
        """Return the intrinsics this camera renders with."""
        return camera_intrinsics(self.width, self.height, self.fovy)

    @property
    def hfov(self) -> float:
        """Return the horizontal field of view in radians."""
        return 2.0 * math.atan(self.width / 2.0 / self.intrinsics.fx)


def camera_info_msg(intrinsics: CameraIntrinsics, frame_id: str = 'camera_optical_frame') -> Any:
    """Return a sensor_msgs/CameraInfo (header stamp left at zero) for distortion-free intrinsics."""
    from sensor_msgs.msg import CameraInfo

    msg = CameraInfo()
    msg.header.frame_id = frame_id
    msg.width, msg.height = intrinsics.width, intrinsics.height
    msg.distortion_model = 'plumb_bob'
    msg.d = [0.0] * 5
    msg.k = intrinsics.k
    msg.r = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0]
    msg.p = intrinsics.p
    return msg
