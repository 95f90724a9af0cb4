"""Per-object depth from an aligned depth image, and the object's centre and size in the camera frame.

A detector's box holds the object and whatever lies around it: the floor below, the wall behind,
the sky, sometimes something in front. The object's surface is taken as the nearest cluster of
depths that holds a fair share of the box's valid pixels (`surface_depth`): depths are sorted and
cut where consecutive values jump by more than `gap` (plus a fraction of the depth), and the
nearest cluster with at least `min_fraction` of the pixels wins; its `near_percentile` is the front
surface. A plain median of the box reads the background whenever it fills more than half of it.

The centre lies behind the front surface by half the object's extent along the ray: the class's
depth when one is given (`class_depths`, e.g. a person's torso), else the box's smaller side
back-projected, which is exact for balls and cylinders; a box seen square-on reads its front face
nearer than its centre by half its length. Depths are z along the optical axis (REP 118).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
import math

import numpy as np

from physical_ai.core.errors import ConfigError, ImageError
from physical_ai.core.planning.geometry import Intrinsics, split_class_value

ENCODINGS = ('32FC1', '16UC1')
# At most this many pixels of a box are looked at (a regular subsample of larger boxes).
MAX_SAMPLES = 20000


@dataclass(frozen=True)
class Camera(Intrinsics):
    """The planner's pinhole intrinsics of the depth image (CameraInfo.k, size), with its frame."""

    frame_id: str = ''

    @classmethod
    def from_k(cls, k: Iterable[float], width: int, height: int, frame_id: str = '') -> Camera:
        """Return the camera of a row-major 3x3 matrix; raise ConfigError when it is unusable."""
        try:
            base = Intrinsics.from_k(k, width, height)
        except ValueError as err:
            raise ConfigError(str(err)) from err
        camera = cls(base.fx, base.fy, base.cx, base.cy, base.width, base.height, frame_id)
        problem = camera.problem()
        if problem:
            raise ConfigError(f'camera_info unusable: {problem}')
        return camera

    def ray(self, u: float, v: float) -> tuple[float, float, float]:
        """Return the ray through pixel (u, v) with z = 1 (optical frame)."""
        return (u - self.cx) / self.fx, (v - self.cy) / self.fy, 1.0

    def project(self, x: float, y: float, z: float) -> tuple[float, float]:
        """Return the pixel of a point in the optical frame (z > 0)."""
        return self.cx + self.fx * x / z, self.cy + self.fy * y / z


@dataclass(frozen=True)
class DepthSettings:
    """How an object's depth is read from its box (see the module docstring)."""

    min_range: float = 0.1
    max_range: float = 20.0
    gap: float = 0.15
    gap_fraction: float = 0.03
    min_fraction: float = 0.15
    near_percentile: float = 5.0
    min_pixels: int = 10
    class_depths: Mapping[str, float] | None = None

    def __post_init__(self) -> None:
        """Reject settings that cannot work together."""
        if not 0.0 <= self.min_range < self.max_range:
            raise ConfigError(f'depth range [{self.min_range}, {self.max_range}] m is empty')
        if not 0.0 <= self.near_percentile <= 50.0:
            raise ConfigError(f'near_percentile {self.near_percentile} is out of range [0, 50]')
        if not 0.0 < self.min_fraction <= 1.0:
            raise ConfigError(f'min_fraction {self.min_fraction} is out of range (0, 1]')


@dataclass(frozen=True)
class Object3D:
    """An object in the camera frame: centre (m), size (width, height, depth extent; m), front depth."""

    centre: tuple[float, float, float]
    size: tuple[float, float, float]
    surface: float
    pixels: int


def to_metres(pixels: np.ndarray, encoding: str) -> np.ndarray:
    """Return a depth image in metres (float32, NaN where invalid) from 32FC1 m or 16UC1 mm pixels.

    16UC1: 0 means no reading (REP 118); 32FC1: NaN, +-Inf and values <= 0 mean none.
    """
    if encoding == '16UC1':
        metres = pixels.astype(np.float32) * np.float32(0.001)
        metres[pixels == 0] = np.nan
        return metres
    if encoding == '32FC1':
        metres = np.array(pixels, dtype=np.float32)
        metres[~np.isfinite(metres) | (metres <= 0.0)] = np.nan
        return metres
    raise ImageError(f'depth encoding {encoding!r} is not supported; accepted: {", ".join(ENCODINGS)} '
                     '(REP 118)')


def box_region(depth: np.ndarray, cx: float, cy: float, width: float, height: float) -> np.ndarray:
    """Return the depths of a box (centre and size, pixels) clipped to the image, subsampled."""
    rows, cols = depth.shape[:2]
    x1, x2 = max(0, int(math.floor(cx - width / 2.0))), min(cols, int(math.ceil(cx + width / 2.0)))
    y1, y2 = max(0, int(math.floor(cy - height / 2.0))), min(rows, int(math.ceil(cy + height / 2.0)))
    if x2 <= x1 or y2 <= y1:
        return np.empty(0, dtype=np.float32)
    step = max(1, int(math.ceil(math.sqrt((x2 - x1) * (y2 - y1) / MAX_SAMPLES))))
    return depth[y1:y2:step, x1:x2:step].ravel()


def surface_depth(values: np.ndarray, settings: DepthSettings) -> tuple[float, int] | None:
    """Return the object's front-surface depth (m) and its cluster's pixel count, or None.

    None when fewer than `min_pixels` valid depths lie within [min_range, max_range].
    """
    values = values[np.isfinite(values)]
    values = np.sort(values[(values >= settings.min_range) & (values <= settings.max_range)])
    if values.size < settings.min_pixels:
        return None
    jumps = np.diff(values) > settings.gap + settings.gap_fraction * values[1:]
    starts = np.concatenate(([0], np.flatnonzero(jumps) + 1))
    ends = np.concatenate((starts[1:], [values.size]))
    needed = max(settings.min_pixels, settings.min_fraction * values.size)
    for start, end in zip(starts, ends, strict=True):
        if end - start >= needed:
            cluster = values[start:end]
            return float(np.percentile(cluster, settings.near_percentile)), int(end - start)
    start, end = max(zip(starts, ends, strict=True), key=lambda se: se[1] - se[0])
    return float(np.percentile(values[start:end], settings.near_percentile)), int(end - start)


def locate(region: np.ndarray, camera: Camera, class_name: str, cx: float, cy: float, width: float,
           height: float, settings: DepthSettings) -> Object3D | None:
    """Return the object of a box in the camera frame, or None without depth.

    `region`: the box's depths in metres (`box_region` of a `to_metres` image, or `to_metres` of
    a `box_region`); the box: centre and size in pixels of the depth image.
    """
    found = surface_depth(region, settings)
    if found is None:
        return None
    front, pixels = found
    # Box size at the front surface: the silhouette of a round object lies about there.
    width_m, height_m = width / camera.fx * front, height / camera.fy * front
    known = (settings.class_depths or {}).get(class_name)
    extent = known if known is not None else min(width_m, height_m)
    rx, ry, rz = camera.ray(cx, cy)
    norm = math.sqrt(rx * rx + ry * ry + 1.0)
    z = front + extent / 2.0 / norm  # half the extent further along the ray
    return Object3D((rx * z, ry * z, rz * z), (width / camera.fx * z, height / camera.fy * z, extent),
                    front, pixels)


def parse_class_depths(entries: Iterable[str], name: str = 'class_depths') -> dict[str, float]:
    """Parse 'class:depth' strings (m, >= 0) into a dict; a ConfigError names a bad entry."""
    depths: dict[str, float] = {}
    for entry in entries:
        if not str(entry).strip():
            continue
        class_name, extent = split_class_value(entry)
        if not class_name or not math.isfinite(extent) or extent < 0.0:
            raise ConfigError(f'parameter {name}: entry {entry!r} is not accepted '
                              '(expected "class:depth" in metres >= 0, e.g. "person:0.3")')
        depths[class_name] = extent
    return depths
