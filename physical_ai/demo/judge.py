"""Decide an episode from what the robot did, as plain Python (no rclpy): success, failure or running.

Distances come from the simulator's ground truth with the planner's definition: from the camera
to the object's centre, horizontal (the optical frame's x right and z forward; y is down). The
closest approach of a stop-class object also counts those out of the camera's view: from the
robot's true pose (`sim/pose`) and the world's objects, when the judge is given them (walking
objects where their route has them at that sim time).

- `target` episodes succeed when the robot is stopped (commanded and measured speeds about zero
  for `hold_time`) with the target within `tolerance` of `stop_distance`.
- `stop_for` episodes (a person stands in the way) succeed when the robot is stopped with the
  planner halted for a stop-class object, and nothing of that class ever came within
  `contact_distance` of the camera; reaching the target instead is a failure.
- `follow` episodes (behaviour `follow`, a walking target) succeed at `time_limit` when the
  target was followed all along: in view (ground truth) at the end, never out of view longer
  than `lost_limit`, and at the end within `follow_tolerance` of `stop_distance`.
`target` and `stop_for` fail at `time_limit` (sim time); all fail at a contact (the simulator's
bumper, or a stop-class object closer than `contact_distance`), as soon as a stop-class object
comes closer than the planner's `safety_distance` (ground truth: a safety distance that is
crossed is not one), or when the planner reports the target reached while the robot stands
outside the tolerance.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
import math

from physical_ai.core.errors import ConfigError
from physical_ai.core.sim.paths import route_pose

KINDS = ('target', 'stop_for', 'follow')


@dataclass(frozen=True)
class Criteria:
    """What success means for one episode; distances in m, times in s of simulated time."""

    kind: str = 'target'
    target_class: str = 'ball'
    stop_classes: tuple[str, ...] = ('person',)
    stop_distance: float = 1.0
    tolerance: float = 0.15
    hold_time: float = 1.0
    time_limit: float = 60.0
    contact_distance: float = 0.3
    safety_distance: float = 1.5  # the planner's: no stop-class object may come closer (0 = not judged)
    max_linear: float = 0.02  # |v| below this (m/s), commanded and measured, counts as stopped
    max_angular: float = 0.05  # |w| below this (rad/s)
    truth_timeout: float = 1.0  # a target distance older than this is not trusted
    follow_tolerance: float = 1.0  # follow: |distance - stop_distance| at the end (m)
    lost_limit: float = 5.0  # follow: longest time (s) the target may be out of view

    def __post_init__(self) -> None:
        """Check the kind."""
        if self.kind not in KINDS:
            raise ConfigError(f'episode kind {self.kind!r}: expected one of {", ".join(KINDS)}')


@dataclass(frozen=True)
class Verdict:
    """The end of an episode: success or not, why, and when (sim time)."""

    success: bool
    reason: str
    time: float
    at_target: bool = False  # the robot stopped at the target (in or out of the tolerance)


@dataclass(frozen=True)
class TruthObject:
    """One object seen by the camera, from the simulator's ground truth (optical frame, m)."""

    class_name: str
    x: float
    y: float
    z: float
    object_id: str = ''

    @property
    def distance(self) -> float:
        """Return the horizontal distance from the camera to the object's centre."""
        return math.hypot(self.x, self.z)


@dataclass(frozen=True)
class WorldObject:
    """One object of the simulated world: its class and footprint centre (world frame, m).

    A walking object has a `route` (its start, then waypoints) walked at `speed` (paths.py).
    """

    class_name: str
    x: float
    y: float
    name: str = ''
    route: tuple[tuple[float, float], ...] = ()
    speed: float = 0.0
    loop: bool = False

    def at(self, t: float) -> tuple[float, float]:
        """Return the footprint centre at sim time `t`."""
        if len(self.route) < 2 or self.speed <= 0.0:
            return self.x, self.y
        x, y, _ = route_pose(self.route, self.speed, t, self.loop)
        return x, y


class Judge:
    """Follows an episode through its observations and returns a Verdict once it is decided."""

    def __init__(self, criteria: Criteria, target_id: str = '', world: Iterable[WorldObject] = (),
                 camera_x: float = 0.0) -> None:
        """Judge by `criteria`; `target_id` names the target object (else: the nearest of its class).

        `world`: the world's objects, so that stop-class objects out of the camera's view count in
        the closest approach too (with `on_pose`); `camera_x`: the camera's mount ahead of the base.
        """
        self.criteria = criteria
        self.world = tuple(o for o in world if o.class_name in criteria.stop_classes)
        self.camera_x = camera_x
        self._fixed_target = bool(target_id)
        self.start: float | None = None
        self.now = 0.0
        self.command = (0.0, 0.0)
        self.measured: tuple[float, float] | None = None
        self.planner_state = ''
        self.planner_reason = ''
        self.target_distance: float | None = None
        self.target_time: float | None = None
        self.target_id = target_id
        self.closest_stop_object: float | None = None
        self.stop_object_distance: float | None = None
        self.contacts: tuple[str, ...] = ()
        self._stopped_since: float | None = None
        self.longest_unseen = 0.0  # longest time (s) the target was out of view
        self.target_track = ''  # the planner's locked track id ('' = none yet)
        self.track_changes = 0  # times the planner's locked track id changed to another one
        self.verdict: Verdict | None = None

    # Observations (t: sim time in s) -----------------------------------------------------------

    def _tick(self, t: float) -> None:
        if self.start is None:
            self.start = t
        self.now = max(self.now, t)

    def on_command(self, t: float, linear: float, angular: float) -> None:
        """Record a velocity command."""
        self._tick(t)
        self.command = (linear, angular)
        self._update_stopped(t)

    def on_odometry(self, t: float, linear: float, angular: float) -> None:
        """Record the measured velocity."""
        self._tick(t)
        self.measured = (linear, angular)
        self._update_stopped(t)

    def on_planner(self, state: str, reason: str, track_id: str = '') -> None:
        """Record the planner's state, the reason of its last stop and its locked track id."""
        self.planner_state, self.planner_reason = state, reason
        if track_id and track_id != 'none':
            if self.target_track and track_id != self.target_track:
                self.track_changes += 1
            self.target_track = track_id

    def on_truth(self, t: float, objects: Iterable[TruthObject]) -> None:
        """Record the objects in view: the target's distance and the closest stop-class object."""
        self._tick(t)
        cfg = self.criteria
        objects = list(objects)
        targets = [o for o in objects if o.class_name == cfg.target_class]
        same = [o for o in targets if self.target_id and o.object_id == self.target_id]
        if self._fixed_target:
            targets = same
        if targets:
            if self.target_time is not None:
                self.longest_unseen = max(self.longest_unseen, t - self.target_time)
            target = same[0] if same else min(targets, key=lambda o: o.distance)
            self.target_id = target.object_id
            self.target_distance, self.target_time = target.distance, t
        stoppers = [o.distance for o in objects if o.class_name in cfg.stop_classes]
        self.stop_object_distance = min(stoppers) if stoppers else None
        if stoppers:
            self._approach(min(stoppers))

    def on_pose(self, t: float, x: float, y: float, yaw: float) -> None:
        """Record the robot's true pose (world frame): the camera's distance to every stop-class object."""
        self._tick(t)
        if not self.world:
            return
        cx, cy = x + self.camera_x * math.cos(yaw), y + self.camera_x * math.sin(yaw)
        self._approach(min(math.dist(o.at(t), (cx, cy)) for o in self.world))

    def _approach(self, distance: float) -> None:
        closest = self.closest_stop_object
        if math.isfinite(distance) and (closest is None or distance < closest):
            self.closest_stop_object = distance

    def on_contacts(self, names: Iterable[str]) -> None:
        """Record objects the robot touched (the simulator's bumper); any contact fails the episode."""
        names = tuple(n for n in names if n and n != 'none')
        if names and not self.contacts:
            self.contacts = names

    def _update_stopped(self, t: float) -> None:
        cfg = self.criteria
        still = abs(self.command[0]) < cfg.max_linear and abs(self.command[1]) < cfg.max_angular
        if self.measured is not None:
            still = still and abs(self.measured[0]) < cfg.max_linear \
                and abs(self.measured[1]) < cfg.max_angular
        if not still:
            self._stopped_since = None
        elif self._stopped_since is None:
            self._stopped_since = t

    # Decision -------------------------------------------------------------------------------------

    @property
    def elapsed(self) -> float:
        """Return the simulated time since the first observation."""
        return 0.0 if self.start is None else self.now - self.start

    @property
    def stopped_for(self) -> float:
        """Return how long (s) the robot has been standing still."""
        return 0.0 if self._stopped_since is None else self.now - self._stopped_since

    @property
    def distance_error(self) -> float | None:
        """Return the target distance minus the stop distance, if the target was seen."""
        if self.target_distance is None:
            return None
        return self.target_distance - self.criteria.stop_distance

    def decide(self) -> Verdict | None:
        """Return the verdict once decided (then always the same one), else None."""
        if self.verdict is None:
            self.verdict = self._decide()
        return self.verdict

    def _decide(self) -> Verdict | None:
        cfg = self.criteria
        t = self.now
        if self.contacts:
            return Verdict(False, f'contact: the robot ran into {", ".join(self.contacts)}', t)
        if self.closest_stop_object is not None and self.closest_stop_object < cfg.contact_distance:
            return Verdict(False, f'contact: a {"/".join(cfg.stop_classes)} came within '
                                  f'{self.closest_stop_object:.2f} m of the camera', t)
        if self.closest_stop_object is not None and self.closest_stop_object < cfg.safety_distance:
            return Verdict(False, f'safety: a {"/".join(cfg.stop_classes)} came within '
                                  f'{self.closest_stop_object:.2f} m of the camera, inside safety_distance '
                                  f'{cfg.safety_distance:g} m', t)
        held = self.stopped_for >= cfg.hold_time
        fresh = self.target_time is not None and t - self.target_time <= cfg.truth_timeout
        if cfg.kind == 'target' and held and fresh:
            error = self.distance_error
            if abs(error) <= cfg.tolerance:
                return Verdict(True, f'stopped {self.target_distance:.2f} m from the {cfg.target_class} '
                                     f'(error {error:+.3f} m)', t, at_target=True)
            if 'reached' in self.planner_reason and self.planner_state == 'stopped':
                return Verdict(False, f'stopped {self.target_distance:.2f} m from the {cfg.target_class}: '
                                      f'outside {cfg.stop_distance:g} +/- {cfg.tolerance:g} m', t,
                               at_target=True)
        if cfg.kind == 'stop_for' and held and self.planner_state == 'stopped' and \
                any(name in self.planner_reason for name in cfg.stop_classes):
            where = f'{self.stop_object_distance:.2f} m' if self.stop_object_distance is not None \
                else 'out of view'
            return Verdict(True, f'stopped for a {"/".join(cfg.stop_classes)} ({where} from the camera, '
                                 f'planner: {self.planner_reason})', t)
        if cfg.kind == 'stop_for' and held and self.planner_state == 'stopped' and \
                'reached' in self.planner_reason:
            return Verdict(False, f'reached the {cfg.target_class} without stopping for the '
                                  f'{"/".join(cfg.stop_classes)} (closest '
                                  f'{self.closest_stop_object or float("nan"):.2f} m)', t)
        if cfg.kind == 'follow':
            unseen = max(self.longest_unseen, t - self.target_time) if self.target_time is not None else t
            if self.target_time is not None and unseen > cfg.lost_limit:
                return Verdict(False, f'lost the {cfg.target_class}: out of view for {unseen:.1f} s '
                                      f'(limit {cfg.lost_limit:g} s)', t)
            if self.elapsed >= cfg.time_limit:
                error = self.distance_error
                if fresh and error is not None and abs(error) <= cfg.follow_tolerance:
                    return Verdict(True, f'followed the {cfg.target_class} for {self.elapsed:.1f} s: '
                                         f'{self.target_distance:.2f} m away at the end '
                                         f'(error {error:+.2f} m)', t)
                return Verdict(False, f'followed the {cfg.target_class} for {self.elapsed:.1f} s, but at the '
                                      'end it was ' + ('out of view' if not fresh or error is None
                                                       else f'{self.target_distance:.2f} m away'), t)
            return None
        if self.elapsed >= cfg.time_limit:
            return Verdict(False, f'time limit of {cfg.time_limit:g} s (sim) reached; planner '
                                  f'{self.planner_state or "silent"}'
                                  + (f' ({self.planner_reason})' if self.planner_reason else ''), t)
        return None
