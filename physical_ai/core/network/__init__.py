"""The network a robot lives on: DDS profiles (local, robot, discovery_server) and their settings.

A robot profile picks one with `dds_profile` and tunes it in its `network:` mapping; the command
line overrides both. `network_environment` turns the choice into the environment every process
of the robot starts with (Fast DDS XML profile, ROS_AUTOMATIC_DISCOVERY_RANGE, ROS_STATIC_PEERS).
Plain Python, no rclpy: see docs/network.md.
"""

from typing import Any

from physical_ai.core.network.fastdds import (
    discovery_server_command,
    network_environment,
    render_profile_xml,
)
from physical_ai.core.network.settings import (
    DEFAULT_SERVER_PORT,
    NETWORK_KEYS,
    NETWORK_PROFILES,
    NetworkSettings,
    parse_network,
)

__all__ = [
    'DEFAULT_SERVER_PORT', 'NETWORK_KEYS', 'NETWORK_PROFILES', 'NetworkSettings', 'discovery_server_command',
    'network_environment', 'parse_network', 'render_profile_xml', 'with_network',
]


def with_network(profile: Any, dds_profile: str | None = None, **overrides: Any) -> Any:
    """Return a robot profile (core.profiles.Profile) with its network settings overridden.

    `dds_profile` and the keyword arguments of `NetworkSettings.with_overrides` (interfaces,
    static_peers, discovery_server, start_server, discovery_role); None keeps the profile's value.
    """
    from dataclasses import replace

    network = profile.network.with_overrides(profile=dds_profile, **overrides)
    nodes = [replace(node, dds_profile=network.profile) for node in profile.nodes]
    return replace(profile, dds_profile=network.profile, network=network, nodes=nodes)
