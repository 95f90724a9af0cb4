"""The process environment the stack runs in: DDS profile, discovery range, malloc tuning.

These must be set before a process starts (Fast DDS reads the profile when the participant is
created, glibc reads its tunables at exec), so runners and tests pass them to child processes.
"""

from __future__ import annotations

from collections.abc import Mapping
import fcntl
import os
from pathlib import Path
import random
import tempfile
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from physical_ai.core.network import NetworkSettings

CONFIG_DIR = Path(__file__).resolve().parent.parent.parent / 'config'
# Network profiles a robot profile's dds_profile names (see physical_ai.core.network, docs/network.md);
# 'loopback' is the older name of 'local' (tests and the demo use it).
DDS_PROFILES = {
    'local': 'dds/fastdds_loopback.xml',
    'loopback': 'dds/fastdds_loopback.xml',
    'robot': 'dds/fastdds_robot.xml',
    'discovery_server': 'dds/fastdds_discovery_server.xml',
}

# glibc otherwise returns large buffers to the OS after every message and faults them in again:
# measured, this setting halved image hop latency and sped up 640 px inference about 1.8x.
GLIBC_TUNABLES = ('glibc.malloc.trim_threshold=268435456:glibc.malloc.mmap_threshold=268435456:'
                  'glibc.malloc.top_pad=67108864')


def config_dir() -> Path:
    """Return the folder with the package's config files (source tree or installed share/)."""
    if CONFIG_DIR.is_dir():
        return CONFIG_DIR
    from ament_index_python.packages import get_package_share_directory  # robot install
    return Path(get_package_share_directory('physical_ai')) / 'config'


def dds_profile(name: str) -> Path:
    """Return the path of a shipped Fast DDS profile (a template for 'robot' and 'discovery_server')."""
    return config_dir() / DDS_PROFILES[name]


def ros_environment(profile: str = 'local', base: Mapping[str, str] | None = None,
                    override: bool = False, network: NetworkSettings | None = None) -> dict[str, str]:
    """Return `base` (default: os.environ) with the stack's DDS and malloc settings added.

    `network` (interfaces, server) is needed for 'robot' and 'discovery_server'. Settings the
    user already made are kept unless `override` is true.
    """
    from physical_ai.core.network import NetworkSettings, network_environment

    env = dict(os.environ if base is None else base)
    name = 'local' if profile == 'loopback' else profile
    if network is None or network.profile != name:
        network = NetworkSettings(profile=name)
    wanted = {
        'RMW_IMPLEMENTATION': 'rmw_fastrtps_cpp',
        **network_environment(network),
        'GLIBC_TUNABLES': GLIBC_TUNABLES,
    }
    for key, value in wanted.items():
        if override or not env.get(key):
            env[key] = value
    return env


# Ranges of ROS_DOMAIN_ID that are safe on Linux (their ports stay clear of the ephemeral range).
DOMAIN_IDS = list(range(1, 102)) + list(range(215, 233))
_domain_lock = None


def claim_domain_id() -> int:
    """Return a ROS_DOMAIN_ID no other caller on this machine holds, and hold it for this process.

    A lock file per id lets concurrent test runs and demos each keep a graph of their own.
    """
    global _domain_lock
    candidates = DOMAIN_IDS[:]
    random.shuffle(candidates)
    for domain in candidates:
        lock = open(Path(tempfile.gettempdir()) / f'physical_ai_test_domain_{domain}.lock', 'w')
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            lock.close()
            continue
        _domain_lock = lock
        return domain
    raise RuntimeError('every ROS_DOMAIN_ID in the safe ranges is held by another run on this machine')
