"""Scenario files: where the robot starts and which objects stand where (config/scenarios/*.yaml).

A scenario fixes the layout; the seed then draws what it leaves open (exact positions within
`jitter`, yaw, size, colour, lighting). Every key is checked: an unknown key or class is a
ConfigError naming the file and the key, before anything is built. Format (all keys but
`objects` optional):

    description: The standard demo.
    start_pose: [0.0, 0.0, 0.0]        # x, y (m), yaw (rad) of the robot in the world
    jitter: 0.2                         # default radius (m) of the random shift of each object
    lighting: random                    # random (from the seed) or fixed
    objects:
      - {class: ball, position: [5.0, 0.5], target: true}   # the target (one object at most)
      - {class: person, position: [3.0, -2.5], yaw: 1.57, size: 1.75, color: [0.2, 0.3, 0.8]}
      - {class: person, name: walker, position: [3.0, 0.0], path: [[6.0, 0.0]], speed: 0.4}
    random_objects: {count: 2, classes: [box, cylinder], area: [2.0, 9.0, -4.0, 4.0]}

Sizes: person height, ball diameter, box [length, width, height], cylinder [diameter, height] (m).
An object with a `path` (waypoints [x, y] after its position) walks it at `speed` (m/s) from the
start of the simulation, back and forth, or round and round with `loop: true` (paths.py); it
faces where it walks (its `yaw` is unused) and a person swings arms and legs. The jitter shifts
the whole route. Its name and ground-truth id stay the same all along.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
import math
import os
from pathlib import Path
from typing import Any

import yaml

from physical_ai.core.environment import config_dir
from physical_ai.core.errors import ConfigError

CLASSES = ('person', 'ball', 'box', 'cylinder')
SIZE_LENGTHS = {'person': 1, 'ball': 1, 'box': 3, 'cylinder': 2}
TOP_KEYS = ('description', 'start_pose', 'jitter', 'lighting', 'objects', 'random_objects')
OBJECT_KEYS = ('class', 'name', 'position', 'target', 'yaw', 'size', 'color', 'jitter', 'path', 'speed',
               'loop')
MAX_SPEED = 3.0  # m/s of a walking object
MAX_WAYPOINTS = 64
RANDOM_KEYS = ('count', 'classes', 'area')
LIGHTING = ('random', 'fixed')
MAX_OBJECTS = 64
RESERVED_NAMES = ('robot', 'floor', 'camera', 'sun', 'sky')


@dataclass(frozen=True)
class ObjectEntry:
    """One object of a scenario; None fields are drawn from the seed."""

    class_name: str
    position: tuple[float, float]
    name: str = ''
    target: bool = False
    yaw: float | None = None
    size: tuple[float, ...] | None = None
    color: tuple[float, float, float] | None = None
    jitter: float | None = None
    path: tuple[tuple[float, float], ...] = ()
    speed: float = 0.0
    loop: bool = False


@dataclass(frozen=True)
class RandomObjects:
    """Extra objects placed at random (from the seed) inside `area` = (x min, x max, y min, y max)."""

    count: int = 0
    classes: tuple[str, ...] = ('box', 'cylinder')
    area: tuple[float, float, float, float] = (2.0, 9.0, -4.0, 4.0)


@dataclass(frozen=True)
class Scenario:
    """A parsed, checked scenario."""

    name: str
    path: str = ''
    description: str = ''
    start_pose: tuple[float, float, float] = (0.0, 0.0, 0.0)
    jitter: float = 0.0
    lighting: str = 'random'
    objects: tuple[ObjectEntry, ...] = ()
    random_objects: RandomObjects = field(default_factory=RandomObjects)

    @property
    def target(self) -> ObjectEntry | None:
        """Return the object marked as the target, if any."""
        return next((o for o in self.objects if o.target), None)

    def with_overrides(self, target_class: str = '', person_xy: Sequence[float] = (),
                       start_pose: Sequence[float] = ()) -> Scenario:
        """Return this scenario with the target's class, the person's position or the start pose replaced.

        Empty values keep the scenario's. `person_xy` moves the first person (one is added when the
        scenario has none).
        """
        objects = list(self.objects)
        where = f'scenario {self.name}'
        if target_class:
            _check_class(target_class, f'{where}: target_class')
            index = next((i for i, o in enumerate(objects) if o.target), None)
            if index is None:
                raise ConfigError(f'{where}: target_class {target_class!r} given, but no object of the '
                                  'scenario is marked `target: true`')
            objects[index] = replace(objects[index], class_name=target_class, size=None)
        if len(person_xy):
            xy = _floats(person_xy, 2, f'{where}: person_xy')
            index = next((i for i, o in enumerate(objects) if o.class_name == 'person'), None)
            if index is None:
                objects.append(ObjectEntry('person', xy, jitter=0.0))
            else:
                objects[index] = replace(objects[index], position=xy, jitter=0.0)
        pose = self.start_pose
        if len(start_pose):
            pose = _floats(start_pose, 3, f'{where}: start_pose')
        return replace(self, objects=tuple(objects), start_pose=pose)


def scenarios_dir() -> Path:
    """Return the folder of the shipped scenarios."""
    return config_dir() / 'scenarios'


def available_scenarios() -> list[str]:
    """Return the names of the shipped scenarios."""
    folder = scenarios_dir()
    return sorted(p.stem for p in folder.glob('*.yaml')) if folder.is_dir() else []


def resolve_scenario(name_or_path: str | os.PathLike[str]) -> Path:
    """Return the file of a scenario given by path or by name in config/scenarios."""
    text = os.fspath(name_or_path)
    if not text:
        raise ConfigError('scenario: empty name; give a name in config/scenarios or a path to a YAML file')
    path = Path(text).expanduser()
    if path.is_file():
        return path
    if '/' not in text and path.suffix == '':
        candidate = scenarios_dir() / f'{text}.yaml'
        if candidate.is_file():
            return candidate
    raise ConfigError(f'scenario {text!r} not found: expected a path to a YAML file or one of '
                      f'{", ".join(available_scenarios()) or "(none shipped)"}')


def load_scenario(name_or_path: str | os.PathLike[str]) -> Scenario:
    """Read, parse and check a scenario file (by path or by name in config/scenarios)."""
    path = resolve_scenario(name_or_path)
    try:
        data = yaml.safe_load(path.read_text(encoding='utf-8'))
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f'{path}: cannot read the scenario ({err})') from err
    except yaml.YAMLError as err:
        raise ConfigError(f'{path}: not valid YAML ({err})') from err
    return parse_scenario(data, str(path), name=path.stem)


def parse_scenario(data: Any, where: str, name: str = '') -> Scenario:
    """Check a scenario's data (as loaded from YAML); `where` names the file in error messages."""
    if not isinstance(data, Mapping):
        raise ConfigError(f'{where}: expected a mapping with keys {", ".join(TOP_KEYS)}, '
                          f'got {type(data).__name__}')
    _check_keys(data, TOP_KEYS, where, 'scenario')
    description = data.get('description', '')
    if not isinstance(description, str):
        raise ConfigError(f'{where}: description: expected a string, got {description!r}')
    start_pose = _floats(data.get('start_pose', (0.0, 0.0, 0.0)), 3, f'{where}: start_pose')
    jitter = _number(data.get('jitter', 0.0), f'{where}: jitter', 0.0, 10.0)
    lighting = data.get('lighting', 'random')
    if lighting not in LIGHTING:
        raise ConfigError(f'{where}: lighting: {lighting!r} is not accepted; expected one of '
                          f'{", ".join(LIGHTING)}')
    raw_objects = data.get('objects')
    if not isinstance(raw_objects, list) or not raw_objects:
        raise ConfigError(f'{where}: objects: expected a non-empty list of objects, got {raw_objects!r}')
    objects = tuple(_parse_object(item, f'{where}: objects[{i}]') for i, item in enumerate(raw_objects))
    if sum(o.target for o in objects) > 1:
        raise ConfigError(f'{where}: more than one object is marked `target: true`; mark one')
    names = [o.name for o in objects if o.name]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ConfigError(f'{where}: object names must be unique; repeated: {", ".join(duplicates)}')
    random_objects = _parse_random(data.get('random_objects', {}), f'{where}: random_objects')
    if len(objects) + random_objects.count > MAX_OBJECTS:
        raise ConfigError(f'{where}: {len(objects) + random_objects.count} objects; at most {MAX_OBJECTS}')
    return Scenario(name or Path(where).stem, where, description, start_pose, jitter, lighting, objects,
                    random_objects)


def _parse_object(item: Any, where: str) -> ObjectEntry:
    if not isinstance(item, Mapping):
        raise ConfigError(f'{where}: expected a mapping with keys {", ".join(OBJECT_KEYS)}, got {item!r}')
    _check_keys(item, OBJECT_KEYS, where, 'object')
    if 'class' not in item or 'position' not in item:
        raise ConfigError(f'{where}: `class` and `position` are required')
    class_name = item['class']
    _check_class(class_name, f'{where}.class')
    position = _floats(item['position'], 2, f'{where}.position')
    name = item.get('name', '')
    if not isinstance(name, str) or (name and not name.replace('_', '').isalnum()):
        raise ConfigError(f'{where}.name: expected letters, digits and _, got {name!r}')
    if name in RESERVED_NAMES:
        raise ConfigError(f'{where}.name: {name!r} is reserved ({", ".join(RESERVED_NAMES)})')
    target = item.get('target', False)
    if not isinstance(target, bool):
        raise ConfigError(f'{where}.target: expected true or false, got {target!r}')
    yaw = None if item.get('yaw') is None else _number(item['yaw'], f'{where}.yaw', -10.0, 10.0)
    size = None
    if item.get('size') is not None:
        raw = item['size']
        count = SIZE_LENGTHS[class_name]
        size = _floats([raw] if count == 1 and not isinstance(raw, list) else raw, count, f'{where}.size')
        if not all(0.02 <= s <= 5.0 for s in size):
            raise ConfigError(f'{where}.size: every size must be in [0.02, 5.0] m, got {list(size)}')
    color = None
    if item.get('color') is not None:
        color = _floats(item['color'], 3, f'{where}.color')
        if not all(0.0 <= c <= 1.0 for c in color):
            raise ConfigError(f'{where}.color: expected [r, g, b] in [0, 1], got {list(color)}')
    jitter = None if item.get('jitter') is None else _number(item['jitter'], f'{where}.jitter', 0.0, 10.0)
    path, speed, loop = _parse_path(item, where)
    return ObjectEntry(class_name, position, name, target, yaw, size, color, jitter, path, speed, loop)


def _parse_path(item: Mapping[str, Any], where: str) -> tuple[tuple[tuple[float, float], ...], float, bool]:
    raw = item.get('path')
    if raw is None:
        if 'speed' in item or 'loop' in item:
            raise ConfigError(f'{where}: `speed` and `loop` need a `path` (waypoints [x, y] to walk)')
        return (), 0.0, False
    if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_WAYPOINTS:
        raise ConfigError(f'{where}.path: expected a list of 1 to {MAX_WAYPOINTS} waypoints [x, y], '
                          f'got {raw!r}')
    path = tuple(_floats(p, 2, f'{where}.path[{i}]') for i, p in enumerate(raw))
    if 'speed' not in item:
        raise ConfigError(f'{where}.speed: a path needs a walking speed in m/s')
    speed = _number(item['speed'], f'{where}.speed', 0.01, MAX_SPEED)
    loop = item.get('loop', False)
    if not isinstance(loop, bool):
        raise ConfigError(f'{where}.loop: expected true or false, got {loop!r}')
    return path, speed, loop


def _parse_random(item: Any, where: str) -> RandomObjects:
    if not isinstance(item, Mapping):
        raise ConfigError(f'{where}: expected a mapping with keys {", ".join(RANDOM_KEYS)}, got {item!r}')
    _check_keys(item, RANDOM_KEYS, where, 'random_objects')
    count = item.get('count', 0)
    if not isinstance(count, int) or isinstance(count, bool) or not 0 <= count <= MAX_OBJECTS:
        raise ConfigError(f'{where}.count: expected an integer in [0, {MAX_OBJECTS}], got {count!r}')
    classes = item.get('classes', list(RandomObjects.classes))
    if not isinstance(classes, list) or not classes:
        raise ConfigError(f'{where}.classes: expected a non-empty list of classes, got {classes!r}')
    for i, class_name in enumerate(classes):
        _check_class(class_name, f'{where}.classes[{i}]')
    area = _floats(item.get('area', list(RandomObjects.area)), 4, f'{where}.area')
    if area[0] >= area[1] or area[2] >= area[3]:
        raise ConfigError(f'{where}.area: expected [x min, x max, y min, y max] with min < max, '
                          f'got {list(area)}')
    return RandomObjects(count, tuple(classes), area)


def _check_keys(data: Mapping[str, Any], accepted: tuple[str, ...], where: str, what: str) -> None:
    for key in data:
        if key not in accepted:
            raise ConfigError(f'{where}: unknown {what} key {key!r}; accepted: {", ".join(accepted)}')


def _check_class(class_name: Any, where: str) -> None:
    if class_name not in CLASSES:
        raise ConfigError(f'{where}: unknown class {class_name!r}; accepted: {", ".join(CLASSES)}')


def _number(value: Any, where: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ConfigError(f'{where}: expected a number, got {value!r}')
    if not low <= value <= high:
        raise ConfigError(f'{where}: {value} is out of range [{low}, {high}]')
    return float(value)


def _floats(value: Any, count: int, where: str) -> tuple[float, ...]:
    if not isinstance(value, list | tuple) or len(value) != count:
        raise ConfigError(f'{where}: expected a list of {count} numbers, got {value!r}')
    return tuple(_number(v, where, -1e4, 1e4) for v in value)
