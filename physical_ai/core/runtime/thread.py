"""Model threads: long-lived threads, one per stream, for all of torch's work (loading, warm-up, frames).

torch's CPU kernels run on an OpenMP team that belongs to the thread that calls them. When two
threads call torch (a node loading its model in the executor's thread, then running it on a worker),
libgomp keeps two teams, counts more threads than cores and stops spinning at its barriers: on two
cores, the YOLOv8n-cost graph behind a 30 Hz 720p camera then took 89 ms per frame against 45 ms
for the bare loop, and 42 ms with every call on one thread (docs/performance.md). `run` hands each
call to the long-lived thread of its stream instead (a call made on that thread runs at once), and
`start` runs a node's whole frame loop there, so a frame pays no hand-over between threads.

A node claims its streams (`claim`) for its lifetime: stream 0 for the first node of a process, the
next free ones for a second node composed into the same process. A node that runs several frames
at once (`streams` > 1) claims one stream per frame in flight, each with `threads / streams`
intra-op threads: the threads of all its teams together then still fit the cores, and no team waits
at a barrier for a thread another team's work took.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
import threading
from typing import Any, TypeVar

T = TypeVar('T')

MAX_STREAMS = 64

_local = threading.local()
_lock = threading.Lock()
_executors: list[ThreadPoolExecutor] = []
_claimed: set[int] = set()


def _mark(stream: int) -> None:
    _local.stream = stream


def _executor(stream: int) -> ThreadPoolExecutor:
    if not 0 <= stream < MAX_STREAMS:
        raise ValueError(f'model stream {stream} is out of range [0, {MAX_STREAMS})')
    with _lock:
        while len(_executors) <= stream:
            index = len(_executors)
            _executors.append(ThreadPoolExecutor(max_workers=1, thread_name_prefix=f'model{index}',
                                                 initializer=_mark, initargs=(index,)))
        return _executors[stream]


def run(fn: Callable[..., T], *args: Any, stream: int = 0, **kwargs: Any) -> T:
    """Call `fn(*args, **kwargs)` on the thread of model stream `stream`; return (or raise) its result."""
    if current_stream() == stream:
        return fn(*args, **kwargs)
    return _executor(stream).submit(fn, *args, **kwargs).result()


def start(fn: Callable[..., T], *args: Any, stream: int, **kwargs: Any) -> Future[T]:
    """Start `fn(*args, **kwargs)` (a frame loop) on the thread of `stream`; return its Future.

    Until it returns, every other call for that stream waits: only the node that claimed the stream
    starts loops on it.
    """
    return _executor(stream).submit(fn, *args, **kwargs)


def claim(count: int) -> tuple[int, ...]:
    """Reserve the `count` lowest free streams for one node; give them back with `release`."""
    with _lock:
        free = [s for s in range(MAX_STREAMS) if s not in _claimed][:count]
        if len(free) < count:
            raise ValueError(f'{count} model streams asked for, {len(free)} free of {MAX_STREAMS} in this '
                             'process')
        _claimed.update(free)
    return tuple(free)


def release(streams: tuple[int, ...]) -> None:
    """Give back streams taken with `claim` (their threads stay, for the next node)."""
    with _lock:
        _claimed.difference_update(streams)


def on_model_thread() -> bool:
    """Return whether the caller is a model thread (of any stream)."""
    return current_stream() is not None


def current_stream() -> int | None:
    """Return the stream whose thread is calling (None on any other thread)."""
    return getattr(_local, 'stream', None)
