"""The actuation planner: detections of a frame in, a safe (linear, angular) command out.

Two calls drive it: `observe()` with each frame of detections (its stamp on the caller's clock)
and `command()` at a fixed rate, which returns a `Plan` (the command, the state, the reason of
the last stop, the chosen target). `update()` does both for callers with one loop (the demo,
the evaluation). Safety comes first, in this order: the e-stop latch, missing intrinsics, the
detection watchdog, a stop-class object the robot could not stop for before `safety_distance`;
then the behaviour. Every command passes the speed limits; behaviour commands also pass the
acceleration limits and the approach speed of the nearest stop-class object (stopping.py), while
safety stops go to zero at once.

With track ids (Detection.track_id, from a tracker upstream) the planner locks onto the
target's id: while the lock holds, only that track can be the target, however well other
objects of the class score, so the target keeps its identity through crossings and `follow`
follows one object. When the locked id has not been seen for `track_lock_timeout` the lock is
released and the planner re-acquires: the best-scored candidate, less REACQUIRE_PENALTY per
metre from where the target was last seen. Without ids (tracking off) the current target is
kept by box overlap with a small score bonus, as before.

No input raises: detections with NaN, Inf, absurd or empty boxes, frames with non-finite stamps
and estimates that overflow are rejected and counted; at most `max_detections` of the
best-scored detections of a frame are looked at.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
import heapq
import math
from typing import Any

from physical_ai.core.errors import ConfigError
from physical_ai.core.planning.filter import DistanceFilter
from physical_ai.core.planning.geometry import (
    CLIP_MARGIN_PX,
    Detection,
    Estimate,
    GroundPlane,
    Intrinsics,
    estimate,
    from_depth,
    nearest_estimate,
    parse_class_heights,
    usable,
)
from physical_ai.core.planning.limits import VelocityLimiter, VelocityLimits
from physical_ai.core.planning.safety import EStopLatch, Watchdog
from physical_ai.core.planning.stopping import (
    HALT_SLACK,
    HISTORY_SLACK,
    Clearance,
    Obstacle,
    SpeedHistory,
    StopModel,
)

BEHAVIORS = ('approach', 'follow')
DISTANCE_METHODS = ('height', 'ground', 'depth')
STATES = ('approaching', 'following', 'searching', 'stopped', 'e_stopped')
# Within this distance (m) of stop_distance the target counts as reached (follow: in position);
# a pure proportional approach would otherwise creep toward it forever.
ARRIVE_TOLERANCE = 0.02
# The current target keeps being chosen over a slightly better-scored box that does not overlap it.
TRACK_BONUS = 0.15
TRACK_IOU = 0.3
# On re-acquiring a lost lock, a candidate's score counts this much less per metre between it and
# the target's last position (optical frame), so the nearest plausible object is taken.
REACQUIRE_PENALTY = 0.1
# A deceleration below this (m/s^2) is taken as this one, so a stopping distance stays finite.
MIN_DECEL = 0.01
# Gaps between commands seen over the last GAP_MEMORY seconds (at most GAP_WINDOW of them) raise
# the response time, up to MAX_GAP s (a longer gap is a stall the watchdog judges).
GAP_MEMORY = 2.0
GAP_WINDOW = 400
MAX_GAP = 1.0


def _score_key(det: object) -> float:
    score = getattr(det, 'score', None)
    return score if isinstance(score, int | float) and not isinstance(score, bool) and score == score \
        else -math.inf


@dataclass(frozen=True)
class PlannerConfig:
    """Everything the planner reads; names and ranges match the planner node's parameters."""

    behavior: str
    target_class: str
    stop_classes: tuple[str, ...]
    min_score: float
    stop_distance: float
    safety_distance: float
    stop_hysteresis: float
    safety_release_time: float
    linear_gain: float
    angular_gain: float
    heading_tolerance: float
    max_linear_speed: float
    max_reverse_speed: float
    max_angular_speed: float
    max_linear_accel: float
    max_angular_accel: float
    search_turn_speed: float
    search_timeout: float
    target_timeout: float
    detection_timeout: float
    class_heights: Mapping[str, float] = field(default_factory=dict)
    distance_method: str = 'height'
    camera_height: float = 0.0
    camera_pitch: float = 0.0
    distance_filter_time: float = 0.3
    distance_uncertainty: float = 0.15
    depth_uncertainty: float = 0.05
    brake_decel: float = 0.0
    response_time: float = 0.1
    time_before_collision: float = 1.0
    max_detections: int = 100
    track_lock_timeout: float = 2.0

    @classmethod
    def from_params(cls, values: Mapping[str, Any] | None = None, **overrides: Any) -> PlannerConfig:
        """Return the config from parameter values (defaults from the node's table), checked.

        Values are checked against the planner node's parameter specs (the same messages a node
        gives), then across parameters; the node's other parameters (rate, stamped, ...) are
        accepted and ignored, an unknown name raises ConfigError.
        """
        from physical_ai.params import check_params
        from physical_ai.params.planner import PARAMS

        table = {spec.name: spec for spec in PARAMS}
        merged = {spec.name: spec.default for spec in PARAMS}
        merged.update(values or {})
        merged.update(overrides)
        names = {f.name for f in fields(cls)}
        checked = {k: v for k, v in check_params(table, merged).items() if k in names}
        heights = checked['class_heights']
        checked['class_heights'] = dict(heights) if isinstance(heights, Mapping) \
            else parse_class_heights(heights)
        # [''] disables stop classes where a YAML file cannot hold a typed empty list.
        checked['stop_classes'] = tuple(name for name in checked['stop_classes'] if name)
        config = cls(**checked)
        config.validate()
        return config

    def validate(self) -> None:
        """Raise ConfigError naming the parameter when values do not fit together."""
        if self.behavior not in BEHAVIORS:
            raise ConfigError(f'parameter behavior: {self.behavior!r} is not accepted '
                              f'(one of {", ".join(BEHAVIORS)})')
        if self.distance_method not in DISTANCE_METHODS:
            raise ConfigError(f'parameter distance_method: {self.distance_method!r} is not accepted '
                              f'(one of {", ".join(DISTANCE_METHODS)})')
        if not self.stop_distance > 0.0:
            raise ConfigError(f'parameter stop_distance: {self.stop_distance} is out of range (> 0)')
        for name in ('safety_distance', 'stop_hysteresis', 'max_linear_speed', 'max_reverse_speed',
                     'max_angular_speed', 'max_linear_accel', 'max_angular_accel', 'search_turn_speed',
                     'search_timeout', 'target_timeout', 'safety_release_time', 'linear_gain',
                     'angular_gain', 'camera_height', 'distance_filter_time', 'depth_uncertainty',
                     'brake_decel', 'response_time', 'time_before_collision',
                     'track_lock_timeout'):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0.0):
                raise ConfigError(f'parameter {name}: {value} is out of range (>= 0)')
        if not 0.0 <= self.distance_uncertainty < 1.0:
            raise ConfigError(f'parameter distance_uncertainty: {self.distance_uncertainty} is out of '
                              'range (a fraction in [0, 1))')
        if not (isinstance(self.max_detections, int) and self.max_detections >= 1):
            raise ConfigError(f'parameter max_detections: {self.max_detections} is out of range (>= 1)')
        if not self.heading_tolerance > 0.0:
            raise ConfigError(f'parameter heading_tolerance: {self.heading_tolerance} is out of range (> 0)')
        if not self.target_class:
            raise ConfigError('parameter target_class: must name a class (got an empty string)')
        if self.distance_method == 'ground' and self.camera_height <= 0.0:
            raise ConfigError('parameter camera_height: distance_method is ground, so the camera '
                              f'height above the floor must be > 0 m (got {self.camera_height})')
        for role, name in [('target_class', self.target_class)] + \
                [('stop_classes', c) for c in self.stop_classes]:
            if name not in self.class_heights and self.camera_height <= 0.0:
                raise ConfigError(
                    f'parameter {role}: class {name!r} has no distance estimate: give it a height in '
                    f'class_heights (known: {", ".join(self.class_heights) or "none"}) or set '
                    'camera_height > 0 for the ground-plane estimate')

    @property
    def limits(self) -> VelocityLimits:
        """Return the speed and acceleration limits."""
        return VelocityLimits(self.max_linear_speed, self.max_reverse_speed, self.max_angular_speed,
                              self.max_linear_accel, self.max_angular_accel)

    @property
    def ground(self) -> GroundPlane | None:
        """Return the ground plane, or None when camera_height is not configured."""
        return GroundPlane(self.camera_height, self.camera_pitch) if self.camera_height > 0.0 else None

    @property
    def stop_model(self) -> StopModel:
        """Return the braking model: brake_decel (else max_linear_accel), response and approach times."""
        decel = self.brake_decel if self.brake_decel > 0.0 else self.max_linear_accel
        return StopModel(max(decel, MIN_DECEL), self.response_time, self.time_before_collision)


@dataclass(frozen=True)
class Target:
    """The chosen target: filtered and raw distance (m), bearing (rad, + left), optical-frame position."""

    class_name: str
    score: float
    distance: float
    raw_distance: float
    bearing: float
    position: tuple[float, float, float]
    method: str
    stamp: float
    detection: Detection

    @property
    def track_id(self) -> str:
        """Return the target's track id ('' when untracked)."""
        return self.detection.track_id


@dataclass(frozen=True)
class Plan:
    """One command with its context: state, reason of the last stop, target, stop-class object."""

    linear: float
    angular: float
    state: str
    reason: str
    target: Target | None = None
    stop_object: tuple[str, float] | None = None
    halted: bool = False  # stopped by safety (e-stop, watchdog, intrinsics, stop class)
    clearance: Clearance | None = None  # the stop budget of the nearest stop-class object


def iou(a: Detection, b: Detection) -> float:
    """Return the intersection over union of two boxes."""
    w = min(a.cx + a.width / 2, b.cx + b.width / 2) - max(a.cx - a.width / 2, b.cx - b.width / 2)
    h = min(a.bottom, b.bottom) - max(a.top, b.top)
    inter = max(w, 0.0) * max(h, 0.0)
    union = a.width * a.height + b.width * b.height - inter
    return inter / union if union > 0.0 else 0.0


class Planner:
    """Behaviours approach and follow with safety stops, search and limits; see the module doc."""

    def __init__(self, config: PlannerConfig) -> None:
        self.watchdog = Watchdog(config.detection_timeout)
        self.e_stop = EStopLatch()
        self.limiter = VelocityLimiter(config.limits)
        self._filter = DistanceFilter(config.distance_filter_time)
        self._config = config
        self._model = config.stop_model
        self._speeds = SpeedHistory(self._model.decel, config.detection_timeout + HISTORY_SLACK)
        self.intrinsics: Intrinsics | None = None
        self.target: Target | None = None
        self.obstacle: Obstacle | None = None
        self.clearance: Clearance | None = None
        self.malformed = 0
        self.dropped = 0  # detections beyond max_detections, not looked at
        self.locked_id = ''  # the track id the target is locked onto ('' = none)
        self.lock_stamp: float | None = None  # when the locked track was last seen
        self.reacquired = 0  # locks released and taken again on another track
        self.last_problem = ''
        self.state = 'stopped'
        self.reason = 'starting'
        self._reached = False
        self._holding = False
        self._safety_stop: tuple[str, float] | None = None
        self._close_stamp: float | None = None
        self._search_start: float | None = None
        self._search_sign = 1.0
        self._last_now: float | None = None
        self._gaps: deque[tuple[float, float]] = deque(maxlen=GAP_WINDOW)  # (time, gap since the tick before)

    @property
    def config(self) -> PlannerConfig:
        """Return the configuration in use."""
        return self._config

    @config.setter
    def config(self, config: PlannerConfig) -> None:
        config.validate()
        old, self._config = self._config, config
        self.limiter.limits = config.limits
        self.watchdog.timeout = config.detection_timeout
        self._filter.time_constant = config.distance_filter_time
        self._model = config.stop_model
        self._speeds.decel = self._model.decel
        self._speeds.keep = config.detection_timeout + HISTORY_SLACK
        if (old.behavior, old.target_class) != (config.behavior, config.target_class):
            self.target = None
            self.locked_id, self.lock_stamp = '', None
            self._filter.reset()
            self._reached = self._holding = False
            self._search_start = None

    def set_intrinsics(self, intrinsics: Intrinsics) -> str | None:
        """Use these intrinsics from now on; return why they are unusable (and keep the old), or None."""
        problem = intrinsics.problem()
        if problem is None:
            self.intrinsics = intrinsics
        return problem

    def set_e_stop(self, active: bool) -> bool:
        """Apply an e-stop message; return True when the latch changed state."""
        changed = self.e_stop.update(active)
        if changed and not active:
            self.limiter.stop()  # restart from rest, through the acceleration limits
        return changed

    def _estimate(self, det: Detection) -> Estimate | None:
        cfg = self._config
        if cfg.distance_method == 'depth' and det.position is not None:
            measured = usable(from_depth(det, cfg.camera_pitch))
            if measured is not None:
                return measured
        return estimate(det, self.intrinsics, cfg.class_heights.get(det.class_name), cfg.ground,
                        cfg.distance_method)

    def observe(self, detections: Iterable[Detection], stamp: float,
                intrinsics: Intrinsics | None = None) -> int:
        """Take one frame of detections stamped `stamp` (s); return how many were malformed (ignored).

        Only the `max_detections` best-scored detections are looked at (the rest count in
        `dropped`); a frame whose stamp is not a finite number is ignored as a whole.
        """
        if intrinsics is not None:
            self.set_intrinsics(intrinsics)
        try:
            detections = list(detections)
        except TypeError:
            detections = [detections]
        if isinstance(stamp, bool) or not isinstance(stamp, int | float) or not math.isfinite(stamp):
            self.malformed += len(detections)
            self.last_problem = f'frame stamp {stamp!r} is not a finite time; frame ignored'
            return len(detections)
        self.watchdog.feed(stamp)
        if self.intrinsics is None:
            return 0
        limit = self._config.max_detections
        if len(detections) > limit:
            self.dropped += len(detections) - limit
            detections = heapq.nlargest(limit, detections, key=_score_key)
        valid, bad = [], 0
        for det in detections:
            problem = det.problem(self.intrinsics) if isinstance(det, Detection) else \
                f'not a Detection: {type(det).__name__}'
            if problem is None:
                valid.append(det)
            else:
                bad += 1
                self.last_problem = problem
        self.malformed += bad
        self._check_stop_classes(valid, stamp)
        bad += self._choose_target(valid, stamp)
        return bad

    def _obstacle_of(self, det: Detection, stamp: float) -> Obstacle | None:
        """Return a stop-class detection as an obstacle, its distance taken on the safe side."""
        cfg = self._config
        if det.depth is not None:
            return Obstacle(det.class_name, max(det.depth - cfg.depth_uncertainty, 0.0), det.depth,
                            'depth', stamp)
        est = nearest_estimate(det, self.intrinsics, cfg.class_heights.get(det.class_name), cfg.ground)
        if est is None:
            if det.bottom >= self.intrinsics.height - CLIP_MARGIN_PX:
                return Obstacle(det.class_name, 0.0, 0.0, 'cut_off', stamp)  # reaches below the view
            return None
        if est.fills_frame:
            # Cut by both the top and bottom border: closer than its box says.
            return Obstacle(det.class_name, 0.0, est.distance, 'fills_frame', stamp)
        return Obstacle(det.class_name, est.distance * (1.0 - cfg.distance_uncertainty), est.distance,
                        est.method, stamp)

    def _check_stop_classes(self, detections: list[Detection], stamp: float) -> None:
        cfg = self._config
        if self.obstacle is not None and stamp < self.obstacle.stamp:
            self.obstacle = None  # time went back (simulation restart)
        nearest = None
        for det in detections:
            if det.class_name not in cfg.stop_classes or det.score < cfg.min_score:
                continue
            obstacle = self._obstacle_of(det, stamp)
            if obstacle is not None and (nearest is None or obstacle.distance < nearest.distance):
                nearest = obstacle
        if nearest is not None:
            self.obstacle = nearest
        elif self.obstacle is not None and stamp - self.obstacle.stamp > cfg.safety_release_time:
            self.obstacle = None  # not seen for a while: gone

    def _choose_target(self, detections: list[Detection], stamp: float) -> int:
        cfg = self._config
        candidates = []
        for det in detections:
            if det.class_name != cfg.target_class or det.score < cfg.min_score:
                continue
            est = self._estimate(det)
            if est is not None:
                candidates.append((det, est))
        if self.locked_id and (self.lock_stamp is None or not
                               0.0 <= stamp - self.lock_stamp <= cfg.track_lock_timeout):
            self.locked_id, self.lock_stamp = '', None  # gone too long (or time went back): re-acquire
        if not candidates:
            return 0
        if self.locked_id:
            chosen = next(((d, e) for d, e in candidates if d.track_id == self.locked_id), None)
            if chosen is None:
                return 0  # the locked target is hidden: nothing else takes its place meanwhile
            (det, est), tracked = chosen, True
        elif any(d.track_id for d, _ in candidates) and self.target is not None and self.target.track_id:
            last = self.target.position  # re-acquire: the best-scored near the target's last position
            det, est = max(((d, e) for d, e in candidates if d.track_id),
                           key=lambda c: c[0].score - REACQUIRE_PENALTY * math.dist(c[1].position, last))
            tracked = False
            self.reacquired += 1
        else:
            previous = self.target.detection if self.target is not None and \
                0.0 <= stamp - self.target.stamp <= cfg.target_timeout else None
            best = None
            for det, est in candidates:
                tracked = previous is not None and iou(previous, det) >= TRACK_IOU
                rank = det.score + (TRACK_BONUS if tracked else 0.0)
                if best is None or rank > best[0]:
                    best = (rank, det, est, tracked)
            _, det, est, tracked = best
        if det.track_id:
            self.locked_id, self.lock_stamp = det.track_id, stamp
        if not tracked:
            self._filter.reset()
        distance = self._filter.update(est.distance, stamp)
        if not math.isfinite(distance):  # cannot happen with finite estimates; never act on one
            self._filter.reset()
            self.malformed += 1
            self.last_problem = f'{det.class_name}: distance estimate not finite'
            return 1
        self.target = Target(det.class_name, det.score, distance, est.distance, est.bearing,
                             est.position, est.method, stamp, det)
        return 0

    def command(self, now: float, measured: tuple[float, float] | None = None) -> Plan:
        """Return the command for time `now` (s, same clock as the stamps); `measured` = odometry (v, w)."""
        if measured is not None and not (isinstance(measured, tuple | list) and len(measured) == 2 and all(
                isinstance(v, int | float) and math.isfinite(v) for v in measured)):
            measured = None
        if isinstance(now, bool) or not isinstance(now, int | float) or not math.isfinite(now):
            self.clearance = None
            if self.e_stop.engaged:
                return self._halt('e_stopped', 'e_stop engaged')
            return self._halt('stopped', f'clock: time {now!r} is not a finite number')
        plan = self._command(now, measured)
        self._speeds.record(now, plan.linear, None if measured is None else measured[0])
        return plan

    def _check_clearance(self, now: float) -> Clearance | None:
        """Judge the nearest stop-class object at `now`: set or release the safety stop."""
        cfg, obstacle = self._config, self.obstacle
        newest = self.watchdog.last_stamp
        if self._close_stamp is not None and newest is not None and newest < self._close_stamp:
            self._close_stamp = newest  # time went back (simulation restart): wait again
        clearance = None
        if obstacle is not None:
            # A loaded machine ticks late: the next stop can come no sooner than the gaps seen lately.
            gap = max((g for _, g in self._gaps), default=0.0)
            model = self._model if gap <= self._model.response_time else \
                replace(self._model, response_time=min(gap, MAX_GAP))
            distance = obstacle.distance - self._speeds.travel(obstacle.stamp, now)
            rest = distance - model.stopping_distance(self._speeds.bound(now))
            limit = model.approach_speed(distance - cfg.safety_distance)
            clearance = Clearance(obstacle.class_name, obstacle.estimate, obstacle.source,
                                  now - obstacle.stamp, distance, rest, rest - cfg.safety_distance, limit)
            band = cfg.safety_distance + HALT_SLACK + (cfg.stop_hysteresis if self._safety_stop else 0.0)
            if not rest > band:
                if self._safety_stop is None:  # the distance that decided it stays in the reason
                    self._safety_stop = (obstacle.class_name, max(distance, 0.0))
                if self._close_stamp is None or obstacle.stamp >= self._close_stamp:
                    self._close_stamp = obstacle.stamp
        if self._safety_stop is not None and (
                self._close_stamp is None or newest is None
                or newest - self._close_stamp >= cfg.safety_release_time):
            self._safety_stop = self._close_stamp = None
        return clearance

    def _command(self, now: float, measured: tuple[float, float] | None) -> Plan:
        dt = 0.0 if self._last_now is None else now - self._last_now
        self._last_now = now
        if 0.0 < dt:
            self._gaps.append((now, dt))
        while self._gaps and not 0.0 <= now - self._gaps[0][0] <= GAP_MEMORY:
            self._gaps.popleft()
        cfg = self._config
        self.clearance = self._check_clearance(now)
        if self.e_stop.engaged:
            return self._halt('e_stopped', 'e_stop engaged')
        if self.intrinsics is None:
            return self._halt('stopped', 'no camera_info yet')
        if not self.watchdog.fresh(now):
            return self._halt('stopped', 'watchdog: ' + self.watchdog.reason(now))
        if self._safety_stop is not None:
            name, distance = self._safety_stop
            return self._halt('stopped', f'{name} {distance:.2f} m ahead (safe side): stopped to stay '
                                         f'beyond safety_distance {cfg.safety_distance:g} m')
        target = self.target
        if target is None:
            return self._drive(0.0, 0.0, dt, measured, 'stopped', f'no {cfg.target_class} seen yet')
        newest = self.watchdog.last_stamp if self.watchdog.last_stamp is not None else now
        if newest - target.stamp <= cfg.target_timeout:
            self._search_start = None
            self._search_sign = 1.0 if target.bearing >= 0.0 else -1.0
            return self._behave(target, dt, measured)
        if self._hidden(target, newest):
            # A search turn would look away from where the locked target is about to reappear.
            return self._drive(0.0, 0.0, dt, measured, 'searching',
                               f'{target.class_name} track {target.track_id} hidden: waiting up to '
                               f'track_lock_timeout {cfg.track_lock_timeout:g} s')
        if self._search_start is None:
            self._search_start = now
        if now - self._search_start < cfg.search_timeout:
            return self._drive(0.0, self._search_sign * cfg.search_turn_speed, dt, measured, 'searching')
        return self._drive(0.0, 0.0, dt, measured, 'stopped',
                           f'{target.class_name} lost: not found by a {cfg.search_timeout:g} s search turn')

    def _hidden(self, target: Target, newest: float) -> bool:
        """Return True while the locked target is out of sight inside the image (hidden, not gone out)."""
        if not (self.locked_id and self.locked_id == target.track_id and self.lock_stamp is not None
                and 0.0 <= newest - self.lock_stamp <= self._config.track_lock_timeout):
            return False
        det, width = target.detection, self.intrinsics.width if self.intrinsics else 0
        return det.cx - det.width / 2.0 > CLIP_MARGIN_PX and det.cx + det.width / 2.0 < width - CLIP_MARGIN_PX

    def update(self, now: float, detections: Iterable[Detection] | None = None,
               intrinsics: Intrinsics | None = None, stamp: float | None = None,
               measured: tuple[float, float] | None = None) -> Plan:
        """Observe a frame (if `detections` is given; stamped `now` unless `stamp`), then command."""
        if intrinsics is not None:
            self.set_intrinsics(intrinsics)
        if detections is not None:
            self.observe(detections, now if stamp is None else stamp)
        return self.command(now, measured)

    def _behave(self, target: Target, dt: float, measured: tuple[float, float] | None) -> Plan:
        cfg = self._config
        error = target.distance - cfg.stop_distance
        release = max(cfg.stop_hysteresis, ARRIVE_TOLERANCE)
        angular = cfg.angular_gain * target.bearing
        if cfg.behavior == 'approach':
            self._reached = error <= (release if self._reached else ARRIVE_TOLERANCE)
            if self._reached:
                return self._drive(0.0, 0.0, dt, measured, 'stopped',
                                   f'{target.class_name} reached ({target.distance:.2f} m)')
            state = 'approaching'
        else:
            self._holding = abs(error) <= (release if self._holding else ARRIVE_TOLERANCE)
            state = 'following'
        linear = 0.0 if self._holding and cfg.behavior == 'follow' else cfg.linear_gain * error
        if cfg.behavior == 'approach':
            linear = max(linear, 0.0)
        linear *= max(0.0, 1.0 - abs(target.bearing) / cfg.heading_tolerance)
        return self._drive(linear, angular, dt, measured, state)

    def _drive(self, linear: float, angular: float, dt: float, measured: tuple[float, float] | None,
               state: str, reason: str = '') -> Plan:
        linear, angular = self.limiter.limit(linear, angular, dt, measured)
        if self.clearance is not None and linear > self.clearance.speed_limit:
            # The approach speed bypasses the deceleration limit, as a collision monitor after a
            # velocity smoother does; the next command accelerates from it.
            linear = self.clearance.speed_limit
            self.limiter.last = (linear, angular)
        return self._plan(linear, angular, state, reason)

    def _halt(self, state: str, reason: str) -> Plan:
        self.limiter.stop()
        return self._plan(0.0, 0.0, state, reason, halted=True)

    def _plan(self, linear: float, angular: float, state: str, reason: str, halted: bool = False) -> Plan:
        self.state = state
        if reason:
            self.reason = reason
        return Plan(linear, angular, state, self.reason, self.target, self._safety_stop, halted,
                    self.clearance)
