"""`physical-ai soak`: run the closed loop for minutes while injecting faults, and count what the base heard.

The graph is `physical-ai up --robot sim --processes` (a real runner with one process per node);
this process holds a watcher node and the fault injectors. On a fixed schedule it engages the
e-stop from a publisher that then leaves, kills node processes with SIGKILL (the runner restarts
them), releases the e-stop, floods the planner with 10k-detection arrays, engages from a
best-effort publisher and stops the simulator's clock (SIGSTOP). At the end it prints: commands
received, the worst gap between commands, non-zero commands while engaged (must be 0), the worst
e-stop reaction time, crashes (deaths nobody injected) and restarts. The same `Stack` and `Watch`
drive the fault-injection tests (test/reliability).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
import os
from pathlib import Path
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from typing import Any

from physical_ai.testing import NodeProcess

GRACE = 0.5  # s an e-stop may take to reach the base (the bound), not counted as "while engaged"
FLOOD_SIZE = 10_000  # detections per flood message
RESTART_LINE = re.compile(r'started (\S+) \(pid (\d+)\)')
DEATH_LINE = re.compile(r'(\S+) \(pid (\d+)\) (was killed by \w+|exited with code -?\d+)')


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the command-line options of `physical-ai soak`."""
    parser.add_argument('--minutes', type=float, default=10.0, help='how long to run (default: %(default)s)')
    parser.add_argument('--robot', default='sim',
                        help='robot profile with a simulator (default: %(default)s)')
    parser.add_argument('--period', type=float, default=30.0,
                        help='seconds per fault cycle (default: %(default)s)')
    parser.add_argument('--out', type=Path, default=None,
                        help='folder for the runner log and the e-stop state (default: a temporary one)')


@dataclass
class Engagement:
    """One e-stop engagement: when it was sent, when the base first heard zero, when released."""

    how: str
    sent: float
    zero_at: float | None = None
    released: float | None = None


@dataclass
class Figures:
    """What the soak prints."""

    commands: int = 0
    worst_gap: float = 0.0
    worst_gap_gate_alive: float = 0.0
    nonzero_while_engaged: int = 0
    worst_e_stop_reaction: float = 0.0
    engagements: int = 0
    kills: int = 0
    crashes: int = 0
    restarts: int = 0
    floods: int = 0
    resumed: int = 0  # releases after which the robot moved again
    clock_stops: int = 0
    detections: int = 0
    notes: list[str] = field(default_factory=list)
    events: list[tuple[float, str]] = field(default_factory=list)  # (monotonic, what was injected)

    def mark(self, what: str) -> None:
        """Note an injected fault, so that a gap can be traced to what came before it."""
        self.events.append((time.monotonic(), what))


class Stack:
    """`physical-ai up --processes` as a child process, with its node processes found by name."""

    def __init__(self, robot: str = 'sim', folder: Path | None = None, overrides: Sequence[str] = (),
                 max_restarts: int = 1000, env: dict[str, str] | None = None) -> None:
        self.folder = Path(folder or tempfile.mkdtemp(prefix='physical_ai_soak_'))
        self.folder.mkdir(parents=True, exist_ok=True)
        self.log_path = self.folder / 'runner.log'
        self.state_file = self.folder / 'e_stop.json'
        self.command = [sys.executable, '-m', 'physical_ai.cli', 'up', '--robot', robot, '--processes',
                        '--max-restarts', str(max_restarts), '--set', f'safety.state_file={self.state_file}',
                        *[a for o in overrides for a in ('--set', o)]]
        self.env = dict(os.environ if env is None else env)
        self.process: NodeProcess | None = None
        self.injected: list[tuple[str, int]] = []  # (node name, pid) we killed

    def start(self) -> None:
        """Start the runner."""
        self.process = NodeProcess(self.command, self.folder, self.env, log_path=self.log_path)

    @property
    def proc(self) -> subprocess.Popen[bytes] | None:
        """Return the runner's process (None before `start`)."""
        return self.process.proc if self.process is not None else None

    def output(self) -> str:
        """Return what the runner printed so far."""
        return self.process.output() if self.process is not None else ''

    def children(self) -> dict[str, int]:
        """Return the runner's live node processes: node name -> pid (from `__node:=` in their argv)."""
        assert self.proc is not None, 'Stack.start() first'
        out = {}
        for entry in Path('/proc').iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / 'stat').read_text()
                ppid = int(stat.rsplit(')', 1)[1].split()[1])
                if ppid != self.proc.pid:
                    continue
                argv = (entry / 'cmdline').read_bytes().split(b'\0')
            except (OSError, ValueError, IndexError):
                continue
            for arg in argv:
                if arg.startswith(b'__node:='):
                    out[arg[len(b'__node:='):].decode()] = int(entry.name)
        return out

    def wait_for_children(self, names: Sequence[str], timeout: float = 60.0,
                          exclude: dict[str, int] | None = None) -> dict[str, int]:
        """Wait until each of `names` runs (with a pid other than in `exclude`); return the pids."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.children()
            if all(n in found and (exclude is None or found[n] != exclude.get(n)) for n in names):
                return found
            if time.monotonic() > deadline:
                raise TimeoutError(f'node processes {", ".join(names)} not running after {timeout:.0f} s '
                                   f'(running: {found}); runner log: {self.log_path}')
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f'the runner exited with code {self.proc.returncode}; see {self.log_path}')
            time.sleep(0.1)

    def kill(self, name: str, sig: int = signal.SIGKILL) -> int:
        """Send `sig` to the node process `name`; return its pid."""
        pid = self.children()[name]
        if sig == signal.SIGKILL:
            self.injected.append((name, pid))
        os.kill(pid, sig)
        return pid

    def deaths(self) -> list[tuple[str, int, str]]:
        """Return the child deaths the runner reported: (name, pid, how)."""
        return [(m[1], int(m[2]), m[3]) for m in DEATH_LINE.finditer(self.output())]

    def crashes(self) -> list[tuple[str, int, str]]:
        """Return the deaths that were not injected."""
        killed = {pid for _, pid in self.injected}
        return [d for d in self.deaths() if d[1] not in killed]

    def restarts(self) -> int:
        """Return how many times the runner restarted a child."""
        return self.output().count('restarting in')

    def stop(self, timeout: float = 15.0) -> int:
        """Stop the runner with SIGINT (SIGKILL after `timeout`); return its exit code."""
        if self.process is None:
            return 0
        for pid in self.children().values():  # a paused simulator would not hear SIGINT
            try:
                os.kill(pid, signal.SIGCONT)
            except ProcessLookupError:
                pass
        return self.process.stop(signal.SIGINT, timeout)


class Watch:
    """An rclpy context of its own: records every cmd_vel and detections, and injects ROS faults."""

    def __init__(self, namespace: str = '') -> None:
        import rclpy
        from rclpy.context import Context
        from rclpy.executors import SingleThreadedExecutor

        self.namespace = namespace
        self.context = Context()
        rclpy.init(context=self.context)
        self.executor = SingleThreadedExecutor(context=self.context)
        self.node = self._node('soak_watch')
        self.lock = threading.Lock()
        self.commands: list[tuple[float, float, float]] = []  # (monotonic, linear, angular)
        self.detection_times: list[float] = []
        from geometry_msgs.msg import Twist
        from rclpy.qos import QoSProfile, ReliabilityPolicy
        from vision_msgs.msg import Detection2DArray

        reliable = QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE)
        self.node.create_subscription(Twist, 'cmd_vel', self._on_cmd, reliable)
        self.node.create_subscription(Detection2DArray, 'detections', self._on_detections, 10, raw=True)
        self._flood_pub = self.node.create_publisher(Detection2DArray, 'detections', 10)
        self._flood: tuple[int, bytes] | None = None
        self._thread = threading.Thread(target=self._spin, daemon=True)
        self._thread.start()

    def _node(self, name: str) -> Any:
        from rclpy.node import Node

        node = Node(name, namespace=self.namespace or None, context=self.context)
        self.executor.add_node(node)
        return node

    def _spin(self) -> None:
        from rclpy.executors import ExternalShutdownException

        try:
            self.executor.spin()
        except ExternalShutdownException:
            pass

    def _on_cmd(self, msg: Any) -> None:
        with self.lock:
            self.commands.append((time.monotonic(), msg.linear.x, msg.angular.z))

    def _on_detections(self, _data: bytes) -> None:
        with self.lock:
            self.detection_times.append(time.monotonic())

    def wait_until(self, condition: Callable[[], bool], timeout: float, what: str) -> None:
        """Wait until `condition()` holds; raise TimeoutError naming `what`."""
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise TimeoutError(f'{what} not seen within {timeout:.0f} s')
            time.sleep(0.05)

    def commands_since(self, t: float) -> list[tuple[float, float, float]]:
        """Return the commands received after monotonic time `t`."""
        with self.lock:
            return [c for c in self.commands if c[0] > t]

    def detections_since(self, t: float) -> int:
        """Return how many detections messages arrived after `t`."""
        with self.lock:
            return sum(1 for d in self.detection_times if d > t)

    def moving_since(self, t: float) -> bool:
        """Return True when a non-zero command arrived after `t`."""
        return any(c[1] != 0.0 or c[2] != 0.0 for c in self.commands_since(t))

    def e_stop(self, value: bool, best_effort: bool = False, transient_local: bool = False,
               linger: float = 0.5) -> float:
        """Publish one e-stop sample from a publisher node that then leaves; return when it was sent."""
        from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
        from std_msgs.msg import Bool

        reliability = ReliabilityPolicy.BEST_EFFORT if best_effort else ReliabilityPolicy.RELIABLE
        durability = DurabilityPolicy.TRANSIENT_LOCAL if transient_local else DurabilityPolicy.VOLATILE
        qos = QoSProfile(depth=1, reliability=reliability, durability=durability)
        node = self._node(f'soak_e_stop_{time.monotonic_ns()}')
        pub = node.create_publisher(Bool, 'e_stop', qos)
        deadline = time.monotonic() + 10.0
        while pub.get_subscription_count() == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        # Discovery both ways: a reader drops samples of a writer it has not matched yet (a
        # best-effort one is lost; a reliable one comes with the next heartbeat, a second later).
        time.sleep(1.0)
        sent = time.monotonic()
        pub.publish(Bool(data=value))
        # No wait_for_all_acked: it holds the GIL (stalling this process's own subscriptions)
        # for its whole timeout when a killed gate's reader is still in the graph.
        time.sleep(linger)
        self.executor.remove_node(node)
        node.destroy_node()  # the source goes away: nobody will send false from it
        return sent

    def flood(self, count: int = FLOOD_SIZE) -> None:
        """Publish one detections array with `count` detections (as a broken detector might).

        Built and serialized once: making 10k Python message objects takes this process's GIL
        for a good part of a second, which would show up as a gap in the commands it watches.
        """
        if self._flood is None or self._flood[0] != count:
            from rclpy.serialization import serialize_message
            from vision_msgs.msg import Detection2D, Detection2DArray, ObjectHypothesisWithPose

            det = Detection2D()
            hyp = ObjectHypothesisWithPose()
            hyp.hypothesis.class_id, hyp.hypothesis.score = 'ball', 0.9
            det.results = [hyp]
            det.bbox.size_x, det.bbox.size_y = 40.0, 40.0
            self._flood = (count, serialize_message(Detection2DArray(detections=[det] * count)))
        self._flood_pub.publish(self._flood[1])

    def close(self) -> None:
        """Shut the context down."""
        import rclpy

        self.executor.shutdown(timeout_sec=2.0)
        rclpy.shutdown(context=self.context)
        self._thread.join(timeout=5.0)


def gaps(times: Sequence[float]) -> list[float]:
    """Return the gaps between consecutive times."""
    return [b - a for a, b in zip(times, times[1:], strict=False)]


def nonzero_while_engaged(commands: Sequence[tuple[float, float, float]],
                          engagements: Sequence[Engagement], grace: float = GRACE) -> int:
    """Count non-zero commands received later than `grace` after an engagement and before its release."""
    count = 0
    for e in engagements:
        end = e.released if e.released is not None else float('inf')
        count += sum(1 for t, v, w in commands if e.sent + grace < t < end and (v != 0.0 or w != 0.0))
    return count


def first_zero_after(commands: Sequence[tuple[float, float, float]], t: float) -> float | None:
    """Return when the first zero command after `t` arrived."""
    return next((c[0] for c in commands if c[0] > t and c[1] == 0.0 and c[2] == 0.0), None)


def run(args: argparse.Namespace) -> int:
    """Run the soak; print the figures; exit 0 only when nothing moved while engaged and nothing crashed."""
    from physical_ai.core.environment import claim_domain_id, ros_environment

    # The soak's graph stays on this host, on a domain id no other run here holds.
    os.environ.update(ros_environment('loopback', override=True))
    os.environ.pop('ROS_LOCALHOST_ONLY', None)
    if not os.environ.get('ROS_DOMAIN_ID'):
        os.environ['ROS_DOMAIN_ID'] = str(claim_domain_id())
    stack = Stack(args.robot, args.out)
    figures = Figures()
    print(f'[soak] {args.minutes:g} min of faults on {args.robot!r}; runner log {stack.log_path}', flush=True)
    stack.start()
    watch = Watch()
    engagements: list[Engagement] = []
    gate_down: list[tuple[float, float]] = []
    try:
        stack.wait_for_children(['sim', 'inference', 'planner', 'safety'])
        watch.wait_until(lambda: watch.moving_since(0.0), 120.0, 'a non-zero command')
        end = time.monotonic() + args.minutes * 60.0
        cycle = 0
        victims = ['planner', 'inference', 'safety']
        while time.monotonic() < end:
            figures.notes.append(_cycle(stack, watch, engagements, gate_down, figures,
                                        victims[cycle % len(victims)], args.period))
            cycle += 1
            print(f'[soak] cycle {cycle}: {figures.notes[-1]}', flush=True)
    except (TimeoutError, RuntimeError) as err:
        figures.notes.append(f'aborted: {err}')
        print(f'[soak] aborted: {err}', flush=True)
    finally:
        commands = list(watch.commands)
        code = stack.stop()
        watch.close()
    times = [c[0] for c in commands]
    all_gaps = gaps(times)
    figures.commands = len(commands)
    figures.worst_gap = max(all_gaps, default=0.0)
    alive = [(g, t) for t, g in zip(times, all_gaps, strict=False)
             if not any(a - 0.1 <= t + g and t <= b for a, b in gate_down)]
    figures.worst_gap_gate_alive = max((g for g, _ in alive), default=0.0)
    for g, t in sorted(alive, reverse=True)[:3]:
        before = [what for at, what in figures.events if at <= t]
        figures.notes.append(f'gap {g:.3f} s while the gate ran, {t - times[0]:.1f} s in, after '
                             f'{before[-1] if before else "nothing injected"}')
    figures.nonzero_while_engaged = nonzero_while_engaged(commands, engagements)
    figures.engagements = len(engagements)
    reactions = [e.zero_at - e.sent for e in engagements if e.zero_at is not None]
    figures.worst_e_stop_reaction = max(reactions, default=0.0)
    figures.crashes = len(stack.crashes())
    figures.restarts = stack.restarts()
    figures.detections = len(watch.detection_times)
    _print(figures, code)
    ok = figures.nonzero_while_engaged == 0 and figures.crashes == 0 and not any(
        n.startswith('aborted') for n in figures.notes)
    return 0 if ok else 1


def _cycle(stack: Stack, watch: Watch, engagements: list[Engagement], gate_down: list[tuple[float, float]],
           figures: Figures, victim: str, period: float) -> str:
    """One fault cycle: engage and leave, kill, restart under e-stop, release, flood, best effort, clock."""
    started = time.monotonic()
    # Each cycle starts the scenario afresh (the robot far from its target): the simulator is
    # killed like any node and restarted by the runner.
    pids = stack.children()
    figures.mark('SIGKILL sim')
    stack.kill('sim')
    figures.kills += 1
    stack.wait_for_children(['sim'], exclude=pids)
    fresh = time.monotonic()
    watch.wait_until(lambda: watch.moving_since(fresh), 60.0, 'motion after the simulator restart')
    figures.mark('e-stop true (reliable)')
    e = Engagement('reliable, then the publisher leaves', watch.e_stop(True))
    engagements.append(e)
    pids = stack.children()
    killed_at = time.monotonic()
    figures.mark(f'SIGKILL {victim}')
    stack.kill(victim)
    figures.kills += 1
    stack.wait_for_children([victim], exclude=pids)
    if victim == 'safety':  # the base hears nothing until the new gate publishes
        watch.wait_until(lambda: bool(watch.commands_since(killed_at)), 30.0, 'the restarted gate')
        gate_down.append((killed_at, watch.commands_since(killed_at)[0][0]))
    # With detections flowing again, the restarted graph must still hold zero.
    after = time.monotonic()
    watch.wait_until(lambda: watch.detections_since(after) >= 5, 60.0, 'detections after the restart')
    time.sleep(2.0)
    e.zero_at = first_zero_after(watch.commands_since(0.0), e.sent)
    figures.mark('e-stop false')
    e.released = watch.e_stop(False)
    watch.wait_until(lambda: watch.moving_since(e.released), 30.0, 'motion after the release')
    figures.resumed += 1
    for _ in range(3):
        figures.mark('10k-detection flood')
        watch.flood()
        figures.floods += 1
        time.sleep(1.0)
    figures.mark('e-stop true (best effort)')
    be = Engagement('best effort', watch.e_stop(True, best_effort=True))
    engagements.append(be)
    time.sleep(1.5)
    be.zero_at = first_zero_after(watch.commands_since(0.0), be.sent)
    figures.mark('e-stop false')
    be.released = watch.e_stop(False)
    sim = stack.children().get('sim')
    if sim is not None:
        figures.mark('SIGSTOP sim (/clock stops)')
        os.kill(sim, signal.SIGSTOP)  # /clock stops: the gate must still zero the base
        figures.clock_stops += 1
        time.sleep(2.0)
        os.kill(sim, signal.SIGCONT)
    left = period - (time.monotonic() - started)
    if left > 0:
        time.sleep(left)
    reaction = max((x.zero_at - x.sent for x in (e, be) if x.zero_at is not None), default=float('nan'))
    return f'killed {victim}; e-stop reaction {reaction:.3f} s; {time.monotonic() - started:.0f} s'


def _print(f: Figures, code: int) -> None:
    rows = [
        ('commands received', f'{f.commands}'),
        ('worst gap between commands', f'{f.worst_gap:.3f} s'),
        ('worst gap while the gate ran', f'{f.worst_gap_gate_alive:.3f} s'),
        ('non-zero commands while engaged', f'{f.nonzero_while_engaged}'),
        ('e-stop engagements', f'{f.engagements}'),
        ('worst e-stop reaction', f'{f.worst_e_stop_reaction:.3f} s'),
        ('processes killed (injected)', f'{f.kills}'),
        ('crashes (not injected)', f'{f.crashes}'),
        ('restarts', f'{f.restarts}'),
        ('moved again after release', f'{f.resumed}'),
        ('10k-detection floods', f'{f.floods}'),
        ('clock stops', f'{f.clock_stops}'),
        ('detections messages', f'{f.detections}'),
        ('runner exit code', f'{code}'),
    ]
    width = max(len(k) for k, _ in rows)
    print('\n[soak] figures')
    for key, value in rows:
        print(f'  {key:<{width}}  {value}')
    for note in f.notes:
        if note.startswith(('aborted', 'gap')):
            print(f'  {note}')
