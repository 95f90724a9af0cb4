"""Fast DDS shared-memory files that a dead process left behind: find them and remove them.

Fast DDS keeps each participant's data segment (`fastdds_<16 hex>`, the size of the profile's
`segment_size`) and each listening port (`fastdds_port<N>` with its `sem.fastdds_port<N>_mutex`) in
/dev/shm. A process that is killed or crashes leaves its files there until reboot, and ports can
stay behind without a lock file after clean exits too (seen after demo runs). That costs memory
(a 32 MiB segment per dead participant with the stack's profiles), and a later participant that
gets the same port number opens the dead port as it is, with the settings it was made with: a
changed `healthy_check_timeout_ms` does not apply to it.

A file is stale when no live process holds it: a segment or port whose lock file (`_el`, `_sl`)
can be locked (the rule of Fast DDS's own `fastdds shm clean`), or a port without a lock file that
no process has mapped (read from /proc; when some process's maps cannot be read, another user's
or a container's init, such ports are kept). Files younger than FRESH_SECONDS are kept, as they
may be being made. Removing a stale file is what Fast DDS does itself when it finds one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
import fcntl
import os
from pathlib import Path
import re
import time

SHM_DIR = Path('/dev/shm')
_SEGMENT = re.compile(r'^fastdds_[0-9a-f]{16}$')
_PORT = re.compile(r'^fastdds_port\d{1,5}$')
_LOCKS = ('_el', '_sl')
FRESH_SECONDS = 10.0  # files younger than this may be being made right now: never stale


@dataclass
class StaleFiles:
    """What `remove_stale_files` removed (or, with `dry_run`, would remove)."""

    segments: list[str] = field(default_factory=list)
    ports: list[str] = field(default_factory=list)
    bytes: int = 0
    kept_unsure: int = 0  # lock-less ports kept because not every process could be read

    def __bool__(self) -> bool:
        return bool(self.segments or self.ports)

    def summary(self) -> str:
        """One line for a log."""
        text = (f'{len(self.segments)} segment(s) and {len(self.ports)} port(s) of dead Fast DDS '
                f'processes, {self.bytes / 2**20:.0f} MiB')
        if self.kept_unsure:
            text += f' ({self.kept_unsure} port(s) without a lock kept: other processes could not be read)'
        return text


def _lock_is_free(path: Path) -> bool:
    """Return whether nobody holds `path` locked (it could be locked exclusively now)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return True
    finally:
        os.close(fd)


def _mapped_files(directory: Path) -> tuple[set[str], bool]:
    """Return the names in `directory` that live processes have mapped, and whether all were read."""
    mapped: set[str] = set()
    complete = True
    prefix = f'{directory.resolve()}/'
    for pid in os.listdir('/proc'):
        if not pid.isdigit():
            continue
        try:
            with open(f'/proc/{pid}/maps') as maps:
                for line in maps:
                    start = line.find(prefix)
                    if start >= 0:
                        mapped.add(line[start + len(prefix):].split(' (deleted)')[0].strip())
        except FileNotFoundError:
            continue  # exited meanwhile
        except OSError:
            complete = False
    return mapped, complete


def _age(path: Path) -> float:
    try:
        return time.time() - path.stat().st_mtime
    except OSError:
        return 0.0


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _remove(path: Path) -> int:
    size = _size(path)
    try:
        path.unlink()
    except FileNotFoundError:
        return 0
    return size


def remove_stale_files(directory: Path = SHM_DIR, dry_run: bool = False,
                       fresh_seconds: float = FRESH_SECONDS) -> StaleFiles:
    """Remove the Fast DDS shared-memory files in `directory` that no live process holds."""
    found = StaleFiles()
    try:
        names = set(os.listdir(directory))
    except FileNotFoundError:
        return found
    mapped: set[str] | None = None
    complete = True
    for name in sorted(names):
        is_segment, is_port = _SEGMENT.match(name), _PORT.match(name)
        if not (is_segment or is_port) or _age(directory / name) < fresh_seconds:
            continue
        locks = [directory / (name + suffix) for suffix in _LOCKS if name + suffix in names]
        if locks:
            stale = all(_lock_is_free(lock) for lock in locks)
        elif is_port:
            if mapped is None:
                mapped, complete = _mapped_files(directory)
            stale = complete and name not in mapped
            found.kept_unsure += not complete
        else:
            continue  # a segment's lock is made before the segment: one without is being made now
        if not stale:
            continue
        files = [directory / name, *locks]
        if is_port:
            files.append(directory / f'sem.{name}_mutex')
        (found.ports if is_port else found.segments).append(name)
        found.bytes += sum(_size(path) if dry_run else _remove(path) for path in files)
    return found
