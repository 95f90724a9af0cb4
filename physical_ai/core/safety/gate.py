"""The command gate: highest-priority fresh source wins, zero when in doubt, limits last.

Times are seconds on a steady clock chosen by the caller (the node uses the steady clock, so a
stopped `/clock` or a jump of ROS time cannot hold a stale command on the base).
"""

from __future__ import annotations

from dataclasses import dataclass, field
import math

from physical_ai.core.errors import ConfigError
from physical_ai.core.safety.latch import EStopLatch

# A longer gap between two outputs allows no more speed-up than this many seconds' worth.
MAX_STEP = 0.25


@dataclass(frozen=True)
class Source:
    """A command source (the planner, teleop, Nav2): higher `priority` wins while it is fresh."""

    name: str
    priority: int = 0
    topic: str = ''
    msg_type: str = 'Twist'  # or 'TwistStamped'


@dataclass(frozen=True)
class Command:
    """A velocity command: forward, lateral (holonomic bases) and turn rate."""

    linear: float = 0.0
    lateral: float = 0.0
    angular: float = 0.0

    def finite(self) -> bool:
        """Return True when every component is a finite number."""
        return all(math.isfinite(v) for v in (self.linear, self.lateral, self.angular))

    def is_zero(self) -> bool:
        """Return True for a command that asks for no motion."""
        return self.linear == 0.0 and self.lateral == 0.0 and self.angular == 0.0


ZERO = Command()


@dataclass(frozen=True)
class GateConfig:
    """Timeouts (s), speed limits (m/s, rad/s) and acceleration limits (m/s^2, rad/s^2)."""

    sources: tuple[Source, ...] = (Source('planner'),)
    cmd_timeout: float = 0.5
    deadman_timeout: float = 0.0  # 0: no heartbeat required
    startup_hold: float = 0.0  # s of zero after the first output
    max_linear_speed: float = 0.5
    max_reverse_speed: float = 0.2
    max_lateral_speed: float = 0.0
    max_angular_speed: float = 1.0
    max_linear_accel: float = 1.0
    max_angular_accel: float = 2.0

    def __post_init__(self) -> None:
        if not self.sources:
            raise ConfigError('the safety gate needs at least one command source')
        names = [s.name for s in self.sources]
        if len(set(names)) != len(names):
            raise ConfigError(f'command source names must be unique, got {names}')
        for name in ('cmd_timeout', 'deadman_timeout', 'startup_hold', 'max_linear_speed',
                     'max_reverse_speed', 'max_lateral_speed', 'max_angular_speed', 'max_linear_accel',
                     'max_angular_accel'):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0.0):
                raise ConfigError(f'{name} must be a finite number >= 0, got {value}')
        if self.cmd_timeout <= 0.0:
            raise ConfigError(f'cmd_timeout must be > 0, got {self.cmd_timeout}')

    @classmethod
    def from_params(cls, values: dict) -> GateConfig:
        """Build the config from the safety node's parameter values (physical_ai.params.safety)."""
        names, topics, priorities = (list(values['input_names']), list(values['input_topics']),
                                     list(values['input_priorities']))
        if not len(names) == len(topics) == len(priorities):
            raise ConfigError(f'input_names, input_topics and input_priorities must have the same length, '
                              f'got {len(names)}, {len(topics)} and {len(priorities)}')
        types = list(values['input_types']) or ['Twist'] * len(names)
        if len(types) != len(names):
            raise ConfigError(f'input_types must be empty or have one entry per input ({len(names)}), '
                              f'got {len(types)}')
        return cls(
            sources=tuple(Source(*args) for args in zip(names, priorities, topics, types, strict=True)),
            cmd_timeout=values['cmd_timeout'], deadman_timeout=values['deadman_timeout'],
            startup_hold=values['startup_hold'],
            max_linear_speed=values['max_linear_speed'], max_reverse_speed=values['max_reverse_speed'],
            max_lateral_speed=values['max_lateral_speed'], max_angular_speed=values['max_angular_speed'],
            max_linear_accel=values['max_linear_accel'], max_angular_accel=values['max_angular_accel'])


@dataclass(frozen=True)
class GateOutput:
    """What the gate tells the base now, which source it came from, and why it is zero if it is."""

    command: Command
    source: str  # the source whose command passed, or '' when holding zero
    reason: str  # 'ok', or why the output is zero or reduced

    @property
    def halted(self) -> bool:
        """Return True when the gate holds zero for a safety reason (not a source's own zero)."""
        return self.source == ''


@dataclass
class SourceState:
    """The newest command of one source and its counters."""

    source: Source
    command: Command = ZERO
    received_at: float | None = None
    received: int = 0
    rejected: int = 0
    last_problem: str = ''


@dataclass
class GateCounters:
    """Counts for diagnostics."""

    outputs: int = 0
    zero_outputs: int = 0
    timeouts: int = 0  # transitions into "no fresh command"
    limited: int = 0  # outputs reduced by a speed or acceleration limit
    rejected: int = 0
    heartbeats: int = 0


@dataclass
class CommandGate:
    """Selects, checks and limits velocity commands; see the module docstring."""

    config: GateConfig
    latch: EStopLatch = field(default_factory=EStopLatch)

    def __post_init__(self) -> None:
        self.sources = {s.name: SourceState(s) for s in self.config.sources}
        self.counters = GateCounters()
        self.last = ZERO
        self.last_at: float | None = None
        self.last_output = GateOutput(ZERO, '', 'starting')
        self.heartbeat_at: float | None = None
        self.started_at: float | None = None
        self._timed_out = False

    def reconfigure(self, config: GateConfig) -> None:
        """Apply new limits and timeouts; sources keep their newest commands where names match."""
        old = self.sources
        self.config = config
        self.sources = {s.name: old[s.name] if s.name in old else SourceState(s) for s in config.sources}
        for source in config.sources:
            self.sources[source.name].source = source

    # Inputs -----------------------------------------------------------------------------------

    def offer(self, name: str, command: Command, now: float) -> str:
        """Take a source's command received at `now`; return '' or why it was not taken as it is.

        A command with NaN or Inf is not passed on: it becomes that source's zero (in doubt, stop).
        """
        state = self.sources.get(name)
        if state is None:
            self.counters.rejected += 1
            return f'unknown command source {name!r}'
        state.received += 1
        state.received_at = now
        if not command.finite():
            state.rejected += 1
            self.counters.rejected += 1
            state.command = ZERO
            state.last_problem = f'non-finite command {command} from {name}: replaced by zero'
            return state.last_problem
        state.command = command
        return ''

    def heartbeat(self, alive: bool, now: float) -> None:
        """Take a deadman heartbeat: True keeps the base allowed to move, False stops it now."""
        self.counters.heartbeats += 1
        self.heartbeat_at = now if alive else None

    # Output -----------------------------------------------------------------------------------

    def selected(self, now: float) -> SourceState | None:
        """Return the highest-priority source with a command newer than cmd_timeout, if any."""
        best: SourceState | None = None
        for state in self.sources.values():
            if state.received_at is None or not (0.0 <= now - state.received_at <= self.config.cmd_timeout):
                continue
            if best is None or (state.source.priority, state.received_at) > (best.source.priority,
                                                                             best.received_at or 0.0):
                best = state
        return best

    def why_halted(self, now: float) -> str:
        """Return why the base must be held at zero now, or '' when a command may pass."""
        if self.started_at is None:
            self.started_at = now
        if self.latch.engaged:
            state = self.latch.state
            return f'e_stop engaged ({state.reason}; from {state.source or "unknown"})'
        if now - self.started_at < self.config.startup_hold:
            return f'starting: holding zero for startup_hold ({self.config.startup_hold:g} s)'
        deadman = self.config.deadman_timeout
        if deadman > 0.0 and (self.heartbeat_at is None or not 0.0 <= now - self.heartbeat_at <= deadman):
            return f'no heartbeat within deadman_timeout ({deadman:g} s)'
        return ''

    def output(self, now: float) -> GateOutput:
        """Return the command to publish at `now` (and make it the reference for the next one)."""
        halt = self.why_halted(now)
        chosen = None if halt else self.selected(now)
        if halt:
            result = GateOutput(ZERO, '', halt)
        elif chosen is None:
            if not self._timed_out:
                self.counters.timeouts += 1
            self._timed_out = True
            timeout = self.config.cmd_timeout
            result = GateOutput(ZERO, '', f'no fresh command within cmd_timeout ({timeout:g} s)')
        else:
            self._timed_out = False
            command, reason = self._limit(chosen.command, now)
            result = GateOutput(command, chosen.source.name, reason)
        self.last = result.command
        self.last_at = now
        self.last_output = result
        self.counters.outputs += 1
        if result.command.is_zero():
            self.counters.zero_outputs += 1
        return result

    def _limit(self, command: Command, now: float) -> tuple[Command, str]:
        cfg = self.config
        linear = min(max(command.linear, -cfg.max_reverse_speed), cfg.max_linear_speed)
        lateral = min(max(command.lateral, -cfg.max_lateral_speed), cfg.max_lateral_speed)
        angular = min(max(command.angular, -cfg.max_angular_speed), cfg.max_angular_speed)
        clamped = (linear, lateral, angular) != (command.linear, command.lateral, command.angular)
        dt = MAX_STEP if self.last_at is None else min(max(now - self.last_at, 0.0), MAX_STEP)
        linear2 = _speed_up(linear, self.last.linear, cfg.max_linear_accel * dt)
        lateral2 = _speed_up(lateral, self.last.lateral, cfg.max_linear_accel * dt)
        angular2 = _speed_up(angular, self.last.angular, cfg.max_angular_accel * dt)
        accel = (linear2, lateral2, angular2) != (linear, lateral, angular)
        if clamped or accel:
            self.counters.limited += 1
        reason = 'speed limited' if clamped else 'acceleration limited' if accel else 'ok'
        return Command(linear2, lateral2, angular2), reason


def _speed_up(target: float, last: float, max_change: float) -> float:
    """Limit how fast |speed| grows; slowing down (towards zero) is never held back."""
    base = abs(last) if last * target > 0.0 else 0.0
    magnitude = min(abs(target), base + max_change)
    return math.copysign(magnitude, target) if magnitude > 0.0 else 0.0

