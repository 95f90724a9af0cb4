"""Start a robot profile's nodes without ros2 launch: in one process, or one process per node.

`physical-ai up --robot sim` reads config/robots/sim.yaml through physical_ai.core.profiles (the
same module the launch files use), so both start the very same graph. By default every node runs
in this process on one multi-threaded executor; `--processes` starts one child per node, restarts
a child that dies (with backoff, a bounded number of times) and forwards Ctrl-C to all of them.
SIGINT or SIGTERM stops everything within 5 s; the planner publishes its zero command first.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator, Sequence
import contextlib
from dataclasses import dataclass, field
import importlib
import os
from pathlib import Path
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from typing import Any

from physical_ai.core.errors import ConfigError
from physical_ai.core.profiles import (
    NodeDescription,
    Profile,
    actuation_warnings,
    available_profiles,
    check_files,
    describe,
    load_profile,
)

# Set in the environment of a runner that re-executed itself, so it never loops.
REEXEC_MARK = 'PHYSICAL_AI_UP_ENV'
STOP_GRACE = 3.5  # seconds children get after SIGINT before SIGKILL (the whole stop stays under 5 s)
STABLE_AFTER = 60.0  # a child that ran this long (s) gets its restart budget back
MAX_BACKOFF = 8.0  # s: the longest wait before a restart, however often a child died
# Node types that always run in a process of their own, even when the rest share one: the safety
# gate must keep publishing (zero) whatever happens to the process of the planner.
OWN_PROCESS_TYPES = ('safety',)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the command-line options of `physical-ai up`."""
    parser.add_argument('--robot', default='sim',
                        help='robot profile: a name in config/robots (default: %(default)s) or a YAML path')
    parser.add_argument('--namespace', '-n', default=None,
                        help='namespace for every node (default: the profile\'s), e.g. robot1')
    parser.add_argument('--set', dest='overrides', action='append', default=[], metavar='NODE.PARAM=VALUE',
                        help='override a parameter (value read as YAML); repeatable, e.g. '
                             '--set inference.score_threshold=0.4')
    parser.add_argument('--use-sim-time', choices=('true', 'false'), default=None,
                        help='set use_sim_time on every node (default: the profile\'s)')
    parser.add_argument('--model-path', default=None, help='TorchScript model for the inference node(s)')
    parser.add_argument('--processes', action='store_true',
                        help='one process per node (default: all nodes in this process)')
    parser.add_argument('--max-restarts', type=int, default=3, metavar='N',
                        help='restarts of a crashed node process before giving up (every node with '
                             '--processes, the safety gate always) '
                             '(default: %(default)s)')
    parser.add_argument('--list', action='store_true', help='list the shipped robot profiles and exit')
    add_network_arguments(parser)
    parser.add_argument('--print', dest='show', action='store_true',
                        help='print the resolved nodes, parameters and remappings, and exit')


def run(args: argparse.Namespace) -> int:
    """Start the profile; return the exit code (0 after a clean stop, 1 on errors)."""
    if args.list:
        for name in available_profiles():
            try:
                print(f'{name}: {load_profile(name).description}')
            except ConfigError as err:
                print(f'{name}: INVALID: {err}')
        return 0
    try:
        profile = load_profile(
            args.robot, namespace=args.namespace, overrides=args.overrides, model_path=args.model_path,
            use_sim_time=None if args.use_sim_time is None else args.use_sim_time == 'true')
        profile = apply_network_arguments(profile, args)
        check_files(profile)
    except ConfigError as err:
        print(f'physical-ai up: {err}', file=sys.stderr)
        return 1
    for warning in actuation_warnings(profile):
        _say(f'WARNING: {warning}')
    if args.show:
        print(describe(profile), end='')
        return 0
    if args.max_restarts < 0:
        print('physical-ai up: --max-restarts must be >= 0', file=sys.stderr)
        return 1
    if profile.gz_bridge:
        _say(f'profile {profile.name!r} expects Gazebo topics through ros_gz_bridge; the runner does not '
             f'start it (gazebo.launch.py does). Run: {shlex.join(profile.bridge_command())}')
    if args.processes:
        remove_stale_shared_memory()
        with discovery_server(profile, profile.environment()):
            return run_processes(profile, args.max_restarts)
    # Fast DDS reads its profile when the participant is made and glibc its tunables at exec:
    # a runner started without them re-executes itself once with them.
    updates = profile.environment_updates()
    if updates and not os.environ.get(REEXEC_MARK):
        env = {**os.environ, **updates, REEXEC_MARK: '1'}
        argv = [sys.executable, '-m', 'physical_ai.cli', 'up', *_argv(args)]
        sys.stdout.flush()
        sys.stderr.flush()
        os.execve(sys.executable, argv, env)
    remove_stale_shared_memory()
    with discovery_server(profile, dict(os.environ)):
        return run_single(profile, args.max_restarts)


def _argv(args: argparse.Namespace) -> list[str]:
    argv = ['--robot', str(args.robot)]
    if args.namespace is not None:
        argv += ['--namespace', args.namespace]
    for text in args.overrides:
        argv += ['--set', text]
    if args.use_sim_time is not None:
        argv += ['--use-sim-time', args.use_sim_time]
    if args.model_path is not None:
        argv += ['--model-path', args.model_path]
    return argv + network_argv(args)


def _say(text: str) -> None:
    print(f'[physical-ai up] {text}', file=sys.stderr, flush=True)


def remove_stale_shared_memory() -> None:
    """Remove the Fast DDS shared-memory files dead processes left (docs/performance.md); say what went."""
    from physical_ai.core.network.shm import remove_stale_files

    found = remove_stale_files()
    if found:
        _say(f'removed {found.summary()}')


# Network: --dds-profile and friends, the Discovery Server a profile asks for --------------------

def add_network_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the options that override a profile's dds_profile and network settings."""
    parser.add_argument('--dds-profile', default=None, choices=('local', 'robot', 'discovery_server'),
                        help="network profile (default: the profile's dds_profile; see docs/network.md)")
    parser.add_argument('--interface', dest='interfaces', action='append', default=None, metavar='NAME',
                        help='allow UDP on this interface (name or IPv4 address); repeatable; replaces '
                             "the profile's network.interfaces")
    parser.add_argument('--discovery-server', default=None, metavar='HOST:PORT',
                        help='Fast DDS Discovery Server of dds_profile discovery_server')
    parser.add_argument('--start-discovery-server', choices=('true', 'false'), default=None,
                        help='start the Discovery Server here (default: the profile\'s network.start_server)')


def apply_network_arguments(profile: Profile, args: argparse.Namespace) -> Profile:
    """Return `profile` with the network options of the command line applied."""
    from physical_ai.core.network import with_network

    start = getattr(args, 'start_discovery_server', None)
    if (args.dds_profile, args.interfaces, args.discovery_server, start) == (None, None, None, None):
        return profile
    return with_network(profile, args.dds_profile, interfaces=args.interfaces,
                        discovery_server=args.discovery_server,
                        start_server=None if start is None else start == 'true')


def network_argv(args: argparse.Namespace) -> list[str]:
    """Return the network options of `args` as command-line arguments again."""
    argv = ['--dds-profile', args.dds_profile] if args.dds_profile else []
    for name in args.interfaces or ():
        argv += ['--interface', name]
    if args.discovery_server is not None:
        argv += ['--discovery-server', args.discovery_server]
    if getattr(args, 'start_discovery_server', None) is not None:
        argv += ['--start-discovery-server', args.start_discovery_server]
    return argv


@contextlib.contextmanager
def discovery_server(profile: Profile, env: dict[str, str]) -> Iterator[None]:
    """Run the profile's Fast DDS Discovery Server (when network.start_server) around the nodes."""
    from physical_ai.core.network import discovery_server_command

    if not profile.network.start_server:
        yield
        return
    command = discovery_server_command(profile.network, env)
    server = subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL, start_new_session=True,
                              preexec_fn=_die_with_parent)
    _say(f'started the Fast DDS Discovery Server on {profile.network.server_address()} (pid {server.pid})')
    try:
        yield
    finally:
        _signal(server, signal.SIGINT)
        try:
            server.wait(STOP_GRACE)
        except subprocess.TimeoutExpired:
            _signal(server, signal.SIGKILL)
            server.wait()


# One process ---------------------------------------------------------------------------------

def node_factory(node: NodeDescription) -> Callable[[], Any]:
    """Return a callable that creates the rclpy node described by `node` (in the default context)."""
    from rclpy.parameter import Parameter

    module_name, _, class_name = node.entry.partition(':')
    node_class = getattr(importlib.import_module(module_name), class_name)
    # An empty list has no type for rclpy; an unset override reads as empty in declare_params.
    overrides = [Parameter(k) if v == [] else Parameter(k, value=v) for k, v in node.parameters.items()]
    cli_args = ['--ros-args'] + [a for s, d in node.remappings for a in ('-r', f'{s}:={d}')] \
        if node.remappings else None

    def make() -> Any:
        kwargs: dict[str, Any] = {'parameter_overrides': overrides, 'cli_args': cli_args}
        if node.namespace:
            kwargs['namespace'] = node.namespace
        return node_class(node_name=node.name, **kwargs)

    return make


def run_single(profile: Profile, max_restarts: int = 3) -> int:
    """Run the profile's nodes in this process until SIGINT/SIGTERM; return the exit code.

    Safety gates (OWN_PROCESS_TYPES) still run as supervised child processes: they start first
    and stop last, so the base hears the gate's zero after the planner has stopped.
    """
    gates = [n for n in profile.nodes if n.node_type in OWN_PROCESS_TYPES]
    shared = [n for n in profile.nodes if n.node_type not in OWN_PROCESS_TYPES]
    with _supervised(profile, gates, max_restarts) as supervisor:
        # Importing the nodes (torch, MuJoCo) takes seconds: a Ctrl-C meanwhile is a clean stop too.
        early: list[int] = []
        previous = {sig: signal.signal(sig, lambda signum, _: early.append(signum))
                    for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            from physical_ai.nodes.common import spin_nodes

            factories = [node_factory(node) for node in shared]
        except ImportError as err:
            _say(f'cannot load a node: {err}')
            return 1
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        if early:
            _say(f'{signal.Signals(early[0]).name} before the nodes started; stopped (exit code 0)')
            return 0
        own = ', '.join(n.fully_qualified_name for n in gates)
        own = f'; {own} in processes of their own' if gates else ''
        _say(f'robot {profile.name!r}: {", ".join(n.fully_qualified_name for n in shared)} '
             f'in one process (pid {os.getpid()}){own}; Ctrl-C stops')
        code = spin_nodes(factories, args=['physical-ai'],
                          stop_when=(lambda: supervisor.failed) if supervisor else None)
        if supervisor is not None and supervisor.failed:
            code = 1
    _say(f'stopped (exit code {code})')
    return code


@contextlib.contextmanager
def _supervised(profile: Profile, nodes: Sequence[NodeDescription], max_restarts: int
                ) -> Iterator[Supervisor | None]:
    """Run `nodes` as supervised child processes (in a thread) for the duration of the block."""
    if not nodes:
        yield None
        return
    folder = Path(tempfile.mkdtemp(prefix='physical_ai_up_'))
    supervisor = Supervisor(_children(nodes, folder), profile.environment(), max_restarts=max_restarts)
    thread = threading.Thread(target=supervisor.run, kwargs={'handle_signals': False}, daemon=True)
    thread.start()
    try:
        yield supervisor
    finally:
        supervisor.stop()
        thread.join()
        shutil.rmtree(folder, ignore_errors=True)


def _children(nodes: Sequence[NodeDescription], folder: Path) -> list[Child]:
    children = []
    for node in nodes:
        params_file = folder / f'{node.name}.yaml'
        params_file.write_text(node.params_yaml())
        children.append(Child(node.fully_qualified_name, node_command(node, params_file)))
    return children


# One process per node ------------------------------------------------------------------------

def node_command(node: NodeDescription, params_file: str | os.PathLike[str] | None = None) -> list[str]:
    """Return the command line that runs `node` as its own process.

    The console script beside this interpreter (what `make setup` installs in .venv/bin) when there
    is one, else this interpreter importing the node module.
    """
    script = Path(sys.executable).parent / node.executable
    if script.is_file() and os.access(script, os.X_OK):
        exe = [str(script)]
    else:
        module_name = node.entry.partition(':')[0]
        exe = [sys.executable, '-c', f'import sys; from {module_name} import main; sys.exit(main())']
    return exe + node.ros_arguments(params_file)


@dataclass
class Child:
    """A supervised child process."""

    name: str
    command: list[str]
    proc: subprocess.Popen[bytes] | None = None
    restarts: int = 0
    started_at: float = 0.0
    restart_at: float | None = None
    history: list[int] = field(default_factory=list)  # pids, oldest first


class Supervisor:
    """Runs children, restarts the ones that die (bounded, with backoff), stops all on a signal."""

    def __init__(self, children: Sequence[Child], env: dict[str, str], max_restarts: int = 3,
                 backoff: float = 1.0, grace: float = STOP_GRACE) -> None:
        self.children = list(children)
        self.env = env
        self.max_restarts = max_restarts
        self.backoff = backoff
        self.grace = grace
        self._stop = threading.Event()
        self._signal: int | None = None
        self.failed = False  # a child ran out of restarts

    def _start(self, child: Child) -> None:
        if child.history:  # a restart: stale shared-memory files (older than shm.FRESH_SECONDS) go first
            remove_stale_shared_memory()
        child.proc = subprocess.Popen(child.command, env=self.env, stdin=subprocess.DEVNULL,
                                      start_new_session=True, preexec_fn=_die_with_parent)
        child.started_at = time.monotonic()
        child.restart_at = None
        child.history.append(child.proc.pid)
        _say(f'started {child.name} (pid {child.proc.pid})')

    def _on_signal(self, signum: int, _frame: Any) -> None:
        self._signal = signum
        self._stop.set()

    def stop(self) -> None:
        """Ask `run` to stop every child and return."""
        self._stop.set()

    def run(self, handle_signals: bool = True) -> int:
        """Supervise until a signal or `stop()` (exit code 0) or a child out of restarts (exit code 1).

        `handle_signals` (main thread only) makes SIGINT and SIGTERM stop the children.
        """
        previous = {sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGINT, signal.SIGTERM)} \
            if handle_signals else {}
        code = 0
        try:
            for child in self.children:
                self._start(child)
            while not self._stop.is_set():
                if not self._check():
                    code = 1
                    self.failed = True
                    break
                self._stop.wait(0.1)
        finally:
            self.stop_all()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        return code

    def _check(self) -> bool:
        now = time.monotonic()
        for child in self.children:
            if child.restart_at is not None:
                if now >= child.restart_at:
                    self._start(child)
                continue
            if child.proc is None or child.proc.poll() is None:
                continue
            code = child.proc.returncode
            how = f'was killed by {signal.Signals(-code).name}' if code < 0 else f'exited with code {code}'
            if now - child.started_at > STABLE_AFTER:
                child.restarts = 0
            if child.restarts >= self.max_restarts:
                _say(f'{child.name} (pid {child.proc.pid}) {how}; giving up after {child.restarts} '
                     'restart(s), stopping everything')
                return False
            delay = min(self.backoff * 2 ** child.restarts, MAX_BACKOFF)
            child.restarts += 1
            child.restart_at = now + delay
            _say(f'{child.name} (pid {child.proc.pid}) {how}; restarting in {delay:.1f} s '
                 f'(restart {child.restarts} of {self.max_restarts})')
        return True

    def stop_all(self) -> None:
        """SIGINT every child, wait up to `grace` s, SIGKILL what is left."""
        alive = [c.proc for c in self.children if c.proc is not None and c.proc.poll() is None]
        for proc in alive:
            _signal(proc, signal.SIGINT)
        deadline = time.monotonic() + self.grace
        for proc in alive:
            try:
                proc.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
        for child in self.children:
            if child.proc is not None and child.proc.poll() is None:
                _say(f'{child.name} (pid {child.proc.pid}) did not stop in {self.grace:.1f} s; killing it')
                _signal(child.proc, signal.SIGKILL)
                child.proc.wait()


def _signal(proc: subprocess.Popen[bytes], sig: int) -> None:
    try:
        os.killpg(proc.pid, sig)  # the child's session: a shell wrapper and the node alike
    except ProcessLookupError:
        pass


def _die_with_parent() -> None:
    # Children are in sessions of their own (so a terminal's Ctrl-C reaches only the runner,
    # which forwards it once); PR_SET_PDEATHSIG still ends them if the runner is killed outright.
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def run_processes(profile: Profile, max_restarts: int = 3) -> int:
    """Run each node of the profile in its own process, supervised; return the exit code."""
    env = profile.environment()
    folder = Path(tempfile.mkdtemp(prefix='physical_ai_up_'))
    try:
        children = _children(profile.nodes, folder)
        _say(f'robot {profile.name!r}: {len(children)} processes (runner pid {os.getpid()}); Ctrl-C stops')
        code = Supervisor(children, env, max_restarts=max_restarts).run()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    _say(f'stopped (exit code {code})')
    return code
