"""Robots and operator stations on rig hosts: what the network tests and the fleet soak start.

A robot is `physical-ai up` with a profile written here (camera with the synthetic test pattern,
planner; the profile's dds_profile and network: decide the DDS setup, as on a real robot) plus
the drive probe (a ball ahead, cmd_vel watched). An operator is `physical-ai operator --json`.
Every process prints JSON lines that `events` reads back.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
import json
import os
from pathlib import Path
import subprocess
import sys
import time
from typing import Any

import yaml

from physical_ai.core.environment import ros_environment
from physical_ai.core.network import NetworkSettings
from physical_ai.core.network.rig import HostProcess, Rig

# Variables the rig sets per host; inherited values would override the profile's choice.
DDS_VARIABLES = ('FASTDDS_DEFAULT_PROFILES_FILE', 'ROS_AUTOMATIC_DISCOVERY_RANGE', 'ROS_STATIC_PEERS',
                 'ROS_LOCALHOST_ONLY', 'ROS_DISCOVERY_SERVER', 'RMW_IMPLEMENTATION')
CALIBRATION = {  # fx = fy = 500 at 640x480: what the drive probe's ball size assumes
    'image_width': 640, 'image_height': 480, 'camera_name': 'rig',
    'camera_matrix': {'rows': 3, 'cols': 3, 'data': [500.0, 0.0, 320.0, 0.0, 500.0, 240.0, 0.0, 0.0, 1.0]},
    'distortion_model': 'plumb_bob',
    'distortion_coefficients': {'rows': 1, 'cols': 5, 'data': [0.0] * 5},
    'rectification_matrix': {'rows': 3, 'cols': 3, 'data': [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0]},
    'projection_matrix': {'rows': 3, 'cols': 4,
                          'data': [500.0, 0.0, 320.0, 0.0, 0.0, 500.0, 240.0, 0.0, 0.0, 0.0, 1.0, 0.0]},
}


def base_environment(domain_id: int, log_dir: Path) -> dict[str, str]:
    """Return this process's environment without DDS settings, with a domain id and a log folder."""
    env = {k: v for k, v in os.environ.items() if k not in DDS_VARIABLES}
    env.update(ROS_DOMAIN_ID=str(domain_id), ROS_LOG_DIR=str(log_dir), PYTHONUNBUFFERED='1')
    return env


def host_network(rig: Rig, host: str, profile: str, server_host: str | None = None,
                 role: str = 'CLIENT') -> NetworkSettings:
    """Return the network settings of a rig host: UDP on its link only, the server on `server_host`."""
    server = (rig.hosts[server_host].address, 11811) if server_host else None
    return NetworkSettings(profile=profile, interfaces=(rig.hosts[host].link,), discovery_server=server,
                           start_server=server_host == host and profile == 'discovery_server',
                           discovery_role=role)


def write_robot_profile(folder: Path, namespace: str, network: NetworkSettings, fps: float = 10.0) -> Path:
    """Write a robot profile for a rig host (camera test pattern 640x480 at `fps`, planner, safety gate)."""
    folder.mkdir(parents=True, exist_ok=True)
    calibration = folder / f'{namespace}_camera_info.yaml'
    calibration.write_text(yaml.safe_dump(CALIBRATION))
    data: dict[str, Any] = {
        'robot': namespace, 'description': f'rig robot {namespace}', 'namespace': namespace,
        'dds_profile': network.profile,
        'nodes': {
            'camera': {'type': 'camera', 'parameters': {
                'source': 'test_pattern', 'width': 640, 'height': 480, 'fps': fps,
                'camera_info_url': f'file://{calibration}'}},
            'planner': {'type': 'planner', 'parameters': {
                'max_linear_accel': 5.0, 'max_angular_accel': 10.0, 'search_timeout': 0.0},
                'remappings': {'cmd_vel': 'planner/cmd_vel'}},
            # The base hears the safety gate, which holds the e-stop the station engages.
            'safety': {'type': 'safety', 'parameters': {
                'max_linear_accel': 5.0, 'max_angular_accel': 10.0,
                'state_file': str(folder / f'{namespace}_e_stop.json')}},
        },
    }
    net: dict[str, Any] = {}
    if network.interfaces:
        net['interfaces'] = list(network.interfaces)
    if network.discovery_server:
        net['discovery_server'] = network.server_address()
        net['start_server'] = network.start_server
    if net:
        data['network'] = net
    path = folder / f'{namespace}.yaml'
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def start_robot(rig: Rig, host: str, namespace: str, network: NetworkSettings, env: Mapping[str, str],
                folder: Path, fps: float = 10.0) -> tuple[HostProcess, HostProcess]:
    """Start a robot (`physical-ai up` with its profile) and its drive probe on `host`."""
    profile = write_robot_profile(folder, namespace, network, fps)
    up = rig.start(host, [sys.executable, '-m', 'physical_ai.cli', 'up', '--robot', str(profile)], env,
                   name=f'{namespace}_up')
    probe = rig.start(host, [sys.executable, '-m', 'physical_ai.fleet.probe', '--namespace', namespace],
                      ros_environment(network.profile, env, override=True, network=network),
                      name=f'{namespace}_probe')
    return up, probe


def start_operator(rig: Rig, host: str, network: NetworkSettings, env: Mapping[str, str],
                   robots: list[str] | None = None, period: float = 1.0) -> HostProcess:
    """Start `physical-ai operator --json` on `host`; write commands to `.proc.stdin`."""
    command = [sys.executable, '-m', 'physical_ai.cli', 'operator', '--json', '--period', str(period)]
    if robots:
        command += ['--robots', ','.join(robots)]
    return rig.start(host, command, ros_environment(network.profile, env, override=True, network=network),
                     name='operator', stdin=subprocess.PIPE)


def command(proc: HostProcess, line: str) -> float:
    """Send an operator console line; return the time just before it was sent (monotonic).

    Read before writing: the robot can react before this process runs again.
    """
    assert proc.proc.stdin is not None
    sent = time.monotonic()
    proc.proc.stdin.write(line.encode() + b'\n')
    proc.proc.stdin.flush()
    return sent


def events(proc: HostProcess) -> list[dict[str, Any]]:
    """Return the JSON lines a process printed so far."""
    out = []
    for line in proc.output().splitlines():
        if line.startswith('{'):
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                continue  # a line being written
    return out


def wait_event(proc: HostProcess, match: Callable[[dict[str, Any]], bool], timeout: float,
               what: str, after: float = 0.0) -> dict[str, Any]:
    """Return the first JSON event at or after `after` (monotonic) that matches, or raise TimeoutError."""
    deadline = time.monotonic() + timeout
    while True:
        for event in events(proc):
            if event.get('t', 0.0) >= after and match(event):
                return event
        if not proc.running():
            raise TimeoutError(f'{what}: the process exited ({proc.proc.returncode}); its output:\n'
                               f'{proc.output()[-3000:]}')
        if time.monotonic() > deadline:
            raise TimeoutError(f'timed out after {timeout:.0f} s waiting for {what}; output:\n'
                               f'{proc.output()[-3000:]}')
        time.sleep(0.1)


def robot_report(ns: str, full: bool = False) -> Callable[[dict[str, Any]], bool]:
    """Return a matcher for an operator report in which robot `ns` has images (a full window)."""
    def match(event: dict[str, Any]) -> bool:
        robot = event.get('robots', {}).get(ns) if event.get('event') == 'report' else None
        return bool(robot and robot['images'] and (robot['image_window_full'] or not full))
    return match
