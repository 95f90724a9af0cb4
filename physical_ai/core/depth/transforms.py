"""A small TF buffer without tf2: static and timed transforms, looked up through the frame tree.

Fed with the transforms of /tf and /tf_static (geometry_msgs/TransformStamped as plain tuples),
it answers "where is frame `source` in frame `target` at time t". Each child frame has one parent
(as in tf2); timed transforms are kept for `cache_time` seconds per child and interpolated
between the two samples around t (translation linearly, rotation by slerp); a time beyond the
newest sample by more than `tolerance` is not extrapolated. Static transforms hold at any time.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import deque
from dataclasses import dataclass
import math

import numpy as np

from physical_ai.core.errors import PhysicalAIError

MAX_FRAMES = 1000
MAX_SAMPLES = 2000
MAX_DEPTH = 100


class TransformError(PhysicalAIError, LookupError):
    """No transform between two frames at the time asked for (unknown frame, no common root, too old)."""


@dataclass(frozen=True)
class Transform:
    """A rigid transform: the child frame's origin and rotation (x, y, z, w) in the parent frame."""

    translation: tuple[float, float, float]
    rotation: tuple[float, float, float, float]

    def matrix(self) -> np.ndarray:
        """Return the 4x4 homogeneous matrix that maps child coordinates into the parent frame."""
        x, y, z, w = self.rotation
        m = np.eye(4)
        m[:3, :3] = [[1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
                     [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
                     [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)]]
        m[:3, 3] = self.translation
        return m


def quaternion_from_matrix(rotation: np.ndarray) -> tuple[float, float, float, float]:
    """Return the unit quaternion (x, y, z, w) of a 3x3 rotation matrix."""
    m = rotation
    w = math.sqrt(max(0.0, 1.0 + m[0, 0] + m[1, 1] + m[2, 2])) / 2.0
    x = math.copysign(math.sqrt(max(0.0, 1.0 + m[0, 0] - m[1, 1] - m[2, 2])) / 2.0, m[2, 1] - m[1, 2])
    y = math.copysign(math.sqrt(max(0.0, 1.0 - m[0, 0] + m[1, 1] - m[2, 2])) / 2.0, m[0, 2] - m[2, 0])
    z = math.copysign(math.sqrt(max(0.0, 1.0 - m[0, 0] - m[1, 1] + m[2, 2])) / 2.0, m[1, 0] - m[0, 1])
    return _normalised((x, y, z, w))


def _normalised(q: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    norm = math.sqrt(sum(c * c for c in q))
    if not (math.isfinite(norm) and norm > 1e-9):
        raise ValueError(f'rotation {q} is not a usable quaternion')
    return tuple(c / norm for c in q)  # type: ignore[return-value]


def slerp(a: tuple[float, ...], b: tuple[float, ...], t: float) -> tuple[float, float, float, float]:
    """Return the rotation a fraction `t` of the way from quaternion a to b (shortest path)."""
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    if dot < 0.0:
        b, dot = tuple(-c for c in b), -dot
    if dot > 0.9995:
        return _normalised(tuple(x + t * (y - x) for x, y in zip(a, b, strict=True)))
    theta = math.acos(min(1.0, dot))
    sa, sb = math.sin((1.0 - t) * theta), math.sin(t * theta)
    return _normalised(tuple((sa * x + sb * y) / math.sin(theta) for x, y in zip(a, b, strict=True)))


class TransformBuffer:
    """Transforms of a frame tree; see the module docstring."""

    def __init__(self, cache_time: float = 10.0, tolerance: float = 0.1) -> None:
        self.cache_time = cache_time
        self.tolerance = tolerance
        self._static: dict[str, tuple[str, Transform]] = {}
        self._timed: dict[str, tuple[str, deque[tuple[float, Transform]]]] = {}
        self.rejected = 0

    def set_transform(self, parent: str, child: str, stamp: float, translation: tuple[float, float, float],
                      rotation: tuple[float, float, float, float], static: bool = False) -> bool:
        """Add one transform parent -> child; False (and counted) when it is malformed."""
        values = (*translation, *rotation, stamp)
        if not parent or not child or parent == child or not all(math.isfinite(v) for v in values):
            self.rejected += 1
            return False
        try:
            transform = Transform(tuple(float(v) for v in translation), _normalised(tuple(rotation)))
        except ValueError:
            self.rejected += 1
            return False
        parent, child = parent.lstrip('/'), child.lstrip('/')
        if static:
            if child not in self._static and len(self._static) >= MAX_FRAMES:
                self.rejected += 1
                return False
            self._static[child] = (parent, transform)
            return True
        entry = self._timed.get(child)
        if entry is None or entry[0] != parent:
            if entry is None and len(self._timed) >= MAX_FRAMES:
                self.rejected += 1
                return False
            entry = (parent, deque(maxlen=MAX_SAMPLES))
            self._timed[child] = entry
        samples = entry[1]
        if samples and stamp < samples[-1][0]:
            if samples[-1][0] - stamp > self.cache_time:
                samples.clear()  # time went back (a simulation restart)
            else:
                return True  # late sample: older than one we have, ignored
        samples.append((stamp, transform))
        while samples and samples[0][0] < stamp - self.cache_time:
            samples.popleft()
        return True

    def _parent(self, frame: str, stamp: float) -> tuple[str, np.ndarray] | None:
        if frame in self._static:
            parent, transform = self._static[frame]
            return parent, transform.matrix()
        entry = self._timed.get(frame)
        if entry is None or not entry[1]:
            return None
        parent, samples = entry
        return parent, self._at(frame, samples, stamp).matrix()

    def _at(self, frame: str, samples: deque[tuple[float, Transform]], stamp: float) -> Transform:
        first, last = samples[0][0], samples[-1][0]
        if stamp == 0.0 or (stamp >= last and stamp - last <= self.tolerance):
            return samples[-1][1]  # time 0 asks for the newest, as tf2 does
        if stamp < first - self.tolerance or stamp > last + self.tolerance:
            raise TransformError(f'no transform of {frame} at {stamp:.3f} s: the buffer holds '
                                 f'{first:.3f} to {last:.3f} s')
        if stamp <= first:
            return samples[0][1]
        stamps = [s for s, _ in samples]
        i = bisect_left(stamps, stamp)
        (t0, a), (t1, b) = samples[i - 1], samples[i]
        f = (stamp - t0) / (t1 - t0) if t1 > t0 else 0.0
        translation = tuple(x + f * (y - x) for x, y in zip(a.translation, b.translation, strict=True))
        return Transform(translation, slerp(a.rotation, b.rotation, f))  # type: ignore[arg-type]

    def lookup(self, target: str, source: str, stamp: float) -> np.ndarray:
        """Return the 4x4 matrix mapping points in `source` into `target` at `stamp` (s; 0 = newest)."""
        target, source = target.lstrip('/'), source.lstrip('/')
        if target == source:
            return np.eye(4)
        up_source = self._to_root(source, stamp)
        up_target = self._to_root(target, stamp)
        common = next((f for f in up_source if f in up_target), None)
        if common is None:
            raise TransformError(f'no transform from {source} to {target}: not in one tree (known frames: '
                                 f'{", ".join(sorted(self.frames())) or "none"})')
        return np.linalg.inv(up_target[common]) @ up_source[common]

    def _to_root(self, frame: str, stamp: float) -> dict[str, np.ndarray]:
        """Return {ancestor: frame->ancestor matrix} for the frame and all its ancestors."""
        result = {frame: np.eye(4)}
        current, matrix = frame, np.eye(4)
        for _ in range(MAX_DEPTH):
            up = self._parent(current, stamp)
            if up is None:
                return result
            parent, step = up
            matrix = step @ matrix
            if parent in result:
                raise TransformError(f'frame {frame}: the tree has a loop at {parent}')
            result[parent] = matrix
            current = parent
        raise TransformError(f'frame {frame}: more than {MAX_DEPTH} parents')

    def frames(self) -> set[str]:
        """Return every frame named so far."""
        names = set(self._static) | set(self._timed)
        names |= {p for p, _ in self._static.values()} | {p for p, _ in self._timed.values()}
        return names
