"""The simulated world: a floor, a differential-drive robot with a camera, and objects of four classes.

`sample_world(scenario, seed, camera)` draws everything a scenario leaves open (exact positions,
yaw, sizes, colours, lighting) from the seed into a `WorldSpec`; `world_xml` writes it as MJCF;
`World` compiles it and keeps the indices the simulator, the renderer and the data generator need.
The same seed and scenario always give the same world. Objects are static and collide with the
robot only (the robot is moved kinematically, see robot.py); the person is an articulated figure
of capsules (legs, torso, arms on hinges, head) whose limb angles can be set. Objects with a
route (a scenario `path`) are moved along it by `World.move_objects(t)`, which the simulator
calls every step; their names, and so their ground-truth ids, never change.
"""

from __future__ import annotations

from collections.abc import Sequence
import colorsys
from dataclasses import dataclass, field
import math
import random

import numpy as np

from physical_ai.core.errors import ConfigError
from physical_ai.core.sim.camera import CameraSpec
from physical_ai.core.sim.gl import load_mujoco
from physical_ai.core.sim.paths import gait, route_pose
from physical_ai.core.sim.scenario import CLASSES, Scenario

mujoco = load_mujoco()

# Nominal heights (m), the planner's class_heights defaults; sizes are drawn around them.
NOMINAL_HEIGHTS = {'person': 1.7, 'ball': 0.25, 'box': 0.4, 'cylinder': 0.6}
# Robot footprint: every robot geom stays inside this radius, so turning in place never collides.
ROBOT_RADIUS = 0.2
WHEEL_RADIUS = 0.05
WHEEL_SEPARATION = 0.32
# Collision bits: the robot (contype 2) hits objects (conaffinity 2); nothing else collides.
_ROBOT_COLLISION = 'contype="2" conaffinity="0"'
_OBJECT_COLLISION = 'contype="0" conaffinity="2"'
RGBA = tuple[float, float, float, float]


@dataclass(frozen=True)
class ObjectSpec:
    """One object as built: class, pose on the floor, size (see scenario.py) and colours per part.

    Colours: ball/box/cylinder (main,); person (shirt, trousers, skin). `limbs` are the person's
    hinge angles (left arm, right arm, left leg, right leg) in rad, positive swinging forward.
    """

    name: str
    class_name: str
    x: float
    y: float
    yaw: float
    size: tuple[float, ...]
    colours: tuple[RGBA, ...]
    limbs: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)
    route: tuple[tuple[float, float], ...] = ()  # walked from (x, y): see paths.py
    speed: float = 0.0
    loop: bool = False

    @property
    def moving(self) -> bool:
        """Return True when the object walks a route."""
        return len(self.route) > 1 and self.speed > 0.0

    def pose(self, t: float) -> tuple[float, float, float]:
        """Return (x, y, yaw) at sim time `t`: on its route, else where it stands."""
        return route_pose(self.route, self.speed, t, self.loop) if self.moving else (self.x, self.y, self.yaw)

    @property
    def height(self) -> float:
        """Return the object's height (m)."""
        return self.size[0] if self.class_name in ('person', 'ball') else self.size[-1]

    @property
    def radius(self) -> float:
        """Return the radius (m) of a circle around the object's footprint."""
        if self.class_name == 'person':
            return 0.3 * self.size[0] / 1.75
        if self.class_name == 'box':
            return math.hypot(self.size[0], self.size[1]) / 2.0
        return self.size[0] / 2.0


@dataclass(frozen=True)
class Lighting:
    """A directional light (direction, diffuse) and the headlight's ambient and diffuse levels."""

    direction: tuple[float, float, float] = (0.3, 0.2, -1.0)
    diffuse: float = 0.7
    ambient: float = 0.35
    headlight: float = 0.2


@dataclass(frozen=True)
class WorldSpec:
    """Everything needed to build one world."""

    objects: tuple[ObjectSpec, ...]
    camera: CameraSpec = field(default_factory=CameraSpec)
    start_pose: tuple[float, float, float] = (0.0, 0.0, 0.0)
    lighting: Lighting = field(default_factory=Lighting)
    floor: tuple[RGBA, RGBA] = ((0.42, 0.42, 0.40, 1.0), (0.52, 0.52, 0.50, 1.0))
    sky: tuple[RGBA, RGBA] = ((0.55, 0.68, 0.85, 1.0), (0.92, 0.93, 0.95, 1.0))
    timestep: float = 0.002
    target: str = ''

    def object(self, name: str) -> ObjectSpec:
        """Return the object called `name`."""
        for obj in self.objects:
            if obj.name == name:
                return obj
        raise KeyError(name)


# Sampling ------------------------------------------------------------------------------------

def random_size(class_name: str, rng: random.Random) -> tuple[float, ...]:
    """Return a size drawn around the class's nominal height."""
    if class_name == 'person':
        return (rng.uniform(1.6, 1.85),)
    if class_name == 'ball':
        return (rng.uniform(0.22, 0.28),)
    if class_name == 'box':
        return (rng.uniform(0.3, 0.6), rng.uniform(0.3, 0.6), rng.uniform(0.32, 0.48))
    return (rng.uniform(0.2, 0.4), rng.uniform(0.5, 0.7))


def _hsv(rng: random.Random, s: tuple[float, float], v: tuple[float, float]) -> RGBA:
    r, g, b = colorsys.hsv_to_rgb(rng.random(), rng.uniform(*s), rng.uniform(*v))
    return (round(r, 4), round(g, 4), round(b, 4), 1.0)


_SKIN = ((0.96, 0.80, 0.69), (0.88, 0.67, 0.53), (0.76, 0.57, 0.42), (0.55, 0.38, 0.26), (0.36, 0.24, 0.16))


def random_colours(class_name: str, rng: random.Random,
                   main: Sequence[float] | None = None) -> tuple[RGBA, ...]:
    """Return colours per part for a class; `main` (r, g, b) fixes the first one."""
    if class_name == 'ball':
        colours = [_hsv(rng, (0.6, 1.0), (0.6, 1.0))]
    elif class_name == 'box':
        colours = [_hsv(rng, (0.2, 0.7), (0.35, 0.85))]
    elif class_name == 'cylinder':
        colours = [_hsv(rng, (0.3, 0.9), (0.3, 0.9))]
    else:
        skin = rng.choice(_SKIN)
        colours = [_hsv(rng, (0.2, 0.9), (0.25, 0.95)), _hsv(rng, (0.1, 0.6), (0.1, 0.5)),
                   (*skin, 1.0)]
    if main is not None:
        colours[0] = (float(main[0]), float(main[1]), float(main[2]), 1.0)
    return tuple(colours)


def random_limbs(rng: random.Random, walking: float = 0.15) -> tuple[float, float, float, float]:
    """Return person limb angles: arms and legs swinging in opposition up to `walking` rad."""
    swing = rng.uniform(-walking, walking)
    arms = (rng.uniform(-0.1, 0.1), rng.uniform(-0.1, 0.1))
    return (round(arms[0] - swing, 4), round(arms[1] + swing, 4), round(swing, 4), round(-swing, 4))


def random_lighting(rng: random.Random) -> Lighting:
    """Return a sun direction (elevation 35-80 degrees, any azimuth) and light levels."""
    azimuth, elevation = rng.uniform(-math.pi, math.pi), math.radians(rng.uniform(35.0, 80.0))
    direction = (-math.cos(elevation) * math.cos(azimuth), -math.cos(elevation) * math.sin(azimuth),
                 -math.sin(elevation))
    return Lighting(tuple(round(c, 4) for c in direction), round(rng.uniform(0.5, 0.9), 4),
                    round(rng.uniform(0.25, 0.45), 4), round(rng.uniform(0.1, 0.3), 4))


def random_floor(rng: random.Random) -> tuple[RGBA, RGBA]:
    """Return the two colours of the floor's checker pattern (muted greys and tints)."""
    base = _hsv(rng, (0.0, 0.25), (0.3, 0.6))
    other = tuple(min(1.0, round(c * rng.uniform(1.1, 1.3), 4)) for c in base[:3])
    return base, (*other, 1.0)


def sample_world(scenario: Scenario, seed: int, camera: CameraSpec | None = None,
                 timestep: float = 0.002) -> WorldSpec:
    """Draw a world from a scenario and a seed: the same arguments always give the same world."""
    rng = random.Random(f'physical_ai.sim:{seed}')
    camera = camera or CameraSpec()
    objects: list[ObjectSpec] = []
    counts = dict.fromkeys(CLASSES, 0)
    taken = {o.name for o in scenario.objects if o.name}
    target = ''

    def next_name(class_name: str) -> str:
        while True:
            name = f'{class_name}_{counts[class_name]}'
            counts[class_name] += 1
            if name not in taken:
                taken.add(name)
                return name

    for entry in scenario.objects:
        jitter = scenario.jitter if entry.jitter is None else entry.jitter
        radius, angle = jitter * math.sqrt(rng.random()), rng.uniform(-math.pi, math.pi)
        x, y = entry.position[0] + radius * math.cos(angle), entry.position[1] + radius * math.sin(angle)
        yaw = rng.uniform(-math.pi, math.pi) if entry.yaw is None else entry.yaw
        size = entry.size or random_size(entry.class_name, rng)
        colours = random_colours(entry.class_name, rng, entry.color)
        limbs = random_limbs(rng) if entry.class_name == 'person' else (0.0, 0.0, 0.0, 0.0)
        name = entry.name or next_name(entry.class_name)
        dx, dy = x - entry.position[0], y - entry.position[1]
        route = ((round(x, 6), round(y, 6)),) + tuple((round(px + dx, 6), round(py + dy, 6))
                                                      for px, py in entry.path) if entry.path else ()
        objects.append(ObjectSpec(name, entry.class_name, round(x, 6), round(y, 6), round(yaw, 6),
                                  tuple(round(s, 6) for s in size), colours, limbs, route, entry.speed,
                                  entry.loop))
        if entry.target:
            target = name
    extra = scenario.random_objects
    start_x, start_y = scenario.start_pose[0], scenario.start_pose[1]
    for _ in range(extra.count):
        class_name = rng.choice(extra.classes)
        size = random_size(class_name, rng)
        probe = ObjectSpec('', class_name, 0.0, 0.0, 0.0, size, ())
        for _attempt in range(50):
            x, y = rng.uniform(extra.area[0], extra.area[1]), rng.uniform(extra.area[2], extra.area[3])
            clear_of_robot = math.hypot(x - start_x, y - start_y) > probe.radius + ROBOT_RADIUS + 0.5
            if clear_of_robot and all(math.hypot(x - o.x, y - o.y) > probe.radius + o.radius + 0.2
                                      for o in objects):
                break
        limbs = random_limbs(rng) if class_name == 'person' else (0.0, 0.0, 0.0, 0.0)
        objects.append(ObjectSpec(next_name(class_name), class_name, round(x, 6), round(y, 6),
                                  round(rng.uniform(-math.pi, math.pi), 6), tuple(round(s, 6) for s in size),
                                  random_colours(class_name, rng), limbs))
    if scenario.lighting == 'random':
        lighting, floor = random_lighting(rng), random_floor(rng)
    else:
        lighting, floor = Lighting(), WorldSpec.floor
    return WorldSpec(tuple(objects), camera, scenario.start_pose, lighting, floor, timestep=timestep,
                     target=target)


# MJCF ----------------------------------------------------------------------------------------

def _f(*values: float) -> str:
    return ' '.join(f'{v:.6g}' for v in values)


def _object_xml(obj: ObjectSpec) -> str:
    c = obj.colours
    head = (f'<body name="{obj.name}" pos="{_f(obj.x, obj.y, 0.0)}" euler="{_f(0.0, 0.0, obj.yaw)}">')
    geom = f'{_OBJECT_COLLISION} group="1"'
    if obj.class_name == 'ball':
        r = obj.size[0] / 2.0
        body = f'<geom name="{obj.name}/ball" type="sphere" size="{_f(r)}" pos="{_f(0, 0, r)}" ' \
               f'rgba="{_f(*c[0])}" {geom}/>'
    elif obj.class_name == 'box':
        length, width, height = obj.size
        body = f'<geom name="{obj.name}/box" type="box" size="{_f(length / 2, width / 2, height / 2)}" ' \
               f'pos="{_f(0, 0, height / 2)}" rgba="{_f(*c[0])}" {geom}/>'
    elif obj.class_name == 'cylinder':
        diameter, height = obj.size
        body = f'<geom name="{obj.name}/cylinder" type="cylinder" size="{_f(diameter / 2, height / 2)}" ' \
               f'pos="{_f(0, 0, height / 2)}" rgba="{_f(*c[0])}" {geom}/>'
    else:
        body = _person_xml(obj, geom)
    return f'{head}{body}</body>'


def _person_xml(obj: ObjectSpec, geom: str) -> str:
    """Return the figure: legs and arms on hinges (swinging about y), torso and head, height H."""
    h = obj.size[0]
    s = h / 1.75
    shirt, trousers, skin = obj.colours
    hip, leg_r, arm_r = 0.5 * h, 0.065 * s, 0.045 * s
    torso_r, head_r = 0.14 * s, 0.105 * s
    shoulder = 0.8 * h
    parts = [
        f'<geom name="{obj.name}/torso" type="capsule" size="{_f(torso_r)}" '
        f'fromto="{_f(0, 0, hip + torso_r)}  {_f(0, 0, shoulder - 0.3 * torso_r)}" '
        f'rgba="{_f(*shirt)}" {geom}/>',
        f'<geom name="{obj.name}/head" type="sphere" size="{_f(head_r)}" pos="{_f(0, 0, h - head_r)}" '
        f'rgba="{_f(*skin)}" {geom}/>',
    ]
    arm_y = torso_r + arm_r + 0.01 * s
    for side, sign in (('left', 1.0), ('right', -1.0)):
        parts.append(
            f'<body name="{obj.name}/{side}_leg" pos="{_f(0, sign * 0.09 * s, hip)}">'
            f'<joint name="{obj.name}/{side}_hip" type="hinge" axis="0 -1 0"/>'
            f'<geom name="{obj.name}/{side}_leg" type="capsule" size="{_f(leg_r)}" '
            f'fromto="0 0 0 {_f(0, 0, leg_r - hip)}" rgba="{_f(*trousers)}" {geom}/></body>')
        parts.append(
            f'<body name="{obj.name}/{side}_arm" pos="{_f(0, sign * arm_y, shoulder)}">'
            f'<joint name="{obj.name}/{side}_shoulder" type="hinge" axis="0 -1 0"/>'
            f'<geom name="{obj.name}/{side}_arm" type="capsule" size="{_f(arm_r)}" '
            f'fromto="0 0 0 {_f(0, 0, -0.36 * h)}" rgba="{_f(*shirt)}" {geom}/>'
            f'<geom name="{obj.name}/{side}_hand" type="sphere" size="{_f(arm_r * 1.15)}" '
            f'pos="{_f(0, 0, -0.36 * h - arm_r)}" rgba="{_f(*skin)}" {geom}/></body>')
    return ''.join(parts)


def _robot_xml(camera: CameraSpec) -> str:
    c = math.cos(camera.pitch)
    s = math.sin(camera.pitch)
    geom = f'{_ROBOT_COLLISION} group="2"'
    wheels = ''.join(
        f'<body name="robot/{side}_wheel" pos="{_f(0, sign * WHEEL_SEPARATION / 2, WHEEL_RADIUS)}">'
        f'<joint name="robot/{side}_wheel" type="hinge" axis="0 1 0"/>'
        f'<geom name="robot/{side}_wheel" type="cylinder" size="{_f(WHEEL_RADIUS, 0.012)}" '
        f'euler="1.5708 0 0" rgba="0.1 0.1 0.1 1" {geom}/>'
        f'<geom name="robot/{side}_hub" type="box" size="0.035 0.013 0.008" rgba="0.6 0.6 0.6 1" {geom}/>'
        '</body>'
        for side, sign in (('left', 1.0), ('right', -1.0)))
    mast_z = camera.mount_z / 2.0 + 0.06
    mast_half = max(0.01, camera.mount_z / 2.0 - 0.06)
    return (
        '<body name="robot">'
        '<joint name="robot/x" type="slide" axis="1 0 0"/><joint name="robot/y" type="slide" axis="0 1 0"/>'
        '<joint name="robot/yaw" type="hinge" axis="0 0 1"/>'
        f'<geom name="robot/chassis" type="cylinder" size="{_f(ROBOT_RADIUS - 0.005, 0.04)}" pos="0 0 0.1" '
        f'rgba="0.85 0.85 0.88 1" {geom}/>'
        f'<geom name="robot/deck" type="cylinder" size="{_f(ROBOT_RADIUS - 0.03, 0.005)}" pos="0 0 0.145" '
        f'rgba="0.2 0.2 0.22 1" {geom}/>'
        f'<geom name="robot/caster" type="sphere" size="0.025" pos="-0.14 0 0.025" rgba="0.3 0.3 0.3 1" '
        f'{geom}/>'
        f'<geom name="robot/mast" type="box" size="{_f(0.015, 0.02, mast_half)}" '
        f'pos="{_f(camera.mount_x - 0.035, 0, mast_z)}" rgba="0.3 0.3 0.3 1" {geom}/>'
        f'<geom name="robot/camera_body" type="box" size="0.015 0.03 0.02" '
        f'pos="{_f(camera.mount_x - 0.02, 0, camera.mount_z)}" rgba="0.1 0.1 0.1 1" {geom}/>'
        f'{wheels}'
        f'<camera name="camera" pos="{_f(camera.mount_x, 0, camera.mount_z)}" '
        f'xyaxes="{_f(0, -1, 0, s, 0, c)}" fovy="{_f(camera.fovy)}"/>'
        '</body>')


def world_xml(spec: WorldSpec) -> str:
    """Return the MJCF text of a world."""
    light = spec.lighting
    floor1, floor2 = spec.floor
    sky1, sky2 = spec.sky
    objects = ''.join(_object_xml(o) for o in spec.objects)
    return (
        '<mujoco model="physical_ai_world"><compiler angle="radian" autolimits="true"/>'
        f'<option timestep="{_f(spec.timestep)}"/>'
        f'<statistic extent="12" center="0 0 1"/>'
        '<visual>'
        f'<global offwidth="{spec.camera.width}" offheight="{spec.camera.height}"/>'
        # No shadows (they double the software renderer's time per frame); multisampling only when
        # asked (4 samples made llvmpipe about 3x slower, measured).
        f'<quality shadowsize="0" offsamples="{spec.camera.samples}"/>'
        '<map znear="0.005" zfar="10"/>'
        f'<headlight ambient="{_f(light.ambient, light.ambient, light.ambient)}" '
        f'diffuse="{_f(light.headlight, light.headlight, light.headlight)}" specular="0 0 0"/>'
        '</visual>'
        '<asset>'
        f'<texture name="floor" type="2d" builtin="checker" rgb1="{_f(*floor1[:3])}" '
        f'rgb2="{_f(*floor2[:3])}" width="256" height="256"/>'
        '<material name="floor" texture="floor" texrepeat="80 80" reflectance="0"/>'
        f'<texture name="sky" type="skybox" builtin="gradient" rgb1="{_f(*sky1[:3])}" rgb2="{_f(*sky2[:3])}" '
        'width="64" height="64"/>'
        '</asset>'
        '<worldbody>'
        f'<light name="sun" directional="true" castshadow="false" dir="{_f(*light.direction)}" '
        f'diffuse="{_f(light.diffuse, light.diffuse, light.diffuse)}" specular="0.1 0.1 0.1"/>'
        '<geom name="floor" type="plane" size="40 40 0.05" material="floor" contype="1" conaffinity="1"/>'
        f'{_robot_xml(spec.camera)}{objects}'
        '</worldbody></mujoco>')


# The compiled world --------------------------------------------------------------------------

class World:
    """A compiled world: MuJoCo model and data, and the maps from geoms to objects."""

    def __init__(self, spec: WorldSpec) -> None:
        self.spec = spec
        self.xml = world_xml(spec)
        try:
            self.model = mujoco.MjModel.from_xml_string(self.xml)
        except ValueError as err:
            raise ConfigError(f'the world could not be built: {err}') from err
        self.data = mujoco.MjData(self.model)
        m = self.model
        self.camera_id = mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_CAMERA, 'camera')
        self.names = tuple(o.name for o in spec.objects)
        self.classes = tuple(o.class_name for o in spec.objects)
        joints = ('robot/x', 'robot/y', 'robot/yaw', 'robot/left_wheel', 'robot/right_wheel')
        self._qpos = {name: int(m.jnt_qposadr[mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_JOINT, name)])
                      for name in joints}
        self._bodies = [mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_BODY, o.name) for o in spec.objects]
        # geom id -> object index (-1: floor, robot); one extra entry maps the background id -1.
        self.geom_object = np.full(m.ngeom + 1, -1, dtype=np.int32)
        self._geom_parts: list[list[tuple[int, int]]] = [[] for _ in spec.objects]
        for geom in range(m.ngeom):
            name = mujoco.mj_id2name(m, mujoco.mjtObj.mjOBJ_GEOM, geom) or ''
            owner, _, part = name.partition('/')
            if owner in self.names and owner != 'robot':
                index = self.names.index(owner)
                self.geom_object[geom] = index
                self._geom_parts[index].append((geom, _part_colour(spec.objects[index].class_name, part)))
        self.robot_geoms = np.array([g for g in range(m.ngeom) if (mujoco.mj_id2name(
            m, mujoco.mjtObj.mjOBJ_GEOM, g) or '').startswith('robot/')], dtype=np.int32)
        self._is_robot_geom = np.zeros(m.ngeom, dtype=bool)
        self._is_robot_geom[self.robot_geoms] = True
        self._limb_qpos: dict[int, list[int]] = {}
        for index, obj in enumerate(spec.objects):
            if obj.class_name == 'person':
                self.set_limbs(index, obj.limbs)
        self.moving = tuple(i for i, o in enumerate(spec.objects) if o.moving)
        self.move_objects(0.0)
        self.set_robot_pose(*spec.start_pose)
        self.update()

    # Robot -------------------------------------------------------------------------------------

    def set_robot_pose(self, x: float, y: float, yaw: float, left_wheel: float = 0.0,
                       right_wheel: float = 0.0) -> None:
        """Place the robot (call `update` before reading positions or contacts)."""
        q = self.data.qpos
        q[self._qpos['robot/x']], q[self._qpos['robot/y']], q[self._qpos['robot/yaw']] = x, y, yaw
        q[self._qpos['robot/left_wheel']], q[self._qpos['robot/right_wheel']] = left_wheel, right_wheel

    def update(self) -> None:
        """Recompute positions, camera pose and contacts from the current placement."""
        mujoco.mj_fwdPosition(self.model, self.data)

    def robot_contacts(self) -> tuple[str, ...]:
        """Return the names of the objects the robot touches or penetrates now (after `update`)."""
        ncon = self.data.ncon
        if ncon == 0:
            return ()
        contacts = self.data.contact
        hits = set()
        for g1, g2 in zip(contacts.geom1[:ncon], contacts.geom2[:ncon], strict=True):
            if self._is_robot_geom[g1] != self._is_robot_geom[g2]:
                other = g2 if self._is_robot_geom[g1] else g1
                if self.geom_object[other] >= 0:
                    hits.add(self.names[self.geom_object[other]])
        return tuple(sorted(hits))

    # Camera and objects ------------------------------------------------------------------------

    def camera_pose(self) -> tuple[np.ndarray, np.ndarray]:
        """Return the camera's position (3,) and rotation (3, 3; columns = camera axes) in the world."""
        return (self.data.cam_xpos[self.camera_id].copy(),
                self.data.cam_xmat[self.camera_id].reshape(3, 3).copy())

    def object_centre(self, index: int) -> np.ndarray:
        """Return the centre (3,) of an object in the world: its footprint centre at half height."""
        body = self._bodies[index]
        centre = self.data.xpos[body].copy()
        centre[2] += self.spec.objects[index].height / 2.0
        return centre

    def object_rotation(self, index: int) -> np.ndarray:
        """Return an object's rotation in the world (3, 3; columns = its axes), after `update`."""
        return self.data.xmat[self._bodies[index]].reshape(3, 3).copy()

    def to_optical(self, points: np.ndarray) -> np.ndarray:
        """Return world points (n, 3) in the camera optical frame (x right, y down, z forward)."""
        position, rotation = self.camera_pose()
        local = (np.asarray(points, dtype=float) - position) @ rotation  # rotation.T @ p, row-wise
        return local * np.array([1.0, -1.0, -1.0])

    def set_object_pose(self, index: int, x: float, y: float, yaw: float) -> None:
        """Move a (static) object on the floor; call `update` afterwards."""
        body = self._bodies[index]
        self.model.body_pos[body] = (x, y, 0.0)
        self.model.body_quat[body] = (math.cos(yaw / 2.0), 0.0, 0.0, math.sin(yaw / 2.0))

    def set_object_visible(self, index: int, visible: bool) -> None:
        """Show or hide an object (hidden geoms are drawn neither in RGB nor in segmentation)."""
        for geom, _ in self._geom_parts[index]:
            self.model.geom_rgba[geom, 3] = 1.0 if visible else 0.0

    def set_object_colours(self, index: int, colours: Sequence[RGBA]) -> None:
        """Recolour an object's parts (colours as in ObjectSpec.colours)."""
        for geom, part in self._geom_parts[index]:
            alpha = self.model.geom_rgba[geom, 3]
            self.model.geom_rgba[geom] = (*colours[part][:3], alpha)

    def set_limbs(self, index: int, limbs: Sequence[float]) -> None:
        """Set a person's hinge angles (left arm, right arm, left leg, right leg), rad."""
        addresses = self._limb_qpos.get(index)
        if addresses is None:
            name = self.names[index]
            joints = ('left_shoulder', 'right_shoulder', 'left_hip', 'right_hip')
            addresses = [int(self.model.jnt_qposadr[mujoco.mj_name2id(
                self.model, mujoco.mjtObj.mjOBJ_JOINT, f'{name}/{joint}')]) for joint in joints]
            self._limb_qpos[index] = addresses
        for address, angle in zip(addresses, limbs, strict=True):
            self.data.qpos[address] = angle

    def move_objects(self, t: float) -> None:
        """Put every walking object where its route has it at sim time `t` (then call `update`)."""
        for index in self.moving:
            obj = self.spec.objects[index]
            x, y, yaw = obj.pose(t)
            self.set_object_pose(index, x, y, yaw)
            if obj.class_name == 'person':
                self.set_limbs(index, gait(t, obj.speed, obj.height))

    def set_lighting(self, lighting: Lighting) -> None:
        """Change the sun and headlight (takes effect at the next render)."""
        direction = np.asarray(lighting.direction, dtype=float)
        self.model.light_dir[0] = direction / np.linalg.norm(direction)
        self.model.light_diffuse[0] = (lighting.diffuse,) * 3
        self.model.vis.headlight.ambient = (lighting.ambient,) * 3
        self.model.vis.headlight.diffuse = (lighting.headlight,) * 3


def _part_colour(class_name: str, part: str) -> int:
    """Return which of an object's colours a geom wears."""
    if class_name != 'person':
        return 0
    if part.endswith('leg'):
        return 1
    if part in ('head',) or part.endswith('hand'):
        return 2
    return 0
