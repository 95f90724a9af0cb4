"""Robot profiles: one YAML file per robot, turned into the node descriptions everything starts.

`config/robots/<name>.yaml` says which nodes run, their parameters, remappings, QoS overrides,
the namespace, `use_sim_time` and the DDS profile. `load_profile` reads one, applies command-line
overrides, validates every node type and parameter against `physical_ai.params` and returns a
`Profile` whose `nodes` the launch files wrap in launch_ros actions and the runner
(`physical-ai up`) starts: the same graph from the same description. Plain Python, no rclpy.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
import os
from pathlib import Path
import re
import shlex
from typing import Any

import yaml

from physical_ai.core.environment import DDS_PROFILES, config_dir, ros_environment
from physical_ai.core.errors import ConfigError
from physical_ai.core.network import NetworkSettings, parse_network
from physical_ai.params import NODE_TYPES, check_params, node_params

PACKAGE = 'physical_ai'
PROFILE_KEYS = ('robot', 'description', 'namespace', 'use_sim_time', 'dds_profile', 'remappings', 'nodes',
                'gz_bridge', 'network')
NODE_KEYS = ('type', 'parameters', 'remappings', 'qos')
BRIDGE_KEYS = ('ros', 'gz', 'type', 'gz_type', 'direction')
# ros_gz_bridge parameter_bridge argument syntax: GZ_TOPIC@ROS_TYPE<sym>GZ_TYPE
BRIDGE_DIRECTIONS = {'gz_to_ros': '[', 'ros_to_gz': ']', 'bidirectional': '@'}
# What QoSOverridingOptions.with_default_policies() lets a profile override (every node uses it).
QOS_POLICIES = {
    'reliability': ('reliable', 'best_effort', 'system_default'),
    'history': ('keep_last', 'keep_all', 'system_default'),
    'depth': None,
}
QOS_ENTITIES = ('publisher', 'subscription')
# Node types ros2 launch restarts when they die (the runner restarts every child it supervises).
RESPAWN_TYPES = ('safety',)
# Parameters holding file paths: relative values are resolved (see `resolve_path`).
PATH_SUFFIXES = ('_path', '_file', '_url')  # values with :// are left as they are

_NAME = re.compile(r'[A-Za-z_][A-Za-z0-9_]*')
_TOPIC_TOKEN = re.compile(r'[A-Za-z_][A-Za-z0-9_]*|~|\{[A-Za-z_]+\}')


@dataclass(frozen=True)
class NodeDescription:
    """One node of a profile, fully resolved: what launch_ros `Node(...)` and the runner need."""

    name: str
    node_type: str
    executable: str
    entry: str  # 'module:Class' of the node class, for starting nodes in one process
    namespace: str = ''  # '' (root) or absolute, e.g. '/robot1'
    parameters: dict[str, Any] = field(default_factory=dict)
    remappings: list[tuple[str, str]] = field(default_factory=list)
    dds_profile: str = 'local'
    package: str = PACKAGE

    @property
    def fully_qualified_name(self) -> str:
        """Return '/namespace/name'."""
        return f'{self.namespace}/{self.name}'

    @property
    def respawn(self) -> bool:
        """Return True for a node that launch must restart when it dies (the safety gate)."""
        return self.node_type in RESPAWN_TYPES

    def resolve_topic(self, topic: str) -> str:
        """Return the fully qualified name this node gives `topic` (expanded, then remapped)."""
        resolved = expand_topic(topic, self.namespace, self.name)
        for src, dst in self.remappings:
            if expand_topic(src, self.namespace, self.name) == resolved:
                return expand_topic(dst, self.namespace, self.name)
        return resolved

    def params_yaml(self) -> str:
        """Return a ROS 2 parameters file (`--params-file`) holding this node's parameters."""
        return yaml.safe_dump({self.fully_qualified_name: {'ros__parameters': dict(self.parameters)}},
                              default_flow_style=False, sort_keys=False)

    def ros_arguments(self, params_file: str | os.PathLike[str] | None = None) -> list[str]:
        """Return `--ros-args ...` that give an executable this node's name, namespace and settings.

        Parameters go in `params_file` when one is given (write `params_yaml()` there), else as
        `-p name:=value` (YAML values; an empty list cannot be passed this way: rcl reads it as unset).
        """
        args = ['--ros-args', '-r', f'__node:={self.name}', '-r', f'__ns:={self.namespace or "/"}']
        if params_file is not None:
            args += ['--params-file', os.fspath(params_file)]
        else:
            for key, value in self.parameters.items():
                args += ['-p', f'{key}:={_yaml_value(value)}']
        for src, dst in self.remappings:
            args += ['-r', f'{src}:={dst}']
        return args


@dataclass(frozen=True)
class BridgeTopic:
    """One ros_gz_bridge topic: Gazebo topic `gz` shows up in ROS as `ros` (relative: namespaced)."""

    ros: str
    gz: str
    type: str
    gz_type: str
    direction: str = 'gz_to_ros'

    def argument(self) -> str:
        """Return the parameter_bridge argument, e.g. '/camera@sensor_msgs/msg/Image[gz.msgs.Image'."""
        return f'{self.gz}@{self.type}{BRIDGE_DIRECTIONS[self.direction]}{self.gz_type}'

    def remapping(self) -> tuple[str, str] | None:
        """Return the remapping that renames the bridge's ROS topic (named like the Gazebo one)."""
        return None if self.ros == self.gz else (self.gz, self.ros)


@dataclass(frozen=True)
class Profile:
    """A robot profile after overrides and validation."""

    name: str
    path: Path
    description: str
    namespace: str
    use_sim_time: bool
    dds_profile: str
    nodes: list[NodeDescription]
    gz_bridge: list[BridgeTopic] = field(default_factory=list)
    remappings: list[tuple[str, str]] = field(default_factory=list)  # profile-wide, in every node's too
    network: NetworkSettings = field(default_factory=NetworkSettings)  # interfaces, discovery server

    def node(self, name: str) -> NodeDescription:
        """Return the node called `name`."""
        for node in self.nodes:
            if node.name == name:
                return node
        raise KeyError(name)

    def environment(self, base: Mapping[str, str] | None = None) -> dict[str, str]:
        """Return `base` (default os.environ) with this profile's DDS and malloc settings added.

        Settings already made (a DDS profile file of the user's, for instance) are kept.
        """
        return ros_environment(self.dds_profile, base, network=self.network)

    def environment_updates(self, base: Mapping[str, str] | None = None) -> dict[str, str]:
        """Return only the variables `environment(base)` adds or changes."""
        base = dict(os.environ if base is None else base)
        return {k: v for k, v in self.environment(base).items() if base.get(k) != v}

    def bridge_arguments(self) -> list[str]:
        """Return the ros_gz_bridge parameter_bridge arguments of the profile's `gz_bridge` topics."""
        return [topic.argument() for topic in self.gz_bridge]

    def bridge_remappings(self) -> list[tuple[str, str]]:
        """Return the remappings that give the bridged topics the names the nodes use."""
        return [r for r in (topic.remapping() for topic in self.gz_bridge) if r is not None]

    def bridge_command(self) -> list[str]:
        """Return the `ros2 run ros_gz_bridge parameter_bridge ...` command for the profile."""
        args = ['ros2', 'run', 'ros_gz_bridge', 'parameter_bridge', *self.bridge_arguments(),
                '--ros-args', '-r', f'__ns:={self.namespace or "/"}']
        for src, dst in self.bridge_remappings():
            args += ['-r', f'{src}:={dst}']
        if self.use_sim_time:
            args += ['-p', 'use_sim_time:=true']
        return args


def profiles_dir() -> Path:
    """Return the folder of the shipped robot profiles."""
    return config_dir() / 'robots'


def package_root() -> Path:
    """Return the folder relative profile paths resolve against (source tree or share/physical_ai)."""
    return config_dir().parent


def available_profiles() -> list[str]:
    """Return the names of the shipped robot profiles."""
    folder = profiles_dir()
    return sorted(p.stem for p in folder.glob('*.yaml')) if folder.is_dir() else []


def profile_path(robot: str | os.PathLike[str]) -> Path:
    """Return the file of a profile given by name (config/robots/<name>.yaml) or by path."""
    text = os.fspath(robot)
    if not text:
        raise ConfigError(f'no robot profile given; available profiles: {_names()}')
    if text.endswith(('.yaml', '.yml')) or os.sep in text:
        path = Path(text).expanduser()
        if not path.is_file():
            raise ConfigError(f'robot profile file {text} does not exist')
        return path
    path = profiles_dir() / f'{text}.yaml'
    if not path.is_file():
        raise ConfigError(f'unknown robot {text!r}; available profiles: {_names()} '
                          f'(in {profiles_dir()}), or give the path of a profile file')
    return path


def _names() -> str:
    return ', '.join(available_profiles()) or '(none)'


def normalize_namespace(namespace: str, where: str = 'namespace') -> str:
    """Return '' or an absolute namespace without a trailing slash; raise ConfigError if invalid."""
    if not isinstance(namespace, str):
        raise ConfigError(f'{where}: expected a string, got {namespace!r}')
    tokens = [t for t in namespace.strip().split('/') if t]
    for token in tokens:
        if not _NAME.fullmatch(token):
            raise ConfigError(f'{where}: {namespace!r} is not a valid ROS namespace (each part must '
                              'start with a letter or _ and hold only letters, digits and _)')
    return ''.join('/' + t for t in tokens)


def expand_topic(topic: str, namespace: str, node_name: str) -> str:
    """Return the fully qualified form of a topic name used by node `node_name` in `namespace`."""
    if topic.startswith('~'):
        topic = f'{namespace}/{node_name}{topic[1:]}'
    elif not topic.startswith('/'):
        topic = f'{namespace}/{topic}'
    return topic


def parse_override(text: str) -> tuple[str, str, Any]:
    """Split a `--set NODE.PARAM=VALUE` override; VALUE is read as YAML (3 -> int, 'true' -> bool)."""
    key, sep, raw = text.partition('=')
    node, dot, param = key.strip().partition('.')
    if not sep or not dot or not node or not param:
        raise ConfigError(f'--set {text}: expected NODE.PARAM=VALUE, e.g. inference.score_threshold=0.4')
    try:
        value = yaml.safe_load(raw) if raw.strip() else ''
    except yaml.YAMLError as err:
        raise ConfigError(f'--set {text}: the value is not valid YAML ({err})') from err
    return node, param, value


def resolve_path(value: str, base: Path) -> str:
    """Return a path parameter's value made absolute against `base` ('' and URLs stay as given)."""
    if not value or '://' in value:
        return value
    path = Path(value).expanduser()
    return str(path if path.is_absolute() else (base / path).resolve())


def load_profile(robot: str | os.PathLike[str], namespace: str | None = None,
                 overrides: Iterable[str] = (), use_sim_time: bool | None = None,
                 model_path: str | None = None) -> Profile:
    """Read and validate a robot profile; apply command-line overrides; return it resolved.

    `overrides` are `NODE.PARAM=VALUE` strings (`--set`); `namespace`, `use_sim_time` and
    `model_path` (every inference node) replace the profile's. Relative `*_path`/`*_file` values
    resolve against `package_root()` in a profile and against the working directory on the
    command line. Anything the nodes would reject raises ConfigError naming file, key and problem.
    """
    path = profile_path(robot)
    data = _read(path)
    where = str(path)

    _check_keys(data, PROFILE_KEYS, where, '')
    name = data.get('robot', path.stem)
    description = data.get('description', '')
    for key, value in (('robot', name), ('description', description)):
        if not isinstance(value, str):
            raise ConfigError(f'{where}: {key}: expected a string, got {value!r}')
    ns = normalize_namespace(data.get('namespace', ''), f'{where}: namespace')
    if namespace is not None:
        ns = normalize_namespace(namespace, '--namespace')
    sim_time = data.get('use_sim_time', False)
    if not isinstance(sim_time, bool):
        raise ConfigError(f'{where}: use_sim_time: expected true or false, got {sim_time!r}')
    dds = data.get('dds_profile', 'local')
    if dds not in DDS_PROFILES:
        raise ConfigError(f'{where}: dds_profile: unknown DDS profile {dds!r}; known: '
                          f'{", ".join(DDS_PROFILES)}')
    dds = 'local' if dds == 'loopback' else dds
    network = parse_network(data.get('network'), dds, where)

    common_remaps = _remappings(data.get('remappings'), where, 'remappings')
    nodes_data = data.get('nodes')
    if not isinstance(nodes_data, Mapping) or not nodes_data:
        raise ConfigError(f'{where}: nodes: expected a mapping of node name to node settings '
                          f'(type, parameters, remappings, qos), got {nodes_data!r}')
    specs: dict[str, tuple[str, dict[str, Any], list[tuple[str, str]], dict[str, Any]]] = {}
    for node_name, node_data in nodes_data.items():
        specs[node_name] = _node_settings(node_name, node_data, where, sim_time)
        own = specs[node_name][2]
        own.extend(r for r in common_remaps if r[0] not in {src for src, _ in own})

    # Command-line settings, strongest last: --set, then --use-sim-time and --model-path.
    for text in overrides:
        node_name, param, value = parse_override(text)
        if node_name not in specs:
            raise ConfigError(f'--set {text}: the profile {where} has no node {node_name!r}; its nodes: '
                              f'{", ".join(specs)}')
        node_type, params, _, _ = specs[node_name]
        checked = _check_param(node_type, param, value, f'--set {text}')
        params[param] = _resolve_paths(param, checked, Path.cwd())
    if use_sim_time is not None:
        for _, params, _, _ in specs.values():
            params['use_sim_time'] = bool(use_sim_time)
    if model_path is not None:
        targets = [params for node_type, params, _, _ in specs.values() if node_type == 'inference']
        if not targets:
            raise ConfigError(f'--model-path: the profile {where} has no inference node')
        for params in targets:
            params['model_path'] = resolve_path(model_path, Path.cwd())

    nodes = []
    for node_name, (node_type, params, remaps, qos) in specs.items():
        _, executable, entry = NODE_TYPES[node_type]
        node = NodeDescription(name=node_name, node_type=node_type, executable=executable, entry=entry,
                               namespace=ns, parameters=params, remappings=remaps, dds_profile=dds)
        params.update(_qos_parameters(node, qos))
        nodes.append(node)
    bridge = _bridge(data.get('gz_bridge', []), where)
    return Profile(name=name, path=path, description=description, namespace=ns,
                   use_sim_time=all(n.parameters.get('use_sim_time', False) for n in nodes),
                   dds_profile=dds, nodes=nodes, gz_bridge=bridge, remappings=common_remaps, network=network)


def actuation_warnings(profile: Profile) -> list[str]:
    """Return a warning for each planner whose commands reach anything but a safety gate's input.

    The shipped profiles put the safety gate (type safety) last before the base: a planner that
    publishes straight to the base bypasses the e-stop latch and the steady-clock command timeout.
    """
    gated = set()
    for node in profile.nodes:
        if node.node_type == 'safety':
            topics = node.parameters.get('input_topics') or node_params('safety')['input_topics'].default
            gated.update(node.resolve_topic(t) for t in topics)
    return [f'{node.fully_qualified_name} publishes its commands on {node.resolve_topic("cmd_vel")}, '
            'which no safety node gates: nothing holds an e-stop across restarts or zeroes a stale '
            'command; add a node of type safety and remap the planner '
            '(remappings: {cmd_vel: planner/cmd_vel}), see docs/safety.md'
            for node in profile.nodes
            if node.node_type == 'planner' and node.resolve_topic('cmd_vel') not in gated]


def check_files(profile: Profile) -> None:
    """Raise ConfigError for a model file that does not exist, before anything starts."""
    for node in profile.nodes:
        value = node.parameters.get('model_path')
        if node.node_type == 'inference' and isinstance(value, str) and value and '://' not in value \
                and not Path(value).is_file():
            raise ConfigError(f'{profile.path}: nodes.{node.name}.parameters.model_path: {value} does not '
                              f'exist (give another with --model-path or --set {node.name}.model_path=FILE)')


def _read(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text())
    except OSError as err:
        raise ConfigError(f'{path}: cannot read the robot profile ({err.strerror})') from err
    except yaml.YAMLError as err:
        raise ConfigError(f'{path}: not valid YAML ({err})') from err
    if not isinstance(data, dict):
        raise ConfigError(f'{path}: expected a mapping with keys {", ".join(PROFILE_KEYS)}, got {data!r}')
    return data


def _check_keys(data: Mapping[str, Any], accepted: Sequence[str], where: str, prefix: str) -> None:
    for key in data:
        if key not in accepted:
            raise ConfigError(f'{where}: {prefix}{key}: unknown key; accepted: {", ".join(accepted)}')


def _node_settings(node_name: Any, node_data: Any, where: str, sim_time: bool
                   ) -> tuple[str, dict[str, Any], list[tuple[str, str]], dict[str, Any]]:
    key = f'nodes.{node_name}'
    if not isinstance(node_name, str) or not _NAME.fullmatch(node_name):
        raise ConfigError(f'{where}: {key}: {node_name!r} is not a valid ROS node name '
                          '(a letter or _, then letters, digits and _)')
    if not isinstance(node_data, Mapping) or 'type' not in node_data:
        raise ConfigError(f'{where}: {key}: expected a mapping with a type (one of '
                          f'{", ".join(NODE_TYPES)}), got {node_data!r}')
    _check_keys(node_data, NODE_KEYS, where, f'{key}.')
    node_type = node_data['type']
    if node_type not in NODE_TYPES:
        raise ConfigError(f'{where}: {key}.type: unknown node type {node_type!r}; known: '
                          f'{", ".join(NODE_TYPES)}')
    raw_params = node_data.get('parameters') or {}
    if not isinstance(raw_params, Mapping):
        raise ConfigError(f'{where}: {key}.parameters: expected a mapping, got {raw_params!r}')
    params: dict[str, Any] = {'use_sim_time': sim_time}
    for param, value in raw_params.items():
        checked = _check_param(node_type, param, value, f'{where}: {key}.parameters.{param}')
        params[param] = _resolve_paths(param, checked, package_root())
    remaps = _remappings(node_data.get('remappings'), where, f'{key}.remappings')
    qos = node_data.get('qos') or {}
    if not isinstance(qos, Mapping):
        raise ConfigError(f'{where}: {key}.qos: expected a mapping of topic: {{publisher|subscription: '
                          f'{{policy: value}}}}, got {qos!r}')
    for topic, entities in qos.items():
        _check_qos(topic, entities, f'{where}: {key}.qos.{topic}')
    return node_type, params, remaps, dict(qos)


def _remappings(remaps: Any, where: str, key: str) -> list[tuple[str, str]]:
    # Node rules come before profile-wide ones: rcl applies the first rule that matches.
    remaps = remaps or {}
    if not isinstance(remaps, Mapping):
        raise ConfigError(f'{where}: {key}: expected a mapping of from: to topic names, got {remaps!r}')
    for src, dst in remaps.items():
        for topic in (src, dst):
            _check_topic(topic, f'{where}: {key}.{src}')
    return [(src, dst) for src, dst in remaps.items()]


def _check_param(node_type: str, param: Any, value: Any, where: str) -> Any:
    if not isinstance(param, str):
        raise ConfigError(f'{where}: parameter names are strings, got {param!r}')
    try:
        table = node_params(node_type)
    except ModuleNotFoundError as err:
        raise ConfigError(f'{where}: node type {node_type!r} has no parameter table '
                          f'({NODE_TYPES[node_type][0]} is missing)') from err
    if param.startswith('qos_overrides.'):
        raise ConfigError(f'{where}: set QoS with the node\'s qos: mapping (topic: {{subscription: '
                          '{reliability: reliable}}}), not qos_overrides parameters')
    try:
        return check_params(table, {param: value})[param]
    except ConfigError as err:
        raise ConfigError(f'{where}: {err}') from None


def _resolve_paths(param: str, value: Any, base: Path) -> Any:
    if param.endswith(PATH_SUFFIXES) and isinstance(value, str):
        return resolve_path(value, base)
    return value


def _check_topic(topic: Any, where: str) -> None:
    if not isinstance(topic, str) or not topic:
        raise ConfigError(f'{where}: expected a topic name, got {topic!r}')
    tokens = topic.lstrip('/').split('/')
    if not all(_TOPIC_TOKEN.fullmatch(t) for t in tokens) or topic.endswith('/'):
        raise ConfigError(f'{where}: {topic!r} is not a valid ROS topic name')


def _check_qos(topic: Any, entities: Any, where: str) -> None:
    _check_topic(topic, where)
    if not isinstance(entities, Mapping) or not entities:
        raise ConfigError(f'{where}: expected {{publisher|subscription: {{policy: value}}}}, '
                          f'got {entities!r}')
    for entity, policies in entities.items():
        if entity not in QOS_ENTITIES:
            raise ConfigError(f'{where}.{entity}: unknown key; accepted: {", ".join(QOS_ENTITIES)}')
        if not isinstance(policies, Mapping) or not policies:
            raise ConfigError(f'{where}.{entity}: expected {{policy: value}}, got {policies!r}')
        for policy, value in policies.items():
            if policy not in QOS_POLICIES:
                raise ConfigError(f'{where}.{entity}.{policy}: unknown QoS policy; overridable: '
                                  f'{", ".join(QOS_POLICIES)}')
            choices = QOS_POLICIES[policy]
            if choices is None:
                if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                    raise ConfigError(f'{where}.{entity}.{policy}: expected an integer >= 1, got {value!r}')
            elif value not in choices:
                raise ConfigError(f'{where}.{entity}.{policy}: {value!r} is not accepted; one of '
                                  f'{", ".join(choices)}')


def _qos_parameters(node: NodeDescription, qos: Mapping[str, Any]) -> dict[str, Any]:
    # rclpy names QoS override parameters after the fully qualified, remapped topic name.
    out = {}
    for topic, entities in qos.items():
        resolved = node.resolve_topic(topic)
        for entity, policies in entities.items():
            for policy, value in policies.items():
                out[f'qos_overrides.{resolved}.{entity}.{policy}'] = value
    return out


def _bridge(entries: Any, where: str) -> list[BridgeTopic]:
    if not isinstance(entries, list):
        raise ConfigError(f'{where}: gz_bridge: expected a list of {{{", ".join(BRIDGE_KEYS)}}}, '
                          f'got {entries!r}')
    out = []
    for i, entry in enumerate(entries):
        key = f'gz_bridge[{i}]'
        if not isinstance(entry, Mapping):
            raise ConfigError(f'{where}: {key}: expected a mapping, got {entry!r}')
        _check_keys(entry, BRIDGE_KEYS, where, f'{key}.')
        missing = [k for k in BRIDGE_KEYS[:4] if not isinstance(entry.get(k), str) or not entry.get(k)]
        if missing:
            raise ConfigError(f'{where}: {key}: {", ".join(missing)} missing (strings required)')
        direction = entry.get('direction', 'gz_to_ros')
        if direction not in BRIDGE_DIRECTIONS:
            raise ConfigError(f'{where}: {key}.direction: {direction!r} is not accepted; one of '
                              f'{", ".join(BRIDGE_DIRECTIONS)}')
        _check_topic(entry['ros'], f'{where}: {key}.ros')
        _check_topic(entry['gz'], f'{where}: {key}.gz')
        out.append(BridgeTopic(ros=entry['ros'], gz=entry['gz'], type=entry['type'],
                               gz_type=entry['gz_type'], direction=direction))
    return out


def _yaml_value(value: Any) -> str:
    text = yaml.safe_dump(value, default_flow_style=True, width=1 << 20)
    return ' '.join(line for line in text.splitlines() if line != '...').strip()


def describe(profile: Profile) -> str:
    """Return a readable YAML summary of a resolved profile (what would start, with what)."""
    nodes = {}
    for node in profile.nodes:
        nodes[node.fully_qualified_name] = {
            'type': node.node_type, 'executable': node.executable,
            'parameters': dict(node.parameters),
            **({'remappings': [f'{s}:={d}' for s, d in node.remappings]} if node.remappings else {}),
        }
    summary: dict[str, Any] = {
        'robot': profile.name, 'file': str(profile.path), 'namespace': profile.namespace or '/',
        'use_sim_time': profile.use_sim_time, 'dds_profile': profile.dds_profile, 'nodes': nodes,
    }
    net = profile.network
    if net.profile != 'local':
        summary['network'] = {'interfaces': list(net.interfaces), 'static_peers': list(net.static_peers),
                              'discovery_server': net.server_address(), 'start_server': net.start_server}
    if profile.gz_bridge:
        summary["gz_bridge"] = shlex.join(profile.bridge_command())
    return yaml.safe_dump(summary, default_flow_style=False, sort_keys=False)
