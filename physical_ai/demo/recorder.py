"""Record ROS 2 topics into an MCAP file that rosbag2 (`ros2 bag info/play`) and Foxglove read.

Messages are taken as serialized CDR bytes (`raw=True` subscriptions) and written unchanged:
recording costs one copy per message, never a deserialisation. Each channel carries the schema
rosbag2 itself writes: encoding 'ros2msg', the full message definition (the type's .msg text
followed by every dependency after a line of '=' and a `MSG: pkg/Type` line) read from the installed
share/<pkg>/msg/ files of the ament prefixes, and the type hash (RIHS01) in the channel metadata
(offered_qos_profiles is left empty: its YAML differs between distributions).

`log_time` is the wall-clock receive time (as `ros2 bag record` without `--use-sim-time`);
`publish_time` is the message's header stamp when its first field is a std_msgs/Header, else the
receive time.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
import importlib
import json
import os
from pathlib import Path
import re
import struct
import sys
import threading
import time
from typing import Any

from mcap.writer import CompressionType, Writer

from physical_ai.core.errors import PhysicalAIError

SEPARATOR = '=' * 80 + '\n'
PRIMITIVES = frozenset({
    'bool', 'byte', 'char', 'float32', 'float64', 'int8', 'uint8', 'int16', 'uint16', 'int32',
    'uint32', 'int64', 'uint64', 'string', 'wstring',
})
_FIELD_TYPE = re.compile(r'^([A-Za-z_][\w/]*)')


class RecorderError(PhysicalAIError):
    """A topic cannot be recorded (its message definition is not installed, the file not writable)."""


def ament_prefixes() -> list[Path]:
    """Return the install prefixes that may hold message definitions (AMENT_PREFIX_PATH, this venv)."""
    prefixes = [Path(p) for p in os.environ.get('AMENT_PREFIX_PATH', '').split(os.pathsep) if p]
    prefixes.append(Path(sys.prefix))
    seen: list[Path] = []
    for prefix in prefixes:
        if prefix not in seen and (prefix / 'share').is_dir():
            seen.append(prefix)
    return seen


def split_type(type_name: str) -> tuple[str, str]:
    """Return (package, Type) of 'pkg/msg/Type' or 'pkg/Type'."""
    parts = type_name.split('/')
    if len(parts) == 3 and parts[1] == 'msg' or len(parts) == 2:
        return parts[0], parts[-1]
    raise RecorderError(f'message type {type_name!r}: expected pkg/msg/Type or pkg/Type')


def _msg_file(package: str, name: str, prefixes: Sequence[Path]) -> Path | None:
    for prefix in prefixes:
        path = prefix / 'share' / package / 'msg' / f'{name}.msg'
        if path.is_file():
            return path
    return None


def _dependencies(text: str, package: str, prefixes: Sequence[Path]) -> list[tuple[str, str]]:
    """Return the (package, Type) of every non-primitive field type in a .msg text, in order."""
    deps: list[tuple[str, str]] = []
    for line in text.splitlines():
        line = line.split('#', 1)[0].strip()
        match = _FIELD_TYPE.match(line)
        if not match or not line[match.end():].strip():
            continue
        base = match.group(1)
        if base in PRIMITIVES:
            continue
        if '/' in base:
            dep = split_type(base)
        elif base == 'Header' and _msg_file(package, base, prefixes) is None:
            dep = ('std_msgs', 'Header')  # the one unqualified type rosidl resolves elsewhere
        else:
            dep = (package, base)
        if dep not in deps:
            deps.append(dep)
    return deps


def message_definition(type_name: str, prefixes: Sequence[Path] | None = None) -> str:
    """Return the full ros2msg definition of `type_name` as rosbag2 records it.

    The type's own .msg text, then each dependency (depth first, each once) after a line of 80
    '=' and a `MSG: pkg/Type` line. Raises RecorderError when a .msg file is not installed.
    """
    prefixes = ament_prefixes() if prefixes is None else list(prefixes)
    root = split_type(type_name)
    parts: list[str] = []
    done: set[tuple[str, str]] = set()

    def visit(package: str, name: str) -> None:
        done.add((package, name))
        path = _msg_file(package, name, prefixes)
        if path is None:
            searched = ', '.join(str(p / 'share' / package / 'msg') for p in prefixes) or 'no prefix'
            raise RecorderError(f'message definition {package}/msg/{name}.msg not found (searched '
                                f'{searched}); set AMENT_PREFIX_PATH to the install that provides it')
        text = path.read_text()
        if (package, name) == root:
            parts.append(text.rstrip('\n') + '\n')
        else:
            parts.append(f'{SEPARATOR}MSG: {package}/{name}\n{text.rstrip(chr(10))}\n')
        for dep in _dependencies(text, package, prefixes):
            if dep not in done:
                visit(*dep)

    visit(*root)
    return ''.join(parts)


def type_hash(type_name: str, prefixes: Sequence[Path] | None = None) -> str:
    """Return the RIHS01 type hash from the installed share/<pkg>/msg/<Type>.json, or ''."""
    package, name = split_type(type_name)
    for prefix in ament_prefixes() if prefixes is None else prefixes:
        path = prefix / 'share' / package / 'msg' / f'{name}.json'
        if path.is_file():
            try:
                hashes = json.loads(path.read_text())['type_hashes']
            except (ValueError, KeyError):
                return ''
            wanted = f'{package}/msg/{name}'
            return next((h['hash_string'] for h in hashes if h.get('type_name') == wanted), '')
    return ''


def starts_with_header(definition: str) -> bool:
    """Return True when the first field of a definition is a std_msgs/Header (stamped message)."""
    for line in definition.splitlines():
        line = line.split('#', 1)[0].strip()
        if line:
            return line.split()[0] in ('std_msgs/Header', 'std_msgs/msg/Header', 'Header')
    return False


def header_stamp_ns(data: bytes | memoryview) -> int | None:
    """Return the header stamp (ns) of a CDR message whose first field is a std_msgs/Header."""
    if len(data) < 12:
        return None
    little = data[1] & 1  # encapsulation: 0x0001 CDR_LE, 0x0000 CDR_BE (and their PL_ variants)
    sec, nanosec = struct.unpack_from('<iI' if little else '>iI', data, 4)
    return sec * 1_000_000_000 + nanosec


class McapFile:
    """An MCAP file with the ros2 profile: channels of serialized CDR messages (no rclpy needed)."""

    def __init__(self, path: str | Path, compression: str = 'zstd',
                 prefixes: Sequence[Path] | None = None) -> None:
        self.path = Path(path)
        self._prefixes = ament_prefixes() if prefixes is None else list(prefixes)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._stream = open(self.path, 'wb')
        except OSError as err:
            raise RecorderError(f'cannot write the recording {self.path}: {err}') from err
        kinds = {'zstd': CompressionType.ZSTD, 'lz4': CompressionType.LZ4, 'none': CompressionType.NONE}
        if compression not in kinds:
            raise RecorderError(f'compression {compression!r}: expected one of {", ".join(kinds)}')
        self._writer = Writer(self._stream, compression=kinds[compression])
        self._writer.start(profile='ros2', library='physical_ai recorder')
        self._schemas: dict[str, int] = {}
        self._channels: dict[str, tuple[int, bool]] = {}
        self._sequence: dict[int, int] = {}
        self._lock = threading.Lock()
        self.counts: dict[str, int] = {}
        self.closed = False

    def add_channel(self, topic: str, type_name: str) -> None:
        """Register `topic` with the schema of `type_name` ('pkg/msg/Type'); raises RecorderError."""
        package, name = split_type(type_name)
        type_name = f'{package}/msg/{name}'
        with self._lock:
            if topic in self._channels:
                return
            definition = message_definition(type_name, self._prefixes)
            if type_name not in self._schemas:
                self._schemas[type_name] = self._writer.register_schema(
                    type_name, 'ros2msg', definition.encode())
            # The ros2 profile expects offered_qos_profiles; its YAML differs between distributions
            # (integers up to Iron, names from Jazzy), and rosbag2 reads an empty one everywhere.
            metadata = {'offered_qos_profiles': ''}
            digest = type_hash(type_name, self._prefixes)
            if digest:
                metadata['topic_type_hash'] = digest
            channel = self._writer.register_channel(topic, 'cdr', self._schemas[type_name], metadata)
            self._channels[topic] = (channel, starts_with_header(definition))
            self._sequence[channel] = 0
            self.counts[topic] = 0

    def write(self, topic: str, data: bytes, log_time_ns: int | None = None) -> None:
        """Append one serialized message of a registered topic."""
        log_time = time.time_ns() if log_time_ns is None else log_time_ns
        with self._lock:
            if self.closed:
                return
            channel, stamped = self._channels[topic]
            stamp = header_stamp_ns(data) if stamped else None
            self._sequence[channel] += 1
            self._writer.add_message(channel, log_time=log_time, data=bytes(data),
                                     publish_time=log_time if stamp is None else stamp,
                                     sequence=self._sequence[channel])
            self.counts[topic] += 1

    def close(self) -> None:
        """Write the summary section and close the file."""
        with self._lock:
            if self.closed:
                return
            self.closed = True
            self._writer.finish()
            self._stream.close()


@dataclass(frozen=True)
class TopicOptions:
    """How to record one topic: its type ('pkg/msg/Type', '' = discover) and a rate limit (Hz, 0 = all)."""

    type_name: str = ''
    max_rate: float = 0.0


def message_class(type_name: str) -> Any:
    """Import the Python class of 'pkg/msg/Type'."""
    package, name = split_type(type_name)
    try:
        return getattr(importlib.import_module(f'{package}.msg'), name)
    except (ImportError, AttributeError) as err:
        raise RecorderError(f'message type {type_name}: its Python module is not installed') from err


class TopicRecorder:
    """Subscribes to topics on a node and writes what arrives into an McapFile.

    Topics whose type is not given are subscribed to once a publisher appears. The QoS follows
    the publishers, as rosbag2 does: reliable only when every publisher is reliable, transient
    local only when every publisher is, so nothing offered is refused.
    """

    def __init__(self, node: Any, path: str | Path,
                 topics: Iterable[str] | Mapping[str, TopicOptions], compression: str = 'zstd') -> None:
        self._node = node
        self.file = McapFile(path, compression)
        if not isinstance(topics, Mapping):
            topics = {topic: TopicOptions() for topic in topics}
        self._wanted = {node.resolve_topic_name(t): opts for t, opts in topics.items()}
        self._subscriptions: dict[str, Any] = {}
        self._last: dict[str, float] = {}
        self.skipped: dict[str, str] = {}
        self._timer = node.create_timer(0.5, self.discover)
        self.discover()

    @property
    def path(self) -> Path:
        """Return the path of the MCAP file."""
        return self.file.path

    def discover(self) -> None:
        """Subscribe to every wanted topic that now has a known type and a publisher."""
        from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy

        pending = [t for t in self._wanted if t not in self._subscriptions and t not in self.skipped]
        if not pending:
            return
        graph = dict(self._node.get_topic_names_and_types())
        for topic in pending:
            opts = self._wanted[topic]
            types = graph.get(topic, [])
            type_name = opts.type_name or (types[0] if types else '')
            publishers = self._node.get_publishers_info_by_topic(topic)
            if not type_name or not publishers and not opts.type_name:
                continue
            try:
                cls = message_class(type_name)
                self.file.add_channel(topic, type_name)
            except RecorderError as err:
                self.skipped[topic] = str(err)
                self._node.get_logger().warning(f'not recording {topic}: {err}')
                continue
            reliable = bool(publishers) and all(
                p.qos_profile.reliability == ReliabilityPolicy.RELIABLE for p in publishers)
            latched = bool(publishers) and all(
                p.qos_profile.durability == DurabilityPolicy.TRANSIENT_LOCAL for p in publishers)
            qos = QoSProfile(
                depth=100 if reliable else 10,
                reliability=ReliabilityPolicy.RELIABLE if reliable else ReliabilityPolicy.BEST_EFFORT,
                durability=DurabilityPolicy.TRANSIENT_LOCAL if latched else DurabilityPolicy.VOLATILE)
            self._subscriptions[topic] = self._node.create_subscription(
                cls, topic, self._callback(topic, opts.max_rate), qos, raw=True)

    def _callback(self, topic: str, max_rate: float) -> Any:
        period = 1.0 / max_rate if max_rate > 0 else 0.0

        def on_message(data: bytes, info: Any) -> None:
            if period:
                now = time.monotonic()
                if now - self._last.get(topic, -period) < period:
                    return
                self._last[topic] = now
            self.file.write(topic, data, info.get('received_timestamp') or None)

        return on_message

    @property
    def counts(self) -> dict[str, int]:
        """Return the number of messages written per topic."""
        return dict(self.file.counts)

    def close(self) -> None:
        """Stop recording and finish the file."""
        self._node.destroy_timer(self._timer)
        for sub in self._subscriptions.values():
            self._node.destroy_subscription(sub)
        self._subscriptions.clear()
        self.file.close()
