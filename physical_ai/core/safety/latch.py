"""The e-stop latch, kept in a file so that a restarted process comes up as it went down.

A true e-stop engages; only an explicit release (a false message) releases; silence releases
nothing. Every change is written to the state file before it counts (write to a temporary file,
fsync, rename), so a process killed at any instant leaves either the old or the new state, and
the gate that comes up after a crash while engaged comes up engaged. A state file that cannot be
read comes up engaged too: when in doubt, the base stays stopped.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
import json
import os
from pathlib import Path
import tempfile
import time

from physical_ai.core.errors import ConfigError

STATE_VERSION = 1


@dataclass(frozen=True)
class LatchState:
    """What the latch holds: engaged or not, why, since when (wall time, s) and from whom."""

    engaged: bool = False
    reason: str = ''
    since: float = 0.0
    source: str = ''
    engage_count: int = 0


class LatchStore:
    """Reads and writes a LatchState as a small JSON file, atomically."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def check_writable(self) -> None:
        """Raise ConfigError if the state file's folder cannot be created or written."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise ConfigError(f'e-stop state folder {self.path.parent} cannot be created: {err.strerror}; '
                              'set state_file to a writable path') from err
        if not os.access(self.path.parent, os.W_OK):
            raise ConfigError(f'e-stop state folder {self.path.parent} is not writable; '
                              'set state_file to a writable path')

    def load(self) -> tuple[LatchState, str]:
        """Return the stored state and a problem ('' if none); a missing file is a released latch.

        A file that cannot be read or parsed gives an engaged state, with the problem saying why.
        """
        try:
            text = self.path.read_text()
        except FileNotFoundError:
            return LatchState(), ''
        except OSError as err:
            problem = f'e-stop state file {self.path} cannot be read ({err.strerror})'
            return LatchState(engaged=True, reason=problem, since=time.time(), source='state file'), problem
        try:
            data = json.loads(text)
            if not isinstance(data, dict) or data.get('version') != STATE_VERSION:
                raise ValueError(f'expected a version {STATE_VERSION} object')
            state = LatchState(engaged=bool(data['engaged']), reason=str(data.get('reason', '')),
                               since=float(data.get('since', 0.0)), source=str(data.get('source', '')),
                               engage_count=int(data.get('engage_count', 0)))
            if not isinstance(data['engaged'], bool):
                raise ValueError('"engaged" must be true or false')
        except (ValueError, KeyError, TypeError) as err:
            problem = f'e-stop state file {self.path} is corrupt ({err})'
            return LatchState(engaged=True, reason=problem, since=time.time(), source='state file'), problem
        return state, ''

    def save(self, state: LatchState, sync: bool = True) -> None:
        """Write `state` so that a reader sees the old or the new file, never a partial one.

        Once this returns, a process that dies finds the new state (the rename is done). `sync`
        also makes it survive a power cut (fsync of the file and its folder), which can take a
        second on a busy disk; `sync=False` leaves that to `sync()`.
        """
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = json.dumps({'version': STATE_VERSION, **asdict(state)}, indent=1)
        fd, tmp = tempfile.mkstemp(prefix=self.path.name + '.', dir=self.path.parent)
        try:
            with os.fdopen(fd, 'w') as out:
                out.write(data + '\n')
                out.flush()
                if sync:
                    os.fsync(out.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
        if sync:
            self.sync()

    def sync(self) -> None:
        """Flush the state file and the rename to the disk."""
        for path, flags in ((self.path, os.O_RDONLY), (self.path.parent, os.O_RDONLY)):
            try:
                fd = os.open(path, flags)
            except OSError:
                continue
            try:
                os.fsync(fd)
            except OSError:
                pass
            finally:
                os.close(fd)


class EStopLatch:
    """An e-stop latch that survives restarts when given a store.

    `engage` and `release` write the new state before returning, unless `save=False`: a caller
    that must act at once (stop the base) calls `save(sync=False)` (a rename: a crash after it
    finds the new state), acts, then `sync()` (an fsync can take a second on a busy disk). When
    the write fails the state still changes in memory (an engage must never be refused) and
    `store_problem` says why, for diagnostics.
    """

    def __init__(self, store: LatchStore | None = None) -> None:
        self.store = store
        self.store_problem = ''
        self.restored = False
        self.state = LatchState()
        self.release_count = 0
        if store is not None:
            self.state, self.store_problem = store.load()
            self.restored = self.state.engaged

    @property
    def engaged(self) -> bool:
        """Return True while the latch holds the base stopped."""
        return self.state.engaged

    def engage(self, source: str, reason: str = 'e_stop true', save: bool = True) -> bool:
        """Engage (if not engaged yet); return True when the state changed."""
        if self.state.engaged:
            return False
        self.state = LatchState(engaged=True, reason=reason, since=time.time(), source=source,
                                engage_count=self.state.engage_count + 1)
        if save:
            self.save()
        return True

    def release(self, source: str, save: bool = True) -> bool:
        """Release (if engaged); return True when the state changed."""
        if not self.state.engaged:
            return False
        self.release_count += 1
        self.restored = False
        self.state = LatchState(engaged=False, reason=f'released by {source}', since=time.time(),
                                source=source, engage_count=self.state.engage_count)
        if save:
            self.save()
        return True

    def save(self, sync: bool = True) -> None:
        """Write the current state to the store (if any); a failure goes to `store_problem`."""
        if self.store is None:
            return
        try:
            self.store.save(self.state, sync=sync)
            self.store_problem = ''
        except OSError as err:
            self.store_problem = f'e-stop state not saved to {self.store.path}: {err.strerror or err}'

    def sync(self) -> None:
        """Make the last `save(sync=False)` survive a power cut."""
        if self.store is not None and not self.store_problem:
            self.store.sync()


class SampleOrder:
    """Passes each publisher's e-stop samples once and in order, whatever path they took.

    The gate listens on several subscriptions at once (reliable and best effort, volatile and
    transient local) so that every kind of publisher is heard; a reliable publisher then reaches
    it twice. Without this, a delayed copy of an old `false` could release a newer `true`.
    """

    def __init__(self, keep: int = 256) -> None:
        self._newest: dict[str, int] = {}
        self._keep = keep

    def accept(self, publisher: str, source_timestamp: int) -> bool:
        """Return True for a sample newer than every sample seen from `publisher` before."""
        if not publisher or source_timestamp <= 0:
            return True  # nothing to order by: take it
        if source_timestamp <= self._newest.get(publisher, 0):
            return False
        if publisher not in self._newest and len(self._newest) >= self._keep:
            self._newest.pop(next(iter(self._newest)))
        self._newest[publisher] = source_timestamp
        return True
