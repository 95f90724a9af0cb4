"""Check an rviz2 config against a running graph: every display's topic published, with a usable QoS.

    physical-ai up --robot sim &            # or ros2 launch physical_ai robot.launch.py
    physical-ai rviz-check --robot sim      # exit code 0: every display of physical_ai.rviz gets data

rviz2 runs in the robot's namespace with the profile's remappings (what robot.launch.py does),
so relative topics are resolved the same way here. Waits up to --timeout seconds for the graph to
show every topic (nodes that are still starting), then prints one line per display problem.
"""

from __future__ import annotations

import argparse
from pathlib import Path
import sys
import time

from physical_ai.core.errors import ConfigError
from physical_ai.core.profiles import NodeDescription, load_profile
from physical_ai.core.rviz import Endpoint, check, default_config, load_config, subscriptions


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the command-line options."""
    parser.add_argument('--robot', default='sim',
                        help='robot profile whose graph runs (default: %(default)s)')
    parser.add_argument('--namespace', '-n', default=None,
                        help='namespace of the robot (default: the profile\'s)')
    parser.add_argument('--config', type=Path, default=None,
                        help='rviz2 config (default: the shipped config/rviz/physical_ai.rviz)')
    parser.add_argument('--timeout', type=float, default=15.0,
                        help='seconds to wait for the graph to offer every topic (default: %(default)s)')


def graph_of(node) -> dict[str, list[Endpoint]]:
    """Return {topic: publishers} of the graph a node sees."""
    from rclpy.qos import DurabilityPolicy, ReliabilityPolicy

    graph = {}
    for topic, _types in node.get_topic_names_and_types():
        graph[topic] = [Endpoint(info.topic_type, info.qos_profile.reliability == ReliabilityPolicy.RELIABLE,
                                 info.qos_profile.durability == DurabilityPolicy.TRANSIENT_LOCAL)
                        for info in node.get_publishers_info_by_topic(topic)]
    return graph


def run(args: argparse.Namespace) -> int:
    """Check the config; return 0 when every display gets data, 1 otherwise."""
    path = args.config or default_config()
    try:
        profile = load_profile(args.robot, namespace=args.namespace)
        subs = subscriptions(load_config(path), str(path))
    except ConfigError as err:
        print(f'physical-ai rviz-check: {err}', file=sys.stderr)
        return 1
    rviz = NodeDescription(name='rviz2', node_type='rviz2', executable='rviz2', entry='', package='rviz2',
                           namespace=profile.namespace, remappings=list(profile.remappings))
    import rclpy

    rclpy.init(args=['physical-ai'])
    node = rclpy.create_node('rviz_check')
    try:
        deadline = time.monotonic() + max(0.0, args.timeout)
        while True:
            problems = check(subs, graph_of(node), rviz.resolve_topic)
            if not problems or time.monotonic() >= deadline:
                break
            time.sleep(0.5)
    finally:
        node.destroy_node()
        rclpy.try_shutdown()
    print(f'{path}: {len(subs)} subscriptions of {len({s.display for s in subs})} displays, robot '
          f'{profile.name!r} in namespace {profile.namespace or "/"}')
    for problem in problems:
        print(f'  PROBLEM {problem}')
    if not problems:
        print('  every display gets data')
    return 1 if problems else 0
