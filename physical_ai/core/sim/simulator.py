"""The simulator without ROS: a world, a differential-drive base and its camera on a fixed timestep.

    sim = Simulator('demo', seed=0, camera=CameraSpec(320, 240))
    state = sim.step((0.3, 0.1), dt=0.1)      # command applied at the step boundary, then 0.1 s
    frame = sim.render()                     # RGB image + ground-truth boxes, stamped frame.time

Time is an integer count of fixed steps, commands take effect at step boundaries and nothing
depends on the wall clock, so the same seed, scenario and command sequence always give the same
poses and the same images. The base moves kinematically within its limits (robot.py); when a
step would make it penetrate an object, the step is undone and the base stops against it, as a
bumper would. Rendering happens on the thread of the first `render()` call (EGL).
"""

from __future__ import annotations

from dataclasses import dataclass, field
import math
import os

import numpy as np

from physical_ai.core.errors import ConfigError
from physical_ai.core.sim.camera import CameraIntrinsics, CameraSpec
from physical_ai.core.sim.render import SceneRenderer, Truth
from physical_ai.core.sim.robot import BaseLimits, BaseState, DiffDrive, wrap_angle
from physical_ai.core.sim.scenario import Scenario, load_scenario
from physical_ai.core.sim.world import WHEEL_RADIUS, WHEEL_SEPARATION, World, sample_world

MIN_TIMESTEP, MAX_TIMESTEP = 0.0005, 0.02


@dataclass(frozen=True)
class SimState:
    """The robot after a step: world pose, odometry (relative to the start pose), velocities, contacts."""

    time: float
    steps: int
    x: float
    y: float
    yaw: float
    odom_x: float
    odom_y: float
    odom_yaw: float
    linear: float
    angular: float
    target: tuple[float, float] = (0.0, 0.0)
    contacts: tuple[str, ...] = ()


@dataclass(frozen=True)
class Frame:
    """A rendered camera image (h, w, 3 RGB uint8) with its sim time, ground truth and aligned depth.

    `depth`: z-depth (h, w float32, m) of the same pass, NaN where nothing is hit; None unless asked.
    """

    time: float
    time_ns: int
    image: np.ndarray
    truths: tuple[Truth, ...] = field(default=())
    depth: np.ndarray | None = None


class Simulator:
    """A seeded world with a drivable robot and its camera; see the module docstring."""

    def __init__(self, scenario: Scenario | str | os.PathLike[str] = 'demo', seed: int = 0,
                 camera: CameraSpec | None = None, timestep: float = 0.002,
                 limits: BaseLimits | None = None, min_visible_pixels: int = 4) -> None:
        if not MIN_TIMESTEP <= timestep <= MAX_TIMESTEP:
            raise ConfigError(f'timestep {timestep} s is out of range [{MIN_TIMESTEP}, {MAX_TIMESTEP}]')
        self.scenario = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
        self.seed = int(seed)
        self.camera = camera or CameraSpec()
        self.timestep_ns = round(timestep * 1e9)
        self.timestep = self.timestep_ns * 1e-9
        self.spec = sample_world(self.scenario, self.seed, self.camera, self.timestep)
        self.world = World(self.spec)
        self.base = DiffDrive(limits or BaseLimits(), self.spec.start_pose, WHEEL_RADIUS, WHEEL_SEPARATION)
        self.min_visible_pixels = min_visible_pixels
        self.steps = 0
        self.bumps = 0
        self.ignored_commands = 0
        self._contacts: tuple[str, ...] = ()
        self._renderer: SceneRenderer | None = None
        self._state = self._make_state()

    # Time and state ----------------------------------------------------------------------------

    @property
    def time_ns(self) -> int:
        """Return the sim time in nanoseconds (exact)."""
        return self.steps * self.timestep_ns

    @property
    def time(self) -> float:
        """Return the sim time in seconds."""
        return self.time_ns * 1e-9

    @property
    def state(self) -> SimState:
        """Return the state after the last step."""
        return self._state

    @property
    def intrinsics(self) -> CameraIntrinsics:
        """Return the camera's intrinsics (as published in CameraInfo)."""
        return self.camera.intrinsics

    @property
    def target(self) -> str:
        """Return the name of the scenario's target object ('' if none)."""
        return self.spec.target

    def _make_state(self) -> SimState:
        s: BaseState = self.base.state
        x0, y0, yaw0 = self.spec.start_pose
        dx, dy = s.x - x0, s.y - y0
        c, si = math.cos(yaw0), math.sin(yaw0)
        return SimState(self.time, self.steps, s.x, s.y, s.yaw, c * dx + si * dy, -si * dx + c * dy,
                        wrap_angle(s.yaw - yaw0), s.linear, s.angular, self.base.target(self.time),
                        self._contacts)

    # Stepping ----------------------------------------------------------------------------------

    def command(self, linear: float, angular: float) -> bool:
        """Set the velocity command now (sim time); False when it is not finite (then ignored)."""
        accepted = self.base.command(float(linear), float(angular), self.time)
        if not accepted:
            self.ignored_commands += 1
        return accepted

    def step(self, cmd: tuple[float, float] | None = None, dt: float | None = None) -> SimState:
        """Apply `cmd` (v, w) if given, advance by `dt` (rounded to whole steps; one step if None)."""
        if cmd is not None:
            self.command(*cmd)
        count = 1 if dt is None else max(1, round(dt / self.timestep))
        for _ in range(count):
            self._step_once()
        self._state = self._make_state()
        return self._state

    def _step_once(self) -> None:
        before = self.base.state
        after = self.base.step(self.timestep, self.time)
        self.steps += 1
        world = self.world
        if world.moving:
            world.move_objects(self.time)
        world.set_robot_pose(after.x, after.y, after.yaw, after.left_wheel, after.right_wheel)
        world.update()
        contacts = world.robot_contacts()
        if contacts:
            if after.linear or after.angular:
                self.bumps += 1
            self.base.halt(before)
            world.set_robot_pose(before.x, before.y, before.yaw, before.left_wheel, before.right_wheel)
            world.update()
        self._contacts = contacts

    # Rendering ---------------------------------------------------------------------------------

    def prepare_renderer(self) -> None:
        """Create the renderer on this thread now (raises ConfigError when no GL context can be made)."""
        if self._renderer is None:
            self._renderer = SceneRenderer(self.world, self.min_visible_pixels)

    def render(self, ground_truth: bool = True, depth: bool = False) -> Frame:
        """Return the camera image now and, if asked, the visible objects' ground truth and the depth."""
        self.prepare_renderer()
        rendered = self._renderer.render_all(ground_truth, depth)
        return Frame(self.time, self.time_ns, rendered.rgb, rendered.truths, rendered.depth)

    def close(self) -> None:
        """Release the renderer (call from the thread that rendered)."""
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None

    def __enter__(self) -> Simulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
