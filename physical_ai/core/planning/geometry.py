"""Bearing and distance of a detection from its pixel box and the camera intrinsics.

Conventions: pixel u grows right and v down; the camera optical frame is REP 103 optical (x right,
y down, z forward); bearings follow REP 103 for the base (positive = target to the left, so a
positive angular z turns toward it). The camera is assumed to look along the base's x axis;
lens distortion is ignored (box centres near the edge of a wide lens get a small bearing error).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
import math

from physical_ai.core.errors import ConfigError

# A box edge this close to the image border is treated as cut off by the border.
CLIP_MARGIN_PX = 2.0
# Rays closer than this to the horizon (radians) give no ground-plane estimate.
MIN_GROUND_ANGLE = 1e-3
# Boxes narrower or lower than this (pixels) carry no usable size: a detector's smallest box is
# about one pixel, and a height of 1e-310 px would put the object 10^300 m away.
MIN_BOX_PX = 1e-2
# Boxes and centres beyond this (pixels) are absurd for any camera and would overflow the maths.
MAX_PIXELS = 1e7


@dataclass(frozen=True)
class Detection:
    """One detected object: class name, score and axis-aligned box (centre and size) in pixels.

    `depth`: the object's horizontal range (m) measured by a 3D stage (depth image, stereo,
    lidar), when one provides it; the planner then uses it instead of the monocular estimate.
    `track_id`: the tracker's persistent id of the object ('' when untracked).
    `position`: the measured centre (m) in the camera optical frame, with `depth`.
    """

    class_name: str
    score: float
    cx: float
    cy: float
    width: float
    height: float
    depth: float | None = None
    track_id: str = ''
    position: tuple[float, float, float] | None = None

    @classmethod
    def from_corners(cls, class_name: str, score: float,
                     x1: float, y1: float, x2: float, y2: float) -> Detection:
        """Return a detection from its top-left and bottom-right corners."""
        return cls(class_name, score, (x1 + x2) / 2.0, (y1 + y2) / 2.0, x2 - x1, y2 - y1)

    @property
    def top(self) -> float:
        """Return the v coordinate of the box's top edge."""
        return self.cy - self.height / 2.0

    @property
    def bottom(self) -> float:
        """Return the v coordinate of the box's bottom edge."""
        return self.cy + self.height / 2.0

    def problem(self, intrinsics: Intrinsics | None = None) -> str | None:
        """Return why this detection cannot be used (NaN/Inf, empty box, off image), or None."""
        if not isinstance(self.class_name, str) or not self.class_name:
            return 'empty class name'
        values = (self.score, self.cx, self.cy, self.width, self.height)
        if not all(isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
                   for v in values):
            return f'non-finite value in score/box {values}'
        if self.width < MIN_BOX_PX or self.height < MIN_BOX_PX:
            return f'empty box ({self.width:g} x {self.height:g} px)'
        if max(abs(self.cx), abs(self.cy), self.width, self.height) > MAX_PIXELS:
            return f'box out of any image ({self.width:g} x {self.height:g} px at {self.cx:g}, {self.cy:g})'
        if self.score < 0.0:
            return f'negative score {self.score}'
        if self.depth is not None and not (isinstance(self.depth, int | float) and math.isfinite(self.depth)
                                           and self.depth >= 0.0):
            return f'depth must be a finite range >= 0 m, got {self.depth!r}'
        if self.position is not None and not (len(self.position) == 3 and all(
                isinstance(v, int | float) and math.isfinite(v) for v in self.position)):
            return f'position must be 3 finite coordinates (m), got {self.position!r}'
        if intrinsics is not None:
            if (self.cx + self.width / 2.0 < 0.0 or self.cx - self.width / 2.0 > intrinsics.width
                    or self.bottom < 0.0 or self.top > intrinsics.height):
                return (f'box centred at ({self.cx:.1f}, {self.cy:.1f}) lies outside the '
                        f'{intrinsics.width}x{intrinsics.height} image')
        return None


@dataclass(frozen=True)
class Intrinsics:
    """Pinhole intrinsics of the image the boxes are expressed in."""

    fx: float
    fy: float
    cx: float
    cy: float
    width: int
    height: int

    @classmethod
    def from_k(cls, k: Iterable[float], width: int, height: int) -> Intrinsics:
        """Return intrinsics from a row-major 3x3 camera matrix (sensor_msgs/CameraInfo.k)."""
        k = [float(v) for v in k]
        if len(k) != 9:
            raise ValueError(f'camera matrix must have 9 values, got {len(k)}')
        return cls(k[0], k[4], k[2], k[5], int(width), int(height))

    def problem(self) -> str | None:
        """Return why these intrinsics cannot be used (uncalibrated, no size), or None."""
        values = (self.fx, self.fy, self.cx, self.cy)
        if not all(math.isfinite(v) for v in values):
            return f'non-finite intrinsics {values}'
        if self.fx <= 0.0 or self.fy <= 0.0:
            return f'focal lengths must be > 0 (fx={self.fx}, fy={self.fy}): camera not calibrated?'
        if self.width <= 0 or self.height <= 0:
            return f'image size must be > 0, got {self.width}x{self.height}'
        return None


@dataclass(frozen=True)
class GroundPlane:
    """Camera mounting for the ground-plane estimate: height above the floor and downward pitch."""

    camera_height: float
    camera_pitch: float = 0.0


@dataclass(frozen=True)
class Estimate:
    """Where a detected object is: ground range, bearing and position in the camera optical frame.

    `clipped`: the box touches the top or bottom image border, so a height-based distance is an
    over-estimate; `fills_frame`: it touches both (the object is at least as tall as the view).
    """

    distance: float
    bearing: float
    position: tuple[float, float, float]
    method: str
    clipped: bool = False
    fills_frame: bool = False


def bearing(u: float, intrinsics: Intrinsics) -> float:
    """Return the bearing (rad, positive left) of pixel column `u`."""
    return math.atan2(intrinsics.cx - u, intrinsics.fx)


def distance_from_height(pixel_height: float, real_height: float, fy: float) -> float:
    """Return the depth (m, along the optical axis) of an object `real_height` tall, `pixel_height` high."""
    return fy * real_height / pixel_height


def from_height(det: Detection, intrinsics: Intrinsics, real_height: float) -> Estimate:
    """Estimate the object's position from its known real height and its box height."""
    z = distance_from_height(det.height, real_height, intrinsics.fy)
    x = (det.cx - intrinsics.cx) / intrinsics.fx * z
    y = (det.cy - intrinsics.cy) / intrinsics.fy * z
    top_cut = det.top <= CLIP_MARGIN_PX
    bottom_cut = det.bottom >= intrinsics.height - CLIP_MARGIN_PX
    return Estimate(math.hypot(x, z), math.atan2(-x, z), (x, y, z), 'height',
                    top_cut or bottom_cut, top_cut and bottom_cut)


def from_ground(det: Detection, intrinsics: Intrinsics, ground: GroundPlane) -> Estimate | None:
    """Estimate the position of the box's bottom centre on a flat floor; None above the horizon."""
    if ground.camera_height <= 0.0 or det.bottom >= intrinsics.height - CLIP_MARGIN_PX:
        return None  # not configured, or the contact point with the floor is out of view
    rx = (det.cx - intrinsics.cx) / intrinsics.fx
    ry = (det.bottom - intrinsics.cy) / intrinsics.fy
    cos_p, sin_p = math.cos(ground.camera_pitch), math.sin(ground.camera_pitch)
    # The ray in a level frame (x right, y down, z forward horizontal): pitch turns z toward y.
    down = ry * cos_p + sin_p
    forward = -ry * sin_p + cos_p
    if down <= math.sin(MIN_GROUND_ANGLE) * math.sqrt(rx * rx + ry * ry + 1.0):
        return None
    t = ground.camera_height / down
    position = (t * rx, t * ry, t)
    return Estimate(t * math.hypot(rx, forward), math.atan2(-rx, forward), position, 'ground')


def horizontal(position: tuple[float, float, float], pitch: float = 0.0) -> tuple[float, float]:
    """Return (horizontal range, bearing) of an optical-frame point seen by a camera pitched `pitch` down."""
    x, y, z = position
    forward = -y * math.sin(pitch) + z * math.cos(pitch)
    return math.hypot(x, forward), math.atan2(-x, forward)


def from_depth(det: Detection, pitch: float = 0.0) -> Estimate | None:
    """Return the estimate of a measured 3D centre (`det.position`, optical frame), or None without one."""
    if det.position is None:
        return None
    distance, direction = horizontal(det.position, pitch)
    return Estimate(det.depth if det.depth is not None else distance, direction, tuple(det.position),
                    'depth')


def estimate(det: Detection, intrinsics: Intrinsics, real_height: float | None,
             ground: GroundPlane | None, method: str = 'height') -> Estimate | None:
    """Return the position estimate by `method` ('height' or 'ground'), the other as fallback.

    The fallback is used when the preferred method has nothing to go on: no known height for the
    class, no ground plane configured, or the box's bottom at or above the horizon or cut off.
    """
    by_height = (lambda: from_height(det, intrinsics, real_height)) if real_height else (lambda: None)
    by_ground = (lambda: from_ground(det, intrinsics, ground)) if ground else (lambda: None)
    first, second = (by_height, by_ground) if method == 'height' else (by_ground, by_height)
    result = usable(first())
    return result if result is not None else usable(second())


def usable(est: Estimate | None) -> Estimate | None:
    """Return the estimate if its distance and bearing are finite numbers (else None)."""
    if est is None or not (math.isfinite(est.distance) and math.isfinite(est.bearing)
                           and all(math.isfinite(v) for v in est.position)):
        return None
    return est


def nearest_estimate(det: Detection, intrinsics: Intrinsics, real_height: float | None,
                     ground: GroundPlane | None) -> Estimate | None:
    """Return the nearer of the height and ground estimates (the safe side for a stop decision).

    A box cut by the top border over-estimates a height-based distance; a person shorter than
    the class height does too. Taking the minimum of both methods never reads farther than the
    better one.
    """
    candidates = []
    if real_height:
        candidates.append(usable(from_height(det, intrinsics, real_height)))
    if ground is not None:
        candidates.append(usable(from_ground(det, intrinsics, ground)))
    candidates = [c for c in candidates if c is not None]
    if not candidates:
        return None
    best = min(candidates, key=lambda c: c.distance)
    if any(c.fills_frame for c in candidates) and not best.fills_frame:
        best = Estimate(best.distance, best.bearing, best.position, best.method, best.clipped, True)
    return best


def split_class_value(entry: str) -> tuple[str, float]:
    """Split a 'class:value' string; the class is '' without a colon, the value NaN when not a number."""
    class_name, sep, value = str(entry).rpartition(':')
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    return (class_name.strip() if sep else ''), number


def parse_class_heights(entries: Iterable[str], name: str = 'class_heights') -> dict[str, float]:
    """Parse 'class:height' strings (metres, > 0) into a dict; a ConfigError names a bad entry."""
    heights: dict[str, float] = {}
    for entry in entries:
        class_name, height = split_class_value(entry)
        if not class_name or not math.isfinite(height) or height <= 0.0:
            raise ConfigError(f'parameter {name}: entry {entry!r} is not accepted '
                              '(expected "class:height" with a height in metres > 0, e.g. "person:1.7")')
        if class_name in heights:
            raise ConfigError(f'parameter {name}: class {class_name!r} is listed twice')
        heights[class_name] = height
    return heights


def format_class_heights(heights: Mapping[str, float]) -> list[str]:
    """Return the 'class:height' strings of a dict (the inverse of parse_class_heights)."""
    return [f'{name}:{height:g}' for name, height in heights.items()]
