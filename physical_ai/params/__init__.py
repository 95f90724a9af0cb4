"""Parameter specifications of every node, as plain data (no rclpy).

One table per node (`physical_ai/params/<node>.py`, a `PARAMS` tuple of `ParamSpec`) is the
single source of truth: nodes declare their parameters from it, the parameter callbacks validate
run-time changes with it, and robot profiles are checked against it before anything starts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
import importlib
import math
from typing import Any

from physical_ai.core.errors import ConfigError

# Node type (as named in robot profiles) -> (module of its PARAMS, executable, 'module:Class').
NODE_TYPES: dict[str, tuple[str, str, str]] = {
    'camera': ('physical_ai.params.camera', 'camera_node', 'physical_ai.nodes.camera_node:CameraNode'),
    'inference': ('physical_ai.params.inference', 'inference_node',
                  'physical_ai.nodes.inference_node:InferenceNode'),
    'planner': ('physical_ai.params.planner', 'planner_node', 'physical_ai.nodes.planner_node:PlannerNode'),
    'safety': ('physical_ai.params.safety', 'safety_node', 'physical_ai.nodes.safety_node:SafetyNode'),
    'sim': ('physical_ai.params.sim', 'sim_node', 'physical_ai.nodes.sim_node:SimNode'),
    'camera_mount': ('physical_ai.params.camera_mount', 'camera_mount_node',
                     'physical_ai.nodes.camera_mount_node:CameraMountNode'),
    'depth': ('physical_ai.params.depth', 'depth_node', 'physical_ai.nodes.depth_node:DepthNode'),
}

_TYPES = {bool: 'bool', int: 'integer', float: 'double', str: 'string'}


@dataclass(frozen=True)
class ParamSpec:
    """One parameter: name, default (its type is the parameter's type), description and limits.

    `kind` is needed only for lists whose default is empty: 'string[]', 'double[]', 'integer[]'.
    `read_only` marks settings that need a restart (model path, device).
    """

    name: str
    default: Any
    description: str
    min_value: float | None = None
    max_value: float | None = None
    choices: tuple[Any, ...] = ()
    read_only: bool = False
    kind: str = ''
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def type_name(self) -> str:
        """Return 'bool', 'integer', 'double', 'string' or '<element>[]'."""
        if self.kind:
            return self.kind
        if isinstance(self.default, list | tuple):
            if not self.default:
                raise TypeError(f'parameter {self.name}: an empty list default needs kind=')
            return _TYPES[type(self.default[0])] + '[]'
        return _TYPES[type(self.default)]

    def constraints(self) -> str:
        """Return a human-readable summary of the accepted values."""
        parts = []
        if self.choices:
            parts.append('one of ' + ', '.join(map(str, self.choices)))
        if self.min_value is not None and self.max_value is not None:
            parts.append(f'in [{self.min_value}, {self.max_value}]')
        elif self.min_value is not None:
            parts.append(f'>= {self.min_value}')
        elif self.max_value is not None:
            parts.append(f'<= {self.max_value}')
        return '; '.join(parts)

    def check(self, value: Any) -> Any:
        """Return `value` coerced to this parameter's type, or raise ConfigError saying why not."""
        value = _coerce(self.type_name, value, self.name)
        items = value if isinstance(value, list) else [value]
        for item in items:
            if isinstance(item, int | float) and not isinstance(item, bool):
                if isinstance(item, float) and not math.isfinite(item):
                    raise ConfigError(f'parameter {self.name}: {item} is not a finite number')
                if self.min_value is not None and item < self.min_value or \
                        self.max_value is not None and item > self.max_value:
                    raise ConfigError(
                        f'parameter {self.name}: {item} is out of range ({self.constraints()})')
            if self.choices and item not in self.choices:
                raise ConfigError(
                    f'parameter {self.name}: {item!r} is not accepted ({self.constraints()})')
        return value


def _coerce(type_name: str, value: Any, name: str) -> Any:
    if type_name.endswith('[]'):
        if not isinstance(value, list | tuple):
            raise ConfigError(f'parameter {name}: expected a list ({type_name}), got {value!r}')
        return [_coerce(type_name[:-2], v, name) for v in value]
    if type_name == 'bool':
        if isinstance(value, bool):
            return value
    elif type_name == 'integer':
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif type_name == 'double':
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
    elif type_name == 'string':
        if isinstance(value, str):
            return value
        if isinstance(value, int | float) and not isinstance(value, bool):
            raise ConfigError(f'parameter {name}: expected a string, got the number {value!r}; quote it '
                              f"in YAML ('{value}') or on the command line (name:=\"'{value}'\")")
    raise ConfigError(f'parameter {name}: expected {type_name}, got {value!r} '
                      f'({type(value).__name__})')


def node_params(node_type: str) -> dict[str, ParamSpec]:
    """Return the parameter table of a node type named in NODE_TYPES."""
    try:
        module_name = NODE_TYPES[node_type][0]
    except KeyError:
        raise ConfigError(f'unknown node type {node_type!r}; known: {", ".join(NODE_TYPES)}') from None
    return {spec.name: spec for spec in importlib.import_module(module_name).PARAMS}


def check_params(specs: Iterable[ParamSpec] | Mapping[str, ParamSpec],
                 values: Mapping[str, Any]) -> dict[str, Any]:
    """Validate a mapping of parameter values against specs; return the coerced values.

    ROS's own parameters (use_sim_time, qos_overrides.*) pass through unchecked.
    """
    table = specs if isinstance(specs, Mapping) else {s.name: s for s in specs}
    out = {}
    for key, value in values.items():
        if key == 'use_sim_time':
            if not isinstance(value, bool):
                raise ConfigError(f'parameter use_sim_time: expected bool, got {value!r}')
            out[key] = value
        elif key.startswith('qos_overrides.'):
            out[key] = value
        elif key in table:
            out[key] = table[key].check(value)
        else:
            raise ConfigError(f'unknown parameter {key!r}; known: {", ".join(sorted(table))}')
    return out
