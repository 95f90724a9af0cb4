"""What an rviz2 config subscribes to, and whether a ROS graph offers it (plain Python, no rclpy).

rviz2 cannot run without a display, but its config says everything it will subscribe to: each
display's class, topic and QoS. `subscriptions` reads that from a .rviz file, the way rviz2
resolves it (relative topics in rviz2's namespace, the profile's remappings, the TF display on
/tf and /tf_static, the Camera display's camera_info beside its image); `check` compares it with
the publishers of a graph: a missing topic, another type or a QoS that cannot match (a reliable
or transient local subscription and a publisher that is neither) is a problem named in one line.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from physical_ai.core.environment import config_dir
from physical_ai.core.errors import ConfigError

# Message type of each display class with a topic (rviz_default_plugins).
DISPLAY_TYPES = {
    'rviz_default_plugins/Camera': 'sensor_msgs/msg/Image',
    'rviz_default_plugins/Image': 'sensor_msgs/msg/Image',
    'rviz_default_plugins/Marker': 'visualization_msgs/msg/Marker',
    'rviz_default_plugins/MarkerArray': 'visualization_msgs/msg/MarkerArray',
    'rviz_default_plugins/Odometry': 'nav_msgs/msg/Odometry',
    'rviz_default_plugins/Path': 'nav_msgs/msg/Path',
    'rviz_default_plugins/PointStamped': 'geometry_msgs/msg/PointStamped',
    'rviz_default_plugins/Pose': 'geometry_msgs/msg/PoseStamped',
    'rviz_default_plugins/RobotModel': 'std_msgs/msg/String',
}
# Displays that subscribe to nothing, or only through TF.
NO_TOPIC = frozenset({'rviz_default_plugins/Grid', 'rviz_default_plugins/Axes'})
TF_DISPLAY = 'rviz_default_plugins/TF'


def default_config() -> Path:
    """Return the shipped rviz2 config."""
    return config_dir() / 'rviz' / 'physical_ai.rviz'


@dataclass(frozen=True)
class Subscription:
    """One subscription rviz2 makes for a display (topic as written in the config)."""

    display: str
    topic: str
    type_name: str
    reliable: bool = True
    transient_local: bool = False


@dataclass(frozen=True)
class Endpoint:
    """One publisher in the graph: its type and QoS."""

    type_name: str
    reliable: bool
    transient_local: bool


def load_config(path: str | Path) -> dict[str, Any]:
    """Read a .rviz file (YAML); raise ConfigError when it is not one."""
    try:
        data = yaml.safe_load(Path(path).read_text())
    except (OSError, yaml.YAMLError) as err:
        raise ConfigError(f'{path}: cannot read the rviz config ({err})') from err
    if not isinstance(data, dict) or not isinstance(data.get('Visualization Manager'), dict):
        raise ConfigError(f'{path}: not an rviz config (no "Visualization Manager")')
    return data


def _qos(topic: Mapping[str, Any]) -> tuple[bool, bool]:
    return (topic.get('Reliability Policy', 'Reliable') == 'Reliable',
            topic.get('Durability Policy', 'Volatile') == 'Transient Local')


def subscriptions(config: Mapping[str, Any], where: str = 'rviz config') -> list[Subscription]:
    """Return every subscription the config's enabled displays make; unknown display classes are errors."""
    out: list[Subscription] = []
    for display in config['Visualization Manager'].get('Displays') or []:
        cls, name = display.get('Class', ''), display.get('Name', '?')
        if not display.get('Enabled', True) or cls in NO_TOPIC:
            continue
        if cls == TF_DISPLAY:
            out += [Subscription(name, '/tf', 'tf2_msgs/msg/TFMessage'),
                    Subscription(name, '/tf_static', 'tf2_msgs/msg/TFMessage', transient_local=True)]
            continue
        if cls not in DISPLAY_TYPES:
            raise ConfigError(f'{where}: display {name!r}: class {cls!r} is not known to the checker; '
                              f'known: {", ".join(sorted([*DISPLAY_TYPES, *NO_TOPIC, TF_DISPLAY]))}')
        key = 'Description Topic' if cls == 'rviz_default_plugins/RobotModel' else 'Topic'
        topic = display.get(key) or {}
        if not topic.get('Value'):
            raise ConfigError(f'{where}: display {name!r} has no {key}')
        out.append(Subscription(name, topic['Value'], DISPLAY_TYPES[cls], *_qos(topic)))
        if cls == 'rviz_default_plugins/Camera':  # image_transport: camera_info beside the image
            folder, _, _ = topic['Value'].rpartition('/')
            info = f'{folder}/camera_info' if folder else 'camera_info'
            out.append(Subscription(name, info, 'sensor_msgs/msg/CameraInfo', False))
    return out


def check(subs: Sequence[Subscription], graph: Mapping[str, Sequence[Endpoint]],
          resolve: Callable[[str], str]) -> list[str]:
    """Return one line per subscription the graph cannot serve (empty: every display gets data)."""
    problems = []
    for sub in subs:
        topic = resolve(sub.topic)
        publishers = graph.get(topic, [])
        what = f'display {sub.display!r}: {topic} ({sub.type_name})'
        if not publishers:
            problems.append(f'{what}: no publisher')
            continue
        typed = [p for p in publishers if p.type_name == sub.type_name]
        if not typed:
            found = ', '.join(sorted({p.type_name for p in publishers}))
            problems.append(f'{what}: published as {found}')
            continue
        if not any((p.reliable or not sub.reliable) and (p.transient_local or not sub.transient_local)
                   for p in typed):
            wanted = ' and '.join(w for w, on in (('reliable', sub.reliable),
                                                  ('transient local', sub.transient_local)) if on)
            problems.append(f'{what}: the display asks for {wanted}, no publisher offers it')
    return problems
