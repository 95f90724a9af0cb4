"""Run the closed-loop demo on the embedded simulator: the robot drives to the ball and stops.

Without options: the standard demo, the `demo` scenario (reach the ball, stop at 1.0 m) then the
person-in-the-path scenario (stop for the person), each printed as it runs and reported at the
end. With --episodes N: N randomised episodes (seeds S, S+1, ...), then the success rate and the
distribution of stop-distance errors. Outputs go to OUT/<timestamp>/: an MP4 and an MCAP per
episode and summary.json. Exit code 0 only when every episode succeeded. Nothing touches the
network: DDS stays on loopback, on a ROS_DOMAIN_ID of its own unless ROS_DOMAIN_ID is set.
"""

from __future__ import annotations

import argparse
from datetime import datetime
import os
from pathlib import Path
import sys
import time

from physical_ai.core.errors import PhysicalAIError

# (scenario, episode kind) of the standard demo, in order.
STANDARD = (('demo', 'target'), ('person_in_path', 'stop_for'))
REEXEC_MARK = 'PHYSICAL_AI_DEMO_ENV'


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the options of `physical-ai demo`."""
    parser.add_argument('--episodes', type=int, default=None, metavar='N',
                        help='run N randomised episodes instead of the standard demo')
    parser.add_argument('--seed', type=int, default=None, metavar='S',
                        help='seed of the first episode (episode i uses S+i); default: 0 for the standard '
                             'demo, 1 with --episodes')
    parser.add_argument('--scenario', action='append', default=None, metavar='NAME[:KIND]',
                        help='scenario(s) to cycle through with --episodes (KIND: target, stop_for or '
                             'follow; default: the standard demo\'s scenarios); repeatable')
    parser.add_argument('--out', default='runs', type=Path, help='folder of the run folders (default: runs/)')
    parser.add_argument('--no-video', action='store_true', help='do not write the MP4')
    parser.add_argument('--no-record', action='store_true', help='do not write the MCAP recording')
    parser.add_argument('--real-time-factor', type=float, default=None, metavar='F',
                        help="simulator speed (default: the profile's; 0 = as fast as it can)")
    parser.add_argument('--time-limit', type=float, default=60.0, metavar='SECONDS',
                        help='simulated time an episode may take (default: %(default)s)')
    parser.add_argument('--tolerance', type=float, default=0.15, metavar='M',
                        help='accepted stop-distance error in metres (default: %(default)s)')
    parser.add_argument('--set', dest='overrides', action='append', default=[], metavar='NODE.PARAM=VALUE',
                        help='override a node parameter of the sim profile (as physical-ai up --set)')
    parser.add_argument('--quiet', action='store_true', help='no progress lines, only the reports')


def prepare_environment(run_dir: Path) -> int:
    """Confine DDS to loopback with the stack's settings and pick a ROS_DOMAIN_ID; return it.

    A ROS_DOMAIN_ID set by the user is kept (to watch the demo with other tools); otherwise the
    demo holds one of its own for its lifetime, so it never joins another graph on the machine.
    """
    from physical_ai.core.environment import claim_domain_id, ros_environment
    from physical_ai.core.network.shm import remove_stale_files

    found = remove_stale_files()
    if found:
        print(f'[physical-ai demo] removed {found.summary()}', file=sys.stderr, flush=True)
    os.environ.update(ros_environment('loopback', override=True))
    os.environ.pop('ROS_LOCALHOST_ONLY', None)
    if os.environ.get('ROS_DOMAIN_ID'):
        domain = int(os.environ['ROS_DOMAIN_ID'])
    else:
        domain = claim_domain_id()
        os.environ['ROS_DOMAIN_ID'] = str(domain)
    os.environ['ROS_LOG_DIR'] = str(run_dir / 'ros_log')
    return domain


def _reexec_with_environment() -> None:
    """Restart this command once with the malloc tunables (glibc reads them only at exec)."""
    from physical_ai.core.environment import ros_environment

    env = {**ros_environment('loopback', override=True), REEXEC_MARK: '1'}
    if os.environ.get(REEXEC_MARK) or 'demo' not in sys.argv[1:] or \
            os.environ.get('GLIBC_TUNABLES') == env['GLIBC_TUNABLES']:
        return
    argv = [sys.executable, '-m', 'physical_ai.cli', *sys.argv[sys.argv.index('demo', 1):]]
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, argv, env)


def _scenarios(args: argparse.Namespace) -> list[tuple[str, str]]:
    from physical_ai.core.errors import ConfigError
    from physical_ai.demo.judge import KINDS

    if not args.scenario:
        return list(STANDARD)
    out = []
    for text in args.scenario:
        name, _, kind = text.partition(':')
        kind = kind or dict(STANDARD).get(name, 'target')
        if not name or kind not in KINDS:
            raise ConfigError(f'--scenario {text}: expected NAME or NAME:KIND with KIND one of '
                              f'{", ".join(KINDS)}')
        out.append((name, kind))
    return out


def run(args: argparse.Namespace) -> int:
    """Run the demo; return 0 when every episode succeeded, 1 otherwise."""
    _reexec_with_environment()
    if args.episodes is not None and args.episodes < 1:
        print('physical-ai demo: --episodes must be >= 1', file=sys.stderr)
        return 1
    from physical_ai.demo.episode import (
        EpisodeConfig,
        NodeThreads,
        criteria_for,
        episode_setup,
        param_of,
        run_episode,
    )
    from physical_ai.demo.report import format_batch, format_episode, write_summary

    try:
        scenarios = _scenarios(args)
        if args.episodes is None:
            seed = 0 if args.seed is None else args.seed
            plan = [(name, kind, seed) for name, kind in scenarios]
        else:
            seed = 1 if args.seed is None else args.seed
            plan = [(*scenarios[i % len(scenarios)], seed + i) for i in range(args.episodes)]
        configs = [EpisodeConfig(
            scenario=name, seed=episode_seed, index=i, out_dir=args.out,
            criteria=criteria_for(kind, args.time_limit, tolerance=args.tolerance),
            overrides=args.overrides, real_time_factor=args.real_time_factor,
            video=not args.no_video, record=not args.no_record,
            print_progress=None if args.quiet else (lambda text: print(text, flush=True)))
            for i, (name, kind, episode_seed) in enumerate(plan)]
        for config in configs:  # every setting checked before the first episode starts
            profile, _, _ = episode_setup(config)
            config.video_fps = float(param_of(profile, 'sim', 'camera_rate'))
    except PhysicalAIError as err:
        print(f'physical-ai demo: {err}', file=sys.stderr)
        return 1

    run_dir = args.out / datetime.now().strftime('%Y%m%d-%H%M%S')
    suffix = 1
    while run_dir.exists():
        run_dir = args.out / f'{datetime.now().strftime("%Y%m%d-%H%M%S")}-{suffix}'
        suffix += 1
    run_dir.mkdir(parents=True)
    domain = prepare_environment(run_dir)
    for config in configs:
        config.out_dir = run_dir
    print(f'physical-ai demo: {len(configs)} episode(s), outputs in {run_dir} (ROS_DOMAIN_ID={domain}, '
          'DDS on loopback)', flush=True)
    import rclpy
    from rclpy.context import Context
    from rclpy.signals import SignalHandlerOptions

    context = Context()
    rclpy.init(context=context, signal_handler_options=SignalHandlerOptions.NO)
    executor = NodeThreads(context)
    results = []
    started = time.monotonic()
    try:
        for config in configs:
            print(f'--- episode {config.index + 1}/{len(configs)}: scenario {config.scenario}, '
                  f'seed {config.seed} ({config.criteria.kind})', flush=True)
            try:
                result = run_episode(config, context, executor)
            except PhysicalAIError as err:
                print(f'physical-ai demo: {err}', file=sys.stderr)
                return 1
            results.append(result)
            print(format_episode(result), flush=True)
            write_summary(run_dir / 'summary.json', results, run_dir=str(run_dir), domain_id=domain,
                          wall_time_total_s=time.monotonic() - started)
    except KeyboardInterrupt:
        print('physical-ai demo: interrupted', file=sys.stderr)
        return 1
    finally:
        executor.shutdown(timeout_sec=2.0)
        if context.ok():
            rclpy.shutdown(context=context)

    print('=' * 60)
    print(format_batch(results))
    print(f'summary: {run_dir / "summary.json"}')
    return 0 if results and all(r.success for r in results) else 1
