"""ByteTrack-class multi-object tracking of detector boxes (plain numpy/scipy, no rclpy).

Each frame's boxes are associated with the tracks in three stages, as ByteTrack does (Zhang et
al., ECCV 2022): (1) high-score boxes against every confirmed track, live or lost; (2) the
low-score boxes left (between `low_score` and `high_score`: often partly occluded objects)
against the live tracks still unmatched; (3) the high-score boxes left against the tentative
tracks (seen once). Costs are 1 - IoU between the box and the track's predicted box, solved
optimally with scipy's `linear_sum_assignment`; pairs of different classes never match.

Tracks predict their box with a constant-velocity Kalman filter on (cx, cy, w, h) in time, not
frames, so a stamp gap is a longer prediction. A track without a box is lost; it keeps its id
for `lost_time` seconds, and its box is matched with a buffer that grows while it is lost
(C-BIoU, Yang et al., WACV 2023): small objects partly hidden again, or back from beyond the
image border, rarely overlap their prediction much. So an object that was hidden or left the
image briefly comes back under its old id. A lost track is matched at the largest size it had
lately (an object being hidden shrinks before it disappears), its size stops changing and its
velocity decays, so a prediction does not run away.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, fields
import math
from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment

from physical_ai.core.errors import ConfigError

# Process and measurement noise relative to the box height (ByteTrack's weights, per frame at
# REFERENCE_FPS; here scaled to the real time between frames).
POSITION_WEIGHT = 1.0 / 20.0
VELOCITY_WEIGHT = 1.0 / 160.0
REFERENCE_FPS = 30.0
PARAM_PREFIX = 'track_'
# Box sizes (frames) a track remembers: a lost one is matched at the largest of them.
SIZE_MEMORY = 15
# A lost track's matching buffer doubles over this time (s).
BUFFER_GROWTH = 1.0
# A lost track's velocity decays with this time constant (s).
LOST_VELOCITY_DECAY = 0.5


@dataclass(frozen=True)
class TrackerConfig:
    """Association thresholds and the lost-track buffer: the inference node's parameters track_<name>.

    The defaults suit the shipped detector, which scores a ball 5 m away at about 0.45.
    """

    high_score: float = 0.4
    low_score: float = 0.1
    new_score: float = 0.45
    match_iou: float = 0.2
    low_match_iou: float = 0.5
    tentative_match_iou: float = 0.3
    lost_time: float = 3.0
    lost_buffer: float = 0.3

    @classmethod
    def from_params(cls, values: Mapping[str, Any]) -> TrackerConfig:
        """Return the config from parameter values named track_<field> (others are ignored), checked."""
        config = cls(**{f.name: values[PARAM_PREFIX + f.name] for f in fields(cls)
                        if PARAM_PREFIX + f.name in values})
        config.validate()
        return config

    def validate(self) -> None:
        """Raise ConfigError naming the parameter when values do not fit together."""
        for name in ('high_score', 'low_score', 'new_score', 'match_iou', 'low_match_iou',
                     'tentative_match_iou'):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and 0.0 <= value <= 1.0):
                raise ConfigError(f'parameter track_{name}: {value!r} is out of range [0, 1]')
        if self.low_score > self.high_score:
            raise ConfigError(f'parameter track_low_score: {self.low_score} must not exceed '
                              f'track_high_score {self.high_score}')
        for name in ('lost_time', 'lost_buffer'):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0.0):
                raise ConfigError(f'parameter track_{name}: {value!r} is out of range (>= 0)')


def iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Return the IoU of every box in `a` (n, 4 xyxy) with every box in `b` (m, 4 xyxy)."""
    a = np.asarray(a, np.float64).reshape(-1, 4)
    b = np.asarray(b, np.float64).reshape(-1, 4)
    if not len(a) or not len(b):
        return np.zeros((len(a), len(b)))
    return _pair_iou(a[:, None, :], b[None, :, :])


def _pair_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Return the IoU of boxes a[..., 4] and b[..., 4] (xyxy), broadcast against each other."""
    w = np.minimum(a[..., 2], b[..., 2]) - np.maximum(a[..., 0], b[..., 0])
    h = np.minimum(a[..., 3], b[..., 3]) - np.maximum(a[..., 1], b[..., 1])
    inter = np.clip(w, 0.0, None) * np.clip(h, 0.0, None)
    area_a = (a[..., 2] - a[..., 0]) * (a[..., 3] - a[..., 1])
    union = area_a + (b[..., 2] - b[..., 0]) * (b[..., 3] - b[..., 1]) - inter
    return np.where(union > 0.0, inter / np.where(union > 0.0, union, 1.0), 0.0)


def _buffered(boxes: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Return xyxy boxes [..., 4] grown by `scale` [...] times their width and height on every side."""
    w = (boxes[..., 2] - boxes[..., 0]) * scale
    h = (boxes[..., 3] - boxes[..., 1]) * scale
    return boxes + np.stack([-w, -h, w, h], axis=-1)


class _Track:
    """One track: a constant-velocity Kalman filter on (cx, cy, w, h) and its bookkeeping."""

    def __init__(self, track_id: int, box: np.ndarray, score: float, class_id: int, stamp: float) -> None:
        self.track_id = track_id
        self.class_id = class_id
        self.score = score
        self.confirmed = False
        self.lost = False  # no box in the latest frame
        self.hits = 1
        self.last_seen = stamp
        self.stamp = stamp
        cx, cy, w, h = _xywh(box)
        self.mean = np.array([cx, cy, w, h, 0.0, 0.0, 0.0, 0.0])
        self.sizes: deque[tuple[float, float]] = deque([(w, h)], maxlen=SIZE_MEMORY)
        std = np.array([2 * POSITION_WEIGHT * h] * 4 + [10 * VELOCITY_WEIGHT * h * REFERENCE_FPS] * 4)
        self.covariance = np.diag(std * std)


    @property
    def box(self) -> np.ndarray:
        cx, cy, w, h = self.mean[:4]
        return np.array([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2])

    @property
    def full_box(self) -> np.ndarray:
        """Return the predicted box at the largest size seen lately (an object being hidden shrinks)."""
        cx, cy, w, h = self.mean[:4]
        w = max(w, max(s[0] for s in self.sizes))
        h = max(h, max(s[1] for s in self.sizes))
        return np.array([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2])


def _xywh(box: np.ndarray) -> tuple[float, float, float, float]:
    x1, y1, x2, y2 = (float(v) for v in box)
    return (x1 + x2) / 2, (y1 + y2) / 2, max(x2 - x1, 1e-3), max(y2 - y1, 1e-3)


def _predict(tracks: list[_Track], stamp: float) -> None:
    """Predict every track's state to `stamp` in one batch (tracks already there are left alone)."""
    tracks = [t for t in tracks if stamp > t.stamp]
    if not tracks:
        return
    dt = np.array([stamp - t.stamp for t in tracks])
    mean = np.stack([t.mean for t in tracks])
    covariance = np.stack([t.covariance for t in tracks])
    lost = np.array([stamp - t.last_seen for t in tracks]) > dt
    mean[lost, 6:] = 0.0  # lost: the size stops changing, the motion fades
    mean[lost, 4:6] *= np.exp(-dt[lost] / LOST_VELOCITY_DECAY)[:, None]
    transition = np.broadcast_to(np.eye(8), (len(tracks), 8, 8)).copy()
    transition[:, range(4), range(4, 8)] = dt[:, None]
    h = np.maximum(mean[:, 3], 1.0)
    q = np.concatenate([np.repeat(((POSITION_WEIGHT * h) ** 2)[:, None], 4, axis=1),
                        np.repeat(((VELOCITY_WEIGHT * h * REFERENCE_FPS) ** 2)[:, None], 4, axis=1)], axis=1)
    q *= (dt * REFERENCE_FPS)[:, None]
    mean = np.einsum('nij,nj->ni', transition, mean)
    mean[:, 2:4] = np.maximum(mean[:, 2:4], 1.0)
    covariance = transition @ covariance @ transition.transpose(0, 2, 1)
    covariance[:, range(8), range(8)] += q
    for i, track in enumerate(tracks):
        track.mean, track.covariance, track.stamp = mean[i], covariance[i], stamp


def _correct(pairs: list[tuple[_Track, int]], boxes: np.ndarray, scores: np.ndarray, classes: np.ndarray,
             stamp: float) -> None:
    """Update the matched tracks with their boxes in one batch (Kalman correction)."""
    if not pairs:
        return
    tracks = [t for t, _ in pairs]
    rows = [i for _, i in pairs]
    b = boxes[rows]
    measurement = np.stack([(b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2,
                            np.maximum(b[:, 2] - b[:, 0], 1e-3), np.maximum(b[:, 3] - b[:, 1], 1e-3)], axis=1)
    mean = np.stack([t.mean for t in tracks])
    covariance = np.stack([t.covariance for t in tracks])
    r = (POSITION_WEIGHT * np.maximum(measurement[:, 3], 1.0)) ** 2
    projected = covariance[:, :4, :4].copy()
    projected[:, range(4), range(4)] += r[:, None]
    gain = np.linalg.solve(projected, covariance[:, :4, :]).transpose(0, 2, 1)  # P H^T S^-1 (S symmetric)
    mean = mean + np.einsum('nij,nj->ni', gain, measurement - mean[:, :4])
    covariance = covariance - gain @ covariance[:, :4, :]
    for i, (track, row) in enumerate(pairs):
        track.mean, track.covariance = mean[i], covariance[i]
        track.score, track.class_id = float(scores[row]), int(classes[row])
        track.last_seen = track.stamp = stamp
        track.hits += 1
        track.sizes.append((measurement[i, 2], measurement[i, 3]))


class Tracker:
    """Gives each detection a persistent track id; see the module docstring."""

    def __init__(self, config: TrackerConfig | None = None) -> None:
        self.config = config or TrackerConfig()
        self.config.validate()
        self._tracks: list[_Track] = []
        self._next_id = 1
        self._stamp: float | None = None
        self.frames = 0

    def reset(self) -> None:
        """Forget every track (ids continue counting, so an old id never comes back for a new object)."""
        self._tracks = []
        self._stamp = None

    @property
    def tracks(self) -> list[tuple[int, int, np.ndarray, bool]]:
        """Return (id, class, predicted box xyxy, confirmed) of every track kept."""
        return [(t.track_id, t.class_id, t.box, t.confirmed) for t in self._tracks]

    def update(self, boxes: np.ndarray, scores: np.ndarray, classes: np.ndarray, stamp: float) -> np.ndarray:
        """Associate one frame's boxes (n, 4 xyxy px), scores and class indices; return their ids (n,).

        Id 0: the box belongs to no confirmed track (below `low_score`, matched nothing, or a
        track seen for the first time). `stamp` is the frame's time in seconds; a stamp earlier
        than the previous frame's (a restarted simulation, a replayed bag) starts afresh.
        """
        cfg = self.config
        boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
        scores = np.asarray(scores, np.float64).reshape(-1)
        classes = np.asarray(classes).reshape(-1).astype(np.int64)
        if not (len(boxes) == len(scores) == len(classes)):
            raise ValueError(f'boxes, scores and classes differ in length: {len(boxes)}, {len(scores)}, '
                             f'{len(classes)}')
        stamp = float(stamp)
        if not math.isfinite(stamp):
            raise ValueError(f'stamp {stamp!r} is not a finite time')
        if self._stamp is not None and stamp < self._stamp:
            self.reset()
        first = self._stamp is None
        self._stamp = stamp
        self.frames += 1
        ids = np.zeros(len(boxes), np.int64)
        if not len(boxes) and not self._tracks:
            return ids  # nothing seen, nothing tracked: nothing to predict, match or age
        finite = np.isfinite(boxes).all(axis=1) & np.isfinite(scores)
        _predict(self._tracks, stamp)

        high = np.flatnonzero(finite & (scores >= cfg.high_score))
        low = np.flatnonzero(finite & (scores >= cfg.low_score) & (scores < cfg.high_score))
        confirmed = [t for t in self._tracks if t.confirmed]
        tentative = [t for t in self._tracks if not t.confirmed]

        # 1: high-score boxes against confirmed tracks, live and lost (lost ones with a buffer).
        matched, rest_tracks, rest_high = self._associate(confirmed, high, boxes, classes, stamp,
                                                          cfg.match_iou, buffered=True)
        # 2: low-score boxes against the live tracks left (no buffer: ByteTrack's second stage).
        live = [t for t in rest_tracks if not t.lost]
        matched_low, _, _ = self._associate(live, low, boxes, classes, stamp, cfg.low_match_iou)
        # 3: the high-score boxes left against tentative tracks.
        matched_new, unmatched_tentative, rest_high = self._associate(
            tentative, rest_high, boxes, classes, stamp, cfg.tentative_match_iou)
        _correct(matched + matched_low + matched_new, boxes, scores, classes, stamp)
        for track, index in matched + matched_low + matched_new:
            track.confirmed = True
            ids[index] = track.track_id
        dropped = {id(t) for t in unmatched_tentative}
        self._tracks = [t for t in self._tracks if id(t) not in dropped
                        and stamp - t.last_seen <= cfg.lost_time]
        for track in self._tracks:
            track.lost = track.last_seen < stamp
        for index in rest_high:
            if scores[index] < cfg.new_score:
                continue
            track = _Track(self._next_id, boxes[index], float(scores[index]), int(classes[index]), stamp)
            self._next_id += 1
            if first:  # ByteTrack confirms the tracks of the first frame at once
                track.confirmed = True
                ids[index] = track.track_id
            self._tracks.append(track)
        return ids

    def _associate(self, tracks: list[_Track], indices: np.ndarray, boxes: np.ndarray, classes: np.ndarray,
                   stamp: float, min_iou: float, buffered: bool = False,
                   ) -> tuple[list[tuple[_Track, int]], list[_Track], np.ndarray]:
        """Return (matched (track, box index) pairs, unmatched tracks, unmatched box indices)."""
        if not tracks or not len(indices):
            return [], list(tracks), np.asarray(indices, np.int64)
        predicted = np.array([t.box for t in tracks])
        candidates = boxes[indices]
        if buffered:
            lost_for = np.array([max(stamp - t.last_seen, 0.0) for t in tracks])
            predicted = np.array([t.full_box if t.lost else t.box for t in tracks])
            # Lost tracks: the buffer starts at lost_buffer and doubles over BUFFER_GROWTH seconds.
            scale = np.where(lost_for > 0.0, self.config.lost_buffer
                             * (1.0 + np.minimum(lost_for / BUFFER_GROWTH, 1.0)), 0.0)
            overlap = iou_matrix(predicted, candidates)
            if (scale > 0.0).any():  # both boxes of a pair grow by the track's buffer
                pairs = np.broadcast_to(scale[:, None], overlap.shape)
                grown = _pair_iou(_buffered(predicted, scale)[:, None, :],
                                  _buffered(candidates[None, :, :], pairs))
                overlap = np.maximum(overlap, grown)
        else:
            overlap = iou_matrix(predicted, candidates)
        same_class = np.array([t.class_id for t in tracks])[:, None] == classes[indices][None, :]
        overlap = np.where(same_class, overlap, 0.0)
        cost = 1.0 - overlap
        rows, cols = linear_sum_assignment(cost)
        pairs, used_rows, used_cols = [], set(), set()
        for r, c in zip(rows.tolist(), cols.tolist(), strict=True):
            if overlap[r, c] >= max(min_iou, 1e-9):
                pairs.append((tracks[r], int(indices[c])))
                used_rows.add(r)
                used_cols.add(c)
        rest_tracks = [t for i, t in enumerate(tracks) if i not in used_rows]
        rest = np.array([int(indices[c]) for c in range(len(indices)) if c not in used_cols], np.int64)
        return pairs, rest_tracks, rest
