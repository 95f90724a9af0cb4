"""One thread per process for all of torch's work: loading, warm-up and every forward pass.

torch's CPU kernels run on an OpenMP team that belongs to the thread that calls them. When two
threads call torch (a node loading its model in the executor's thread, then running it on a worker),
libgomp keeps two teams, counts more threads than cores and stops spinning at its barriers: on two
cores, the YOLOv8n-cost graph behind a 30 Hz 720p camera then took 89 ms per frame against 45 ms
for the bare loop, and 42 ms with every call on one thread (docs/performance.md). `run` hands each
call to one long-lived thread instead (a call made on that thread runs at once). A process with
several models (nodes composed in one process) runs them one after the other on it, which is also
what one OpenMP team over all cores can do.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
import threading
from typing import Any, TypeVar

T = TypeVar('T')

_local = threading.local()


def _mark() -> None:
    _local.model_thread = True


_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix='model', initializer=_mark)


def run(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Call `fn(*args, **kwargs)` on the process's model thread and return (or raise) its result."""
    if getattr(_local, 'model_thread', False):
        return fn(*args, **kwargs)
    return _executor.submit(fn, *args, **kwargs).result()


def on_model_thread() -> bool:
    """Return whether the caller is the model thread."""
    return bool(getattr(_local, 'model_thread', False))
