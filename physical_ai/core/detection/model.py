"""Load a TorchScript detector: file checks, sha256 pin, device, freezing, and what the file says of itself.

A model describes itself through an extra file in the TorchScript archive: the project's own
`physical_ai.json` (format "physical_ai/1") or the `config.txt` that Ultralytics exports carry.
Only when neither is there does the output of one probe forward decide the layout.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
import hashlib
import json
import math
import os
from pathlib import Path
import re
from typing import Any
import warnings

import cv2
import torch

from physical_ai.core.detection.decode import LAYOUTS, describe_output, find_layout
from physical_ai.core.errors import ConfigError

FORMATS = ('auto', 'yolov8', 'yolov5', 'torchvision', 'physical_ai')
PHYSICAL_AI_FORMAT = 'physical_ai/1'
PHYSICAL_AI_FILE = 'physical_ai.json'
ULTRALYTICS_FILE = 'config.txt'
# Size of the probe input when nothing says what the model takes (Ultralytics' default imgsz).
DEFAULT_INPUT_SIZE = (640, 640)
# Ultralytics tasks whose output starts with the [4 + nc] rows of a detector.
_ULTRALYTICS_TASKS = ('detect', 'segment', 'pose')
_DEVICE_RE = re.compile(r'^(cpu|cuda)(?::(\d+))?$')


# What a TorchScript forward raises: RuntimeError from operators, torch.jit.Error (not a
# RuntimeError) for a `raise` inside the scripted code, with the TorchScript traceback as message.
MODEL_ERRORS = (RuntimeError, torch.jit.Error)


def error_line(err: BaseException) -> str:
    """Return the one line of an exception that says what went wrong (TorchScript puts it last)."""
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    return f'{type(err).__name__}: {lines[-1][:300] if lines else "(no message)"}'


class ModelError(ConfigError):
    """A model file, its metadata or the device it should run on cannot be used."""


@contextmanager
def torchscript_warnings() -> Iterator[None]:
    """Silence torch's deprecation notices for TorchScript calls made inside this block only.

    torch 2.13 deprecates torch.jit (script, trace, save, load, freeze) in favour of torch.export;
    the notices are expected where this project loads or freezes a model, nowhere else.
    """
    with warnings.catch_warnings():
        for category in (DeprecationWarning, FutureWarning):
            warnings.filterwarnings('ignore', message=r'`torch\.jit\.', category=category)
        yield


@dataclass(frozen=True)
class ModelInfo:
    """What the detector expects and returns, read from the file or found from its output."""

    layout: str  # one of decode.LAYOUTS
    names: tuple[str, ...] = ()
    input_size: tuple[int, int] | None = None  # (h, w); None: the image's own size (torchvision)
    channels: str = 'rgb'  # channel order the model takes
    scale: float = 1.0 / 255.0
    mean: tuple[float, float, float] = (0.0, 0.0, 0.0)
    std: tuple[float, float, float] = (1.0, 1.0, 1.0)
    pad_value: int = 114
    num_classes: int | None = None
    source: str = 'output shapes'  # where the description came from
    task: str = 'detect'
    call: str = 'tensor'  # 'tensor': forward(Tensor[1,3,h,w]); 'list': forward([Tensor[3,h,w]])


@dataclass
class Model:
    """A loaded TorchScript detector, ready to run on tensors of `info.input_size`."""

    module: Any
    path: Path
    device: torch.device
    half: bool
    info: ModelInfo
    frozen: bool = False
    optimized: bool = False  # frozen and run through torch.jit.optimize_for_inference
    freeze_note: str = ''
    sha256: str = ''
    metadata: dict[str, Any] = field(default_factory=dict)
    backend: str = 'torch'
    compiled: Any = None  # a physical_ai.core.runtime.Compiled when backend is not torch
    backend_note: str = ''

    def __call__(self, tensor: torch.Tensor) -> Any:
        """Run the model on a preprocessed [1, 3, h, w] tensor and return its raw output."""
        if self.compiled is not None:
            return self.compiled(tensor)
        with torch.inference_mode():
            if self.info.call == 'list':
                return self.module([tensor[0]])
            return self.module(tensor)

    def release(self) -> None:
        """Drop the module so its memory can be freed (and give CUDA memory back)."""
        self.module = None
        self.compiled = None
        if self.device.type == 'cuda':
            torch.cuda.empty_cache()


def resolve_device(device: str) -> torch.device:
    """Return the torch device for 'cpu', 'cuda' or 'cuda:N', or raise ModelError saying why not."""
    match = _DEVICE_RE.match(device.strip())
    if not match:
        raise ModelError(f"device {device!r} is not accepted; expected 'cpu', 'cuda' or 'cuda:N'")
    kind, index = match.group(1), match.group(2)
    if kind == 'cpu':
        if index is not None:
            raise ModelError(f"device {device!r} is not accepted; expected 'cpu', 'cuda' or 'cuda:N'")
        return torch.device('cpu')
    if not torch.cuda.is_available():
        build = f'CUDA {torch.version.cuda}' if torch.version.cuda else 'a CPU-only build'
        raise ModelError(f'device {device!r} requested but CUDA is not available (torch {torch.__version__}, '
                         f'{build}); use device cpu or install a CUDA build of torch')
    count = torch.cuda.device_count()
    number = int(index or 0)
    if number >= count:
        raise ModelError(f'device {device!r} requested but only {count} CUDA device(s) exist '
                         f'(cuda:0..cuda:{count - 1})')
    return torch.device('cuda', number)


def file_sha256(path: Path) -> str:
    """Return the hex sha256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            digest.update(block)
    return digest.hexdigest()


def read_labels(labels: Sequence[str]) -> tuple[str, ...]:
    """Return class names from a list of names, or from a file when the list is one path.

    A single entry naming an existing file (or ending in .txt/.names) is read as one name per
    line; blank lines at the end are ignored.
    """
    labels = [str(x) for x in labels]
    if len(labels) == 1 and (os.path.isfile(labels[0]) or labels[0].endswith(('.txt', '.names'))):
        path = Path(labels[0])
        try:
            lines = path.read_text(encoding='utf-8').splitlines()
        except (OSError, UnicodeDecodeError) as err:
            raise ModelError(f'labels file {path} cannot be read ({err.__class__.__name__}: {err}); '
                             'expected a UTF-8 text file with one class name per line') from err
        while lines and not lines[-1].strip():
            lines.pop()
        names = tuple(line.strip() for line in lines)
        if not names:
            raise ModelError(f'labels file {path} is empty; expected one class name per line')
        return names
    return tuple(labels)


def parse_metadata_text(text: str, what: str) -> dict[str, Any]:
    """Parse a JSON object, or the Python-dict-like text some exporters write; raise ModelError."""
    text = text.strip()
    try:
        value = json.loads(text)
    except ValueError:
        try:
            value = ast.literal_eval(text)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError) as err:
            raise ModelError(f'{what} is neither JSON nor a Python literal ({err.__class__.__name__}); '
                             'expected an object with names, imgsz, stride, task') from err
    if not isinstance(value, dict):
        raise ModelError(f'{what} holds a {type(value).__name__}; expected an object')
    return value


def _names_from(value: Any, what: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, list | tuple):
        return tuple(str(v) for v in value)
    if isinstance(value, dict):
        try:
            table = {int(k): str(v) for k, v in value.items()}
        except (TypeError, ValueError) as err:
            raise ModelError(f'{what}: names keys must be class indices, got {list(value)[:5]}') from err
        if not table:
            return ()
        if min(table) < 0:
            raise ModelError(f'{what}: names has a negative class index')
        return tuple(table.get(i, str(i)) for i in range(max(table) + 1))
    raise ModelError(f'{what}: names must be a list or an index->name mapping, got {type(value).__name__}')


def _size_from(value: Any, what: str) -> tuple[int, int]:
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = [value, value]
    if not isinstance(value, list | tuple) or len(value) != 2 or \
            not all(isinstance(v, int | float) and not isinstance(v, bool) and v >= 1 for v in value):
        raise ModelError(f'{what} is {value!r}; expected [height, width] of positive integers')
    return int(value[0]), int(value[1])


def physical_ai_info(meta: dict[str, Any]) -> ModelInfo:
    """Return the ModelInfo of the project's own format from its physical_ai.json, checked field by field."""
    where = f'{PHYSICAL_AI_FILE}'
    if meta.get('format') != PHYSICAL_AI_FORMAT:
        raise ModelError(f'{where}: format is {meta.get("format")!r}; expected {PHYSICAL_AI_FORMAT!r}')
    names = _names_from(meta.get('names', []), where)
    size = _size_from(meta.get('input_size'), f'{where}: input_size')
    channels = meta.get('input_channels', 'rgb')
    if channels not in ('rgb', 'bgr'):
        raise ModelError(f'{where}: input_channels is {channels!r}; expected "rgb" or "bgr"')
    triples = {}
    for key, default in (('mean', 0.0), ('std', 1.0)):
        value = meta.get(key, [default] * 3)
        if not isinstance(value, list | tuple) or len(value) != 3 or \
                not all(isinstance(v, int | float) and math.isfinite(v) for v in value):
            raise ModelError(f'{where}: {key} is {value!r}; expected 3 numbers')
        triples[key] = tuple(float(v) for v in value)
    if any(v == 0 for v in triples['std']):
        raise ModelError(f'{where}: std {list(triples["std"])} has a zero')
    scale = meta.get('scale', 1.0 / 255.0)
    if not isinstance(scale, int | float) or not math.isfinite(scale) or scale <= 0:
        raise ModelError(f'{where}: scale is {scale!r}; expected a positive number such as 1/255')
    output = meta.get('output', 'xyxy_score_class')
    if output != 'xyxy_score_class':
        raise ModelError(f'{where}: output is {output!r}; expected "xyxy_score_class"')
    return ModelInfo(layout='xyxy_score_class', names=names, input_size=size, channels=channels,
                     scale=float(scale), mean=triples['mean'], std=triples['std'],
                     num_classes=len(names) or None, source=PHYSICAL_AI_FILE)


def ultralytics_info(meta: dict[str, Any]) -> ModelInfo:
    """Return what an Ultralytics config.txt says (YOLOv8/11 `imgsz`, YOLOv5 `shape`); not the layout."""
    where = ULTRALYTICS_FILE
    task = str(meta.get('task', 'detect'))
    if task not in _ULTRALYTICS_TASKS:
        raise ModelError(f'{where}: task is {task!r}; supported: {", ".join(_ULTRALYTICS_TASKS)} '
                         '(boxes of a detector)')
    names = _names_from(meta.get('names'), where)
    if 'imgsz' in meta:
        size = _size_from(meta['imgsz'], f'{where}: imgsz')
    elif 'shape' in meta and isinstance(meta['shape'], list | tuple) and len(meta['shape']) == 4:
        size = _size_from(list(meta['shape'][2:]), f'{where}: shape')
    else:
        size = None
    # End-to-end exports (YOLOv10, YOLO26, or export(nms=True)) return [1, N, 6] boxes after NMS.
    args = meta.get('args') if isinstance(meta.get('args'), dict) else {}
    layout = 'xyxy_score_class' if meta.get('end2end') or args.get('nms') else ''
    return ModelInfo(layout=layout, names=names, input_size=size, num_classes=len(names) or None,
                     source=where, task=task)


def load_model(path: str | os.PathLike[str], *, sha256: str = '', device: str = 'cpu', half: bool = False,
               threads: int = 0, model_format: str = 'auto', labels: Sequence[str] = (),
               input_size: Sequence[int] = (), freeze: bool = True, optimize: bool = True,
               backend: str = 'torch',
               cache_dir: str | os.PathLike[str] | None = None, streams: int = 1) -> Model:
    """Load, check, describe, probe and (where safe) freeze a TorchScript detector.

    Raises ModelError with one line naming the file or device and what was expected.
    `threads` > 0 sets torch's intra-op thread count for the process (and the backend's); 0 leaves
    the default. `streams` > 1: the model will run that many calls at once, each on a thread of its
    own (physical_ai.core.runtime.thread); the threads are then split between them (at least one
    each; `threads` 0 splits torch's default count). `backend` openvino or onnxruntime converts the
    loaded graph for that runtime (physical_ai.core.runtime: cached in `cache_dir`, checked against
    TorchScript on the probe). `freeze` freezes the graph where the frozen one computes the same, and
    `optimize` then also runs `torch.jit.optimize_for_inference` on it (oneDNN layouts on CPU).
    """
    from physical_ai.core import runtime

    if model_format not in FORMATS:
        raise ModelError(f'model_format {model_format!r} is not accepted; one of {", ".join(FORMATS)}')
    if backend not in runtime.BACKENDS:
        raise ModelError(f'backend {backend!r} is not accepted; one of {", ".join(runtime.BACKENDS)}')
    torch_device = resolve_device(device)
    if backend != 'torch':
        if torch_device.type != 'cpu':
            raise ModelError(f'backend {backend} runs on the CPU here; device {device!r} needs backend torch')
        try:
            runtime.backend_version(backend)  # a missing package is said before anything is loaded
        except runtime.BackendError as err:
            raise ModelError(str(err)) from err
    path = _check_file(path, sha256)
    extra = {PHYSICAL_AI_FILE: '', ULTRALYTICS_FILE: ''}
    try:
        with torchscript_warnings():
            module = torch.jit.load(str(path), map_location=torch_device, _extra_files=extra)
    except (RuntimeError, ValueError, OSError, EOFError) as err:
        reason = str(err).split('\n')[0].split(' This is an internal')[0].strip()
        raise ModelError(f'model file {path} is not a TorchScript file ({reason}); expected a file saved '
                         'with torch.jit.save, e.g. an Ultralytics format=torchscript export') from err
    if streams < 1:
        raise ModelError(f'streams {streams} must be at least 1')
    if streams > 1:
        threads = max(1, (threads or torch.get_num_threads()) // streams)
    if threads > 0:
        torch.set_num_threads(threads)
    # OpenCV (the preprocessing) runs in the caller's thread: its pool's workers spin with
    # sched_yield after each call and preempted the model's torch team ~200 times a second, each
    # time stalling the team's other thread at its next barrier (docs/performance.md). A resize and
    # blob of a 720p frame take the same 1.7-1.9 ms either way.
    cv2.setNumThreads(0)
    metadata: dict[str, Any] = {}
    info = _info_from_files(path, extra, model_format, metadata)
    names = read_labels(labels)
    if names:
        info = replace(info, names=names)
    if input_size:
        info = replace(info, input_size=_size_from(list(input_size), 'parameter input_size'))
    guessed_size = not input_size and info.input_size is None and model_format != 'torchvision'
    if guessed_size:
        info = replace(info, input_size=DEFAULT_INPUT_SIZE)
    module.eval()
    use_half = bool(half) and torch_device.type == 'cuda'
    if use_half:
        module.half()
    model = Model(module=module, path=path, device=torch_device, half=use_half, info=info,
                  sha256=sha256.lower(), metadata=metadata)
    probe, output, info = _probe(model, model_format)
    if guessed_size and info.layout == 'torchvision':
        info = replace(info, input_size=None)  # torchvision detectors take any size and resize inside
    model.info = _check_names(info, path)
    if backend != 'torch':
        _convert(model, backend, probe, output, threads, streams, cache_dir)
    elif freeze:
        _freeze(model, probe, output, optimize)
    return model


def _convert(model: Model, backend: str, probe: torch.Tensor, reference: Any, threads: int, streams: int,
             cache_dir: str | os.PathLike[str] | None) -> None:
    """Run the model through a converted backend from now on, or raise ModelError saying why not."""
    from physical_ai.core import runtime

    if model.info.call != 'tensor':
        raise ModelError(f'model file {model.path}: backend {backend} converts models that take one tensor; '
                         'this one takes a list of images (torchvision); use backend torch')
    try:
        compiled = runtime.compile_backend(backend, model.module, probe, reference,
                                           sha256=model.sha256 or file_sha256(model.path), threads=threads,
                                           streams=streams, cache_dir=cache_dir,
                                           ranked_rows=model.info.layout == 'xyxy_score_class')
    except runtime.BackendError as err:
        raise ModelError(f'model file {model.path}: {err}') from err
    model.compiled = compiled
    model.backend = backend
    model.module = None  # the converted model is what runs; TorchScript's memory goes back
    model.backend_note = (f'{backend} {compiled.version} ({"cached" if compiled.cached else "converted"} '
                          f'{compiled.path}, probe difference {compiled.max_difference:.2g})')


def _check_file(path: str | os.PathLike[str], pin: str) -> Path:
    if not str(path):
        raise ModelError('parameter model_path is empty; set it to a TorchScript model file')
    path = Path(path).expanduser()
    if not path.exists():
        raise ModelError(f'model file {path} does not exist; expected a TorchScript file')
    if not path.is_file():
        raise ModelError(f'model file {path} is not a regular file; expected a TorchScript file')
    pin = pin.strip().lower()
    if pin and not re.fullmatch(r'[0-9a-f]{64}', pin):
        raise ModelError(f'model_sha256 {pin!r} is not a sha256; expected 64 hex digits (empty: no pin)')
    try:
        if pin:
            actual = file_sha256(path)
        else:
            with open(path, 'rb') as f:
                f.read(1)
    except OSError as err:
        raise ModelError(f'model file {path} cannot be read ({err.strerror or err}); '
                         'expected a readable TorchScript file') from err
    if pin and actual != pin:
        raise ModelError(f'model file {path} has sha256 {actual}, expected {pin} (model_sha256); '
                         'refusing a model that is not the pinned one')
    return path


def _info_from_files(path: Path, extra: dict[str, Any], model_format: str,
                     metadata: dict[str, Any]) -> ModelInfo:
    own = _text(extra.get(PHYSICAL_AI_FILE))
    ultra = _text(extra.get(ULTRALYTICS_FILE))
    if model_format in ('auto', 'physical_ai') and own:
        meta = parse_metadata_text(own, f'{path}: {PHYSICAL_AI_FILE}')
        metadata.update(meta)
        try:
            return physical_ai_info(meta)
        except ModelError as err:
            raise ModelError(f'model file {path}: {err}') from err
    if model_format == 'physical_ai':
        raise ModelError(f'model file {path} has no {PHYSICAL_AI_FILE} extra file; model_format physical_ai '
                         'expects one (or use model_format auto)')
    if model_format in ('auto', 'yolov8', 'yolov5') and ultra:
        meta = parse_metadata_text(ultra, f'{path}: {ULTRALYTICS_FILE}')
        metadata.update(meta)
        try:
            info = ultralytics_info(meta)
        except ModelError as err:
            raise ModelError(f'model file {path}: {err}') from err
        if model_format != 'auto':
            info = replace(info, layout=model_format)
        return info
    layout = {'yolov8': 'yolov8', 'yolov5': 'yolov5', 'torchvision': 'torchvision'}.get(model_format, '')
    return ModelInfo(layout=layout, source='output shapes' if not layout else 'model_format')


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode('utf-8', errors='replace')
    return str(value or '')


def _probe_input(model: Model) -> torch.Tensor:
    height, width = model.info.input_size or (480, 640)
    generator = torch.Generator().manual_seed(0)
    tensor = torch.rand((1, 3, height, width), generator=generator).to(model.device)
    return tensor.half() if model.half else tensor


def _probe(model: Model, model_format: str) -> tuple[torch.Tensor, Any, ModelInfo]:
    """Run one forward to learn the output layout (or check the one given); return input, output, info."""
    info = model.info
    tensor = _probe_input(model)
    shape = 'x'.join(map(str, tensor.shape))
    try:
        output = model(tensor)
    except MODEL_ERRORS as err:
        if model_format not in ('auto', 'torchvision') or info.layout not in ('', 'torchvision'):
            raise _run_error(model, shape, err) from err
        # torchvision detectors take a list of [3, h, w] images.
        model.info = info = replace(info, call='list')
        try:
            output = model(tensor)
        except MODEL_ERRORS as err2:
            model.info = replace(info, call='tensor')
            raise _run_error(model, shape, err) from err2
    hint = info.layout or ('' if model_format == 'auto' else model_format)
    try:
        layout, num_classes = find_layout(output, hint, len(info.names) or None,
                                          extra_rows=info.task != 'detect')
    except ValueError as err:
        raise ModelError(f'model file {model.path}: {err}') from err
    info = replace(info, layout=layout, num_classes=num_classes or info.num_classes)
    model.info = info
    return tensor, output, info


def _run_error(model: Model, shape: str, err: Exception) -> ModelError:
    reason = error_line(err)
    size = model.info.input_size
    told = f' (size from {model.info.source})' if size and model.info.source != 'output shapes' else ''
    return ModelError(f'model file {model.path} did not run on an input of shape {shape}{told}: {reason}; '
                      'set input_size to the size the model was exported with')


def _check_names(info: ModelInfo, path: Path) -> ModelInfo:
    if info.layout in ('yolov8', 'yolov5') and info.names and info.num_classes is not None and \
            len(info.names) != info.num_classes:
        shown = ', '.join(info.names[:5]) + (', ...' if len(info.names) > 5 else '')
        raise ModelError(f'model file {path} outputs {info.num_classes} classes but {len(info.names)} '
                         f'name(s) are given ({shown}); expected one name per class')
    return info


def _freeze(model: Model, probe: torch.Tensor, reference: Any, optimize: bool = True) -> None:
    """Freeze (and optimize) the module for inference when the result still computes the same thing.

    Measured: torch.jit.freeze + optimize_for_inference ran a small conv detector ~3x faster on CPU,
    and the shipped detector 1.2-1.6x; on the YOLOv8n-cost graph optimize_for_inference cost about a
    tenth, freezing alone did not (docs/performance.md).
    Some graphs cannot be frozen (methods using attributes, training-only paths) or change results;
    those keep the module as loaded, and `freeze_note` says why.
    """
    loaded = model.module
    try:
        with torchscript_warnings():
            frozen = torch.jit.freeze(loaded)
            model.module = torch.jit.optimize_for_inference(frozen) if optimize else frozen
        output = model(probe)
    except (*MODEL_ERRORS, AttributeError, TypeError) as err:
        model.module = loaded
        model.freeze_note = f'not frozen: {str(err).strip().splitlines()[0][:200]}'
        return
    same = _same_output(reference, output, half=model.half) or _same_ranked_rows(model, reference, output)
    if not same:
        model.module = loaded
        model.freeze_note = 'not frozen: the frozen graph computed different outputs'
        return
    model.frozen = True
    model.optimized = optimize


def _same_ranked_rows(model: Model, reference: Any, output: Any) -> bool:
    """For [N, 6] outputs ranked by score: the same rows up to the order of near-equal scores."""
    from physical_ai.core import runtime

    if model.half or model.info.layout != 'xyxy_score_class':
        return False
    return runtime.output_difference(reference, output, ranked_rows=True) <= runtime.TOLERANCE


def _same_output(a: Any, b: Any, half: bool) -> bool:
    if isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor):
        if a.shape != b.shape:
            return False
        if not a.is_floating_point():
            return bool(torch.equal(a, b))
        a, b = a.float(), b.float()
        both = torch.isfinite(a) & torch.isfinite(b)
        if not torch.equal(torch.isfinite(a), torch.isfinite(b)):
            return False
        if not both.any():
            return True
        magnitude = float(a[both].abs().max())
        tolerance = (2e-2 if half else 1e-3) * max(1.0, magnitude)
        return bool((a[both] - b[both]).abs().max() <= tolerance)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same_output(a[k], b[k], half) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(_same_output(x, y, half) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


__all__ = ['FORMATS', 'LAYOUTS', 'Model', 'ModelError', 'ModelInfo', 'describe_output', 'file_sha256',
           'load_model', 'parse_metadata_text', 'read_labels', 'resolve_device', 'torchscript_warnings']
