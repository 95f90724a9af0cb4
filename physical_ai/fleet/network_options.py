"""Command-line network options shared by `physical-ai operator` and `physical-ai network`."""

from __future__ import annotations

import argparse
import os
import sys

from physical_ai.core.environment import ros_environment
from physical_ai.core.network import NetworkSettings
from physical_ai.core.profiles import load_profile

REEXEC_MARK = 'PHYSICAL_AI_NETWORK_ENV'


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare --robot/--dds-profile/--interface/--static-peer/--discovery-server/--discovery-role."""
    parser.add_argument('--robot', default=None,
                        help="start from this robot profile's dds_profile and network settings")
    parser.add_argument('--dds-profile', default=None, choices=('local', 'robot', 'discovery_server'),
                        help='network profile (default: the robot profile\'s, else local)')
    parser.add_argument('--interface', dest='interfaces', action='append', default=None, metavar='NAME',
                        help='allow UDP on this interface (name or IPv4 address); repeatable')
    parser.add_argument('--static-peer', dest='static_peers', action='append', default=None, metavar='HOST',
                        help='robot profile: a host to discover by unicast (ROS_STATIC_PEERS); repeatable')
    parser.add_argument('--discovery-server', default=None, metavar='HOST:PORT',
                        help='Discovery Server of dds_profile discovery_server')
    parser.add_argument('--discovery-role', default=None, choices=('CLIENT', 'SUPER_CLIENT'),
                        help='discovery_server: CLIENT (robots) or SUPER_CLIENT (sees the whole graph)')


def settings(args: argparse.Namespace, role: str | None = None) -> NetworkSettings:
    """Return the network settings the options name (ConfigError when they do not fit together)."""
    base = load_profile(args.robot).network if args.robot else NetworkSettings()
    return base.with_overrides(profile=args.dds_profile, interfaces=args.interfaces,
                               static_peers=args.static_peers, discovery_server=args.discovery_server,
                               discovery_role=args.discovery_role or role)


def ensure_environment(network: NetworkSettings, argv: list[str]) -> None:
    """Re-execute this process once with the DDS environment of `network` when it lacks it.

    Fast DDS reads its profile when the participant is made: it must be in the environment before
    rclpy starts. `argv` is what follows `python` (e.g. ['-m', 'physical_ai.cli', 'operator', ...]).
    """
    env = ros_environment(network.profile, network=network)
    if all(os.environ.get(k) == v for k, v in env.items()) or os.environ.get(REEXEC_MARK):
        return
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, [sys.executable, *argv], {**env, REEXEC_MARK: '1'})
