"""`physical-ai` command line: one entry point, subcommands loaded on demand."""

from __future__ import annotations

import argparse
import importlib
import sys

# subcommand -> (module with `add_arguments(parser)` and `run(args) -> int`, one-line help)
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    'up': ('physical_ai.runner', 'start a robot profile\'s nodes (one process or one per node)'),
    'train': ('physical_ai.training.train',
              'train a detector: the default one from simulator frames, or on a dataset (--data)'),
    'eval': ('physical_ai.training.evaluate',
             'report mAP of a detector on held-out simulator images or a dataset (--data)'),
    # Datasets, training on them, models: see docs/training.md.
    'dataset': ('physical_ai.training.dataset_cli',
                'make, extract (from MCAP) and check YOLO-format datasets'),
    'model': ('physical_ai.training.model_cli',
              'describe a model file and print the profile lines that pin it'),
    'ament-prefix': ('physical_ai.ament_prefix', 'make a pip install a valid ament prefix'),
    'demo': ('physical_ai.demo.cli', 'run the closed-loop demo on the embedded simulator'),
    'soak': ('physical_ai.soak', 'run the closed loop under injected faults for minutes; print the counts'),
    'gazebo-world': ('physical_ai.gazebo_world', 'write a scenario as a Gazebo world, URDF and bridge file'),
    'rviz-check': ('physical_ai.rviz_check', 'check a running graph serves every rviz display'),
    # Beyond one machine (docs/network.md)
    'operator': ('physical_ai.fleet.operator', 'operator station: follow a fleet, engage e-stops'),
    'network': ('physical_ai.fleet.network_cli', 'DDS network profiles: env, xml, discovery server, soak'),
}


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run the chosen subcommand."""
    parser = argparse.ArgumentParser(prog='physical-ai', description=__doc__)
    sub = parser.add_subparsers(dest='command', required=True, metavar='COMMAND')
    for name, (_, help_text) in SUBCOMMANDS.items():
        sub.add_parser(name, help=help_text, add_help=False)
    argv = sys.argv[1:] if argv is None else argv
    known, _ = parser.parse_known_args(argv[:1])
    module = importlib.import_module(SUBCOMMANDS[known.command][0])
    cmd_parser = argparse.ArgumentParser(
        prog=f'physical-ai {known.command}', description=module.__doc__)
    module.add_arguments(cmd_parser)
    return int(module.run(cmd_parser.parse_args(argv[1:])) or 0)


if __name__ == '__main__':
    sys.exit(main())
