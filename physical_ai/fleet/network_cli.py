"""`physical-ai network`: the DDS network profiles of docs/network.md, and a fleet soak.

env     print the environment a profile's processes start with (`eval $(physical-ai network env ...)`)
xml     print the Fast DDS XML profile they use
server  run the Fast DDS Discovery Server the settings name
soak    N robots and an operator station in network namespaces for M minutes (root): discovery
time, delivered image/detection rates, e-stop latency and recovery after link cuts
shm-clean  remove the Fast DDS shared-memory files in /dev/shm that killed processes left
        (`physical-ai up` does it at start and before restarting a node; --dry-run only lists them)
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any

from physical_ai.core.errors import ConfigError
from physical_ai.fleet import network_options


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the command-line options of `physical-ai network`."""
    parser.add_argument('action', choices=('env', 'xml', 'server', 'soak', 'shm-clean'),
                        help='what to do (see above)')
    parser.add_argument('--dry-run', action='store_true', help='shm-clean: list, remove nothing')
    network_options.add_arguments(parser)
    soak = parser.add_argument_group('soak')
    soak.add_argument('--robots', type=int, default=2, metavar='N', help='robots in the soak (default 2)')
    soak.add_argument('--minutes', type=float, default=2.0, metavar='M', help='soak length (default 2)')
    soak.add_argument('--fps', type=float, default=10.0, help='camera rate of each robot (default 10)')
    soak.add_argument('--cycle', type=float, default=30.0,
                      help='seconds per cycle: measure, e-stop all, release, cut one link (default 30)')
    soak.add_argument('--cut', type=float, default=5.0, help='seconds a link stays down (default 5)')
    parser.formatter_class = argparse.RawDescriptionHelpFormatter


def run(args: argparse.Namespace) -> int:
    """Run the chosen action; return the exit code."""
    if args.action == 'shm-clean':
        return shm_clean(args.dry_run)
    try:
        if args.action == 'soak':
            return soak(args)
        settings = network_options.settings(args)
    except ConfigError as err:
        print(f'physical-ai network: {err}', file=sys.stderr)
        return 1
    from physical_ai.core.environment import ros_environment
    from physical_ai.core.network import discovery_server_command
    from physical_ai.core.network.fastdds import render_profile_xml

    env = ros_environment(settings.profile, {}, network=settings)
    if args.action == 'env':
        for key, value in env.items():
            print(f'export {key}={shlex.quote(value)}')
        return 0
    if args.action == 'xml':
        print(render_profile_xml(settings), end='')
        return 0
    if settings.discovery_server is None:
        print('physical-ai network server: name the server with --discovery-server HOST:PORT',
              file=sys.stderr)
        return 1
    command = discovery_server_command(settings)
    print(f'[physical-ai network] {shlex.join(command)}', file=sys.stderr, flush=True)
    try:
        return subprocess.call(command, env={**os.environ, **env})
    except KeyboardInterrupt:
        return 0


def shm_clean(dry_run: bool) -> int:
    """Remove (or list) stale Fast DDS shared-memory files; print what; return the exit code."""
    from physical_ai.core.network.shm import remove_stale_files

    found = remove_stale_files(dry_run=dry_run)
    for name in found.segments + found.ports:
        print(name)
    print(f'{"would remove" if dry_run else "removed"} {found.summary()}', file=sys.stderr)
    return 0


# Fleet soak ----------------------------------------------------------------------------------

def soak(args: argparse.Namespace) -> int:
    """Run N robots and a station in network namespaces; print the figures; return the exit code."""
    from physical_ai.core.environment import claim_domain_id
    from physical_ai.core.network.rig import Rig, RigError
    from physical_ai.fleet import scenario

    profile = args.dds_profile or 'robot'
    if profile == 'local':
        print('physical-ai network soak: local keeps every robot to its host; soak robot or discovery_server',
              file=sys.stderr)
        return 1
    if args.robots < 1 or args.minutes <= 0 or args.cut <= 0 or args.cycle < args.cut + 15:
        print('physical-ai network soak: need --robots >= 1, --minutes > 0, --cycle >= --cut + 15',
              file=sys.stderr)
        return 1
    names = [f'robot{i + 1}' for i in range(args.robots)]
    folder = Path(tempfile.mkdtemp(prefix='physical_ai_soak_'))
    say = _printer()
    try:
        with Rig([*names, 'station'], log_dir=folder) as rig:
            env = scenario.base_environment(claim_domain_id(), folder)
            server = names[0] if profile == 'discovery_server' else None
            probes = {}
            for name in names:
                net = scenario.host_network(rig, name, profile, server)
                _, probes[name] = scenario.start_robot(rig, name, name, net, env, folder, fps=args.fps)
            if server:
                time.sleep(1.0)  # the first robot's runner starts the server
            station = scenario.host_network(rig, 'station', profile, server, role='SUPER_CLIENT')
            started = time.monotonic()
            operator = scenario.start_operator(rig, 'station', station, env, robots=names, period=0.5)
            say(f'{len(names)} robot(s) and a station, dds_profile {profile}, {args.minutes:g} min; '
                f'logs in {folder}')
            return _soak_loop(rig, operator, probes, args, started, say)
    except (RigError, TimeoutError) as err:
        print(f'physical-ai network soak: {err}', file=sys.stderr)
        return 1


def _soak_loop(rig: Any, operator: Any, probes: dict[str, Any], args: argparse.Namespace, started: float,
               say: Any) -> int:
    from physical_ai.fleet import scenario

    names = list(probes)
    discovery = {}
    for name in names:
        event = scenario.wait_event(operator, scenario.robot_report(f'/{name}'), 120, f'images of {name}')
        discovery[name] = event['t'] - started
    say('discovery (station start to first images): '
        + ', '.join(f'{n} {discovery[n]:.1f} s' for n in names))
    rates: dict[str, list[tuple[float, float, float | None]]] = {n: [] for n in names}
    latencies: dict[str, list[float]] = {n: [] for n in names}
    recoveries: list[float] = []
    end = started + args.minutes * 60.0
    cycle = 0
    while time.monotonic() < end:
        measure_until = time.monotonic() + args.cycle - args.cut - 10.0
        while time.monotonic() < measure_until:
            time.sleep(0.5)
        report = scenario.events(operator)[-1].get('robots', {})
        for name in names:
            r = report.get(f'/{name}', {})
            rates[name].append((r.get('image_hz', 0.0), r.get('detections_hz', 0.0),
                                r.get('camera_delivered')))
        for name in names:
            scenario.wait_event(probes[name], lambda e: e.get('event') == 'moving', 10, f'{name} driving')
        sent = scenario.command(operator, 'e_stop all')
        for name in names:
            stopped = scenario.wait_event(probes[name], lambda e: e.get('event') == 'stopped', 5,
                                          f'{name} stopping', after=sent)
            latencies[name].append(stopped['t'] - sent)
        scenario.command(operator, 'release all')
        victim = names[cycle % len(names)]
        rig.set_link(victim, False)
        time.sleep(args.cut)
        count = scenario.events(operator)[-1]['robots'][f'/{victim}']['images']  # what came before
        restored = time.monotonic()
        rig.set_link(victim, True)
        back = scenario.wait_event(
            operator, lambda e, v=f'/{victim}', c=count: e.get('event') == 'report'
            and e['robots'].get(v, {}).get('images', 0) >= c + 2, 30, f'images of {victim} after the cut',
            after=restored)
        recoveries.append(back['t'] - restored)
        say(f'cycle {cycle + 1}: e-stop all {max(latencies[n][-1] for n in names) * 1000:.0f} ms (slowest), '
            f'{victim} back {recoveries[-1]:.1f} s after a {args.cut:g} s cut')
        cycle += 1
    if not recoveries:
        say('the soak ended before a full cycle; give more --minutes')
        return 1
    say('summary')
    for name in names:
        images = [r[0] for r in rates[name]]
        dets = [r[1] for r in rates[name]]
        delivered = [r[2] for r in rates[name] if r[2] is not None]
        lat = latencies[name]
        share = f'{statistics.median(delivered) * 100:.0f} %' if delivered else 'n/a'
        say(f'  {name}: discovery {discovery[name]:.1f} s; images {statistics.median(images):.1f} Hz '
            f'(min {min(images):.1f}) of {args.fps:g}; detections {statistics.median(dets):.1f} Hz; '
            f'camera frames delivered {share}; e-stop median {statistics.median(lat) * 1000:.0f} ms, '
            f'max {max(lat) * 1000:.0f} ms')
    say(f'  recovery after a cut: median {statistics.median(recoveries):.1f} s, max {max(recoveries):.1f} s '
        f'({len(recoveries)} cuts)')
    return 0


def _printer() -> Any:
    def say(text: str) -> None:
        print(f'[soak] {text}', flush=True)
    return say
