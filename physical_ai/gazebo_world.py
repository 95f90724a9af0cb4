"""Write a scenario's Gazebo world: `physical-ai gazebo-world --scenario demo --out worlds/`.

Writes <out>/<scenario>.sdf (the world and the robot, from the same scenario file and seed the
embedded simulator reads), <out>/robot.urdf (the robot's description, for robot_state_publisher)
and <out>/bridge.yaml (the `gazebo` profile's ros_gz_bridge topics, for parameter_bridge's
`config_file`). gazebo.launch.py world:=NAME does the same and starts `gz sim` on the world.
See docs/gazebo.md.
"""

from __future__ import annotations

import argparse
from pathlib import Path
import sys

import yaml

from physical_ai.core.errors import ConfigError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the command-line options."""
    parser.add_argument('--scenario', default='demo',
                        help='a name in config/scenarios or a scenario file (default: %(default)s)')
    parser.add_argument('--seed', type=int, default=0, help='seed of the world (default: %(default)s)')
    parser.add_argument('--robot', default='gazebo',
                        help='profile whose gz_bridge the bridge file lists (default: %(default)s)')
    parser.add_argument('--out', type=Path, default=Path('worlds'),
                        help='output folder (default: %(default)s)')


def write_world(scenario: str, seed: int, out: Path, robot: str = 'gazebo') -> dict[str, Path]:
    """Write the world, URDF and bridge files; return their paths. Raises ConfigError on bad input."""
    from physical_ai.core.profiles import load_profile
    from physical_ai.core.sim.description import robot_urdf
    from physical_ai.core.sim.gazebo import bridge_config, world_sdf
    from physical_ai.core.sim.scenario import load_scenario
    from physical_ai.core.sim.world import sample_world

    loaded = load_scenario(scenario)
    profile = load_profile(robot)
    if not profile.gz_bridge:
        raise ConfigError(f'profile {profile.name!r} has no gz_bridge topics to write a bridge file of')
    spec = sample_world(loaded, seed)
    try:
        out.mkdir(parents=True, exist_ok=True)
        paths = {'world': out / f'{loaded.name}.sdf', 'urdf': out / 'robot.urdf',
                 'bridge': out / 'bridge.yaml'}
        paths['world'].write_text(world_sdf(spec, loaded.name))
        paths['urdf'].write_text(robot_urdf(spec.camera))
        paths['bridge'].write_text(
            f'# ros_gz_bridge config of the {profile.name!r} profile (parameter_bridge --ros-args -p '
            'config_file:=bridge.yaml)\n' + yaml.safe_dump(bridge_config(profile.gz_bridge), sort_keys=False))
    except OSError as err:
        raise ConfigError(f'cannot write the Gazebo world into {out}: {err}') from err
    return paths


def run(args: argparse.Namespace) -> int:
    """Write the files; return 0, or 1 with a one-line error."""
    try:
        paths = write_world(args.scenario, args.seed, args.out, args.robot)
    except ConfigError as err:
        print(f'physical-ai gazebo-world: {err}', file=sys.stderr)
        return 1
    for kind, path in paths.items():
        print(f'{kind}: {path}')
    return 0
