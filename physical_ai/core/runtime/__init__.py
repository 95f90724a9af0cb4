"""Runtime backends for a TorchScript detector: torch itself, OpenVINO or ONNX Runtime, from the same file.

The TorchScript file stays the one artefact a team ships. `compile_backend` converts its module
at configure time (OpenVINO: `openvino.convert_model`; ONNX Runtime: `torch.onnx.export` of the
TorchScript graph), keeps the result in a disk cache keyed by the file's sha256, the input shape
and the backend's (and torch's) version, checks the converted model against TorchScript on a probe
input and refuses it beyond tolerance. The backends are optional packages: a missing one is a
clear error naming the package, never a fallback behind the user's back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
import os
from pathlib import Path
import sys
import tempfile
import threading
from typing import Any

import torch

from physical_ai.core.errors import ConfigError

BACKENDS = ('torch', 'openvino', 'onnxruntime')
# The pinned versions `make setup` installs (requirements.txt); named in the missing-backend error.
PACKAGES = {'openvino': 'openvino==2026.4.1', 'onnxruntime': 'onnxruntime==1.32.0 onnx==1.23.2'}
# Largest accepted |converted - TorchScript| on the probe, relative to max(1, largest |output|).
TOLERANCE = 1e-3


class BackendError(ConfigError):
    """A backend is missing, cannot convert the model, or computes something else than TorchScript."""


@dataclass
class Compiled:
    """A converted model: call it with a float32 [1, 3, h, w] tensor; it returns torch tensors."""

    backend: str
    version: str
    path: Path  # the cached converted file
    cached: bool  # True when the file came from the cache (no conversion at this configure)
    max_difference: float  # largest |converted - TorchScript| on the probe input
    run: Callable[[torch.Tensor], Any]
    tuple_output: bool
    threads: int  # intra-op threads as the runtime reports them after compiling

    def __call__(self, tensor: torch.Tensor) -> Any:
        """Run the converted model; return a tensor (or a tuple of them, as the TorchScript module did)."""
        outputs = self.run(tensor)
        tensors = tuple(torch.from_numpy(out) for out in outputs)
        return tensors if self.tuple_output else tensors[0]


def default_cache_dir() -> Path:
    """Return the cache folder: $PHYSICAL_AI_CACHE/runtime, else ~/.cache/physical_ai/runtime (XDG)."""
    root = os.environ.get('PHYSICAL_AI_CACHE')
    if root:
        return Path(root).expanduser() / 'runtime'
    xdg = os.environ.get('XDG_CACHE_HOME') or os.path.join(os.path.expanduser('~'), '.cache')
    return Path(xdg) / 'physical_ai' / 'runtime'


def backend_version(backend: str) -> str:
    """Return the installed version of a backend's package, or raise BackendError saying how to get it."""
    if backend == 'torch':
        return torch.__version__
    if backend not in BACKENDS:
        raise BackendError(f'backend {backend!r} is not accepted; one of {", ".join(BACKENDS)}')
    try:
        if backend == 'openvino':
            import openvino

            return str(openvino.__version__).split('-')[0]
        import onnx  # noqa: F401  (torch.onnx.export needs it)
        import onnxruntime

        return str(onnxruntime.__version__)
    except ImportError as err:
        raise BackendError(f'backend {backend!r} needs the Python package {err.name or backend}, which is '
                           f'not installed in this Python ({err}); install {PACKAGES[backend]} '
                           '(make setup does) or use backend torch') from err


def cache_key(sha256: str, backend: str, version: str, shape: tuple[int, ...]) -> str:
    """Return the cache entry name: model sha256, backend and version, torch version, input shape."""
    torch_version = torch.__version__.split('+')[0]
    return f'{sha256[:32]}-{backend}-{version}-torch{torch_version}-{"x".join(map(str, shape))}'


def compile_backend(backend: str, module: Any, probe: torch.Tensor, reference: Any, *, sha256: str,
                    threads: int = 0, streams: int = 1, cache_dir: str | os.PathLike[str] | None = None,
                    tolerance: float = TOLERANCE, ranked_rows: bool = False) -> Compiled:
    """Convert a loaded TorchScript module for `backend` (openvino or onnxruntime) and check it.

    `probe` is a float32 input of the shape the model will see, `reference` the TorchScript output
    on it (a tensor or a tuple of tensors). The converted file is cached under `cache_dir`. `threads`
    > 0 sets the backend's intra-op threads per call; `streams` calls may run at once, each from its
    own thread (openvino: that many CPU streams, `threads` each). `ranked_rows`: the output is a
    ranked set of rows (the [N, 6] detections of the project's format), where near-equal scores may
    come in another order: each converted row is then matched to its nearest TorchScript row. Raises
    BackendError with one line saying what failed.
    """
    if backend not in ('openvino', 'onnxruntime'):
        raise BackendError(f'backend {backend!r} has nothing to convert; converted backends: openvino, '
                           'onnxruntime')
    version = backend_version(backend)
    tuple_output = isinstance(reference, tuple | list)
    references = tuple(reference) if tuple_output else (reference,)
    if not references or not all(isinstance(r, torch.Tensor) for r in references):
        raise BackendError(f'backend {backend}: the model returns {type(reference).__name__}; only models '
                           'returning a tensor or a tuple of tensors can be converted (use backend torch)')
    folder = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    entry = folder / cache_key(sha256, backend, version, tuple(probe.shape))
    if backend == 'openvino':
        path, cached, run, used_threads = _openvino(module, probe, entry, threads, streams)
    else:
        path, cached, run, used_threads = _onnxruntime(module, probe, entry, threads, len(references))
    try:
        outputs = run(probe)
    except Exception as err:  # a runtime's own error types; reported, not hidden
        raise BackendError(f'backend {backend} {version}: the converted model ({path}) failed on the probe '
                           f'input ({type(err).__name__}: {str(err).splitlines()[0][:200]})') from err
    difference = output_difference(references, outputs, ranked_rows)
    if not difference <= tolerance:  # also refuses NaN
        raise BackendError(
            f'backend {backend} {version}: outputs differ from TorchScript by {difference:.3g} on the probe '
            f'input (tolerance {tolerance:g} relative to the output magnitude); refusing the converted '
            f'model {path}; use backend torch')
    return Compiled(backend, version, path, cached, difference, run, tuple_output, used_threads)


def output_difference(reference: Any, output: Any, ranked_rows: bool = False) -> float:
    """Return the largest |a - b| / max(1, |a|max) between two outputs (tensors, arrays or tuples of them).

    inf when shapes or the pattern of non-finite values differ. `ranked_rows`: [N, 6] rows (x1, y1,
    x2, y2, score, class) ranked by score, as the project's format returns them. Rows of near-equal
    score may come in another order, and rows tying with the last one may be swapped for others:
    every row scoring clearly above the lowest reference score must then have a counterpart row
    within the difference returned, in both directions.
    """
    import numpy as np

    references = tuple(reference) if isinstance(reference, tuple | list) else (reference,)
    outputs = tuple(output) if isinstance(output, tuple | list) else (output,)
    if len(outputs) != len(references):
        return float('inf')
    worst = 0.0
    for ref, out in zip(references, outputs, strict=True):
        a = _array(ref)
        b = _array(out)
        if a.shape != b.shape:
            return float('inf')
        if a.size == 0:
            continue
        finite = np.isfinite(a)
        if not np.array_equal(finite, np.isfinite(b)):
            return float('inf')
        if not finite.any():
            continue
        scale = max(1.0, float(np.abs(a[finite]).max()))
        difference = float(np.abs(a[finite] - b[finite]).max()) / scale
        if difference > 0 and ranked_rows and a.ndim == 2 and a.shape[1] == 6 and finite.all() \
                and a.shape[0] <= 4096:
            cutoff = float(a[:, 4].min()) + TOLERANCE
            distance = np.abs(b[:, None, :] - a[None, :, :]).max(axis=2)  # [rows of b, rows of a]
            need_b, need_a = b[:, 4] > cutoff, a[:, 4] > cutoff
            ranked = max(float(distance.min(axis=1)[need_b].max(initial=0.0)),
                         float(distance.min(axis=0)[need_a].max(initial=0.0)))
            difference = min(difference, ranked / scale)
        worst = max(worst, difference)
    return worst


def _array(value: Any) -> Any:
    import numpy as np

    if isinstance(value, torch.Tensor):
        return value.detach().float().cpu().numpy()
    return np.asarray(value, dtype=np.float32)


def _write_atomically(target: Path, write: Callable[[Path], None]) -> None:
    """Write a cache entry into a temporary sibling folder, then rename it into place."""
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f'{target.name}.tmp{os.getpid()}')
    temporary.mkdir(parents=True, exist_ok=True)
    try:
        write(temporary)
    except BaseException:
        import shutil

        shutil.rmtree(temporary, ignore_errors=True)
        raise
    try:
        temporary.rename(target)
    except OSError:  # another process filled the entry meanwhile: keep theirs
        import shutil

        shutil.rmtree(temporary, ignore_errors=True)


def _openvino(module: Any, probe: torch.Tensor, entry: Path, threads: int,
              streams: int) -> tuple[Path, bool, Callable[[torch.Tensor], list[Any]], int]:
    import openvino as ov

    xml = entry / 'model.xml'
    cached = xml.is_file() and (entry / 'model.bin').is_file()
    if not cached:
        def write(folder: Path) -> None:
            try:
                converted = ov.convert_model(module, example_input=probe)
            except Exception as err:
                raise BackendError(f'backend openvino: converting the TorchScript graph failed '
                                   f'({type(err).__name__}: {_first_line(err)}); use backend torch') from err
            ov.save_model(converted, str(folder / 'model.xml'), compress_to_fp16=False)

        _write_atomically(entry, write)
    core = ov.Core()
    # f32: on CPUs with bf16 units OpenVINO would otherwise run in bf16 and change the detections.
    config: dict[str, Any] = {'INFERENCE_PRECISION_HINT': 'f32'}
    if streams > 1:  # each calling thread's request runs on a stream of its own
        config['NUM_STREAMS'] = streams
    else:
        config['PERFORMANCE_HINT'] = 'LATENCY'
    if threads > 0:
        config['INFERENCE_NUM_THREADS'] = threads * streams  # OpenVINO counts all streams' threads
    compiled = core.compile_model(str(xml), 'CPU', config)
    count = len(compiled.outputs)
    local = threading.local()  # an infer request per calling thread: a request runs one call at a time

    def run(tensor: torch.Tensor) -> list[Any]:
        request = getattr(local, 'request', None)
        if request is None:
            request = local.request = compiled.create_infer_request()
        request.infer({0: tensor.detach().contiguous().numpy()})
        return [request.get_output_tensor(i).data.copy() for i in range(count)]

    total = int(compiled.get_property('INFERENCE_NUM_THREADS'))
    return xml, cached, run, total // streams if streams > 1 and total else total


def _onnxruntime(module: Any, probe: torch.Tensor, entry: Path, threads: int,
                 outputs: int) -> tuple[Path, bool, Callable[[torch.Tensor], list[Any]], int]:
    import onnxruntime as ort

    path = entry / 'model.onnx'
    cached = path.is_file()
    if not cached:
        def write(folder: Path) -> None:
            import warnings

            try:
                with warnings.catch_warnings(), _stdout_without_graph_dump():
                    warnings.simplefilter('ignore')  # the TorchScript exporter's deprecation notices
                    torch.onnx.export(module, (probe,), str(folder / 'model.onnx'), dynamo=False,
                                      input_names=['images'],
                                      output_names=[f'output{i}' for i in range(outputs)], opset_version=17)
            except Exception as err:
                raise BackendError(f'backend onnxruntime: exporting the TorchScript graph to ONNX failed '
                                   f'({type(err).__name__}: {_first_line(err)}); use backend torch') from err

        _write_atomically(entry, write)
    options = ort.SessionOptions()
    if threads > 0:
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = ort.InferenceSession(str(path), options, providers=['CPUExecutionProvider'])
    name = session.get_inputs()[0].name

    def run(tensor: torch.Tensor) -> list[Any]:
        return session.run(None, {name: tensor.detach().contiguous().numpy()})

    return path, cached, run, int(session.get_session_options().intra_op_num_threads)


GRAPH_DUMP = 'Torch IR graph at exception: '


@contextmanager
def _stdout_without_graph_dump() -> Iterator[None]:
    """Run the block with fd 1 captured, then write the capture back less torch's graph dump.

    The TorchScript ONNX exporter turns its log on whatever `verbose` says (its
    setup_onnx_logging tests a function for truth) and, when an export fails, prints the whole
    graph to stdout: hundreds of lines before the one-line error that says what to do. Anything
    else written to stdout meanwhile is written back afterwards, not lost.
    """
    sys.stdout.flush()
    saved = os.dup(1)
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 1)
        try:
            yield
        finally:
            sys.stdout.flush()
            os.dup2(saved, 1)
            os.close(saved)
            capture.seek(0)
            text = capture.read().decode(errors='replace')
            start = text.find(GRAPH_DUMP)
            if start >= 0:  # the dump ends with the graph's `return (...)` line
                last = text.find('\n  return (', start)
                end = text.find('\n', last + 1) if last >= 0 else -1
                text = text[:start] + (text[end + 1:] if end >= 0 else '')
            if text:
                os.write(1, text.encode())


def _first_line(err: BaseException) -> str:
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    return lines[0][:200] if lines else '(no message)'


__all__ = ['BACKENDS', 'BackendError', 'Compiled', 'backend_version', 'cache_key', 'compile_backend',
           'default_cache_dir', 'output_difference']
