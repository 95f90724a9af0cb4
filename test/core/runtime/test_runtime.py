"""Runtime backends: a real TorchScript file converted, cached, probe-checked; threads; missing package."""

from concurrent.futures import ThreadPoolExecutor
import json
import sys
import threading

import numpy as np
import pytest
import torch

from physical_ai.core import runtime
from physical_ai.core.detection import Detector, load_model, samples
from physical_ai.core.detection.model import ModelError, file_sha256, torchscript_warnings
from physical_ai.core.runtime import thread as model_thread
from physical_ai.training.model import METADATA_FILE, CenterNet, ExportDetector, metadata

CONVERTED = ('openvino', 'onnxruntime')


@pytest.fixture
def tiny(tmp_path):
    path = tmp_path / 'tiny.pt'
    samples.save_tiny_detector(path, imgsz=(64, 96))
    return path


@pytest.mark.parametrize('backend', CONVERTED)
def test_converted_model_gives_the_same_detections(tiny, tmp_path, backend):
    # No threshold and no suppression (an IoU of 1): every box of the model is compared.
    reference = Detector(load_model(tiny, freeze=False), score_threshold=0.0, nms_iou=1.0)
    model = load_model(tiny, backend=backend, threads=1, cache_dir=tmp_path / 'cache')
    assert model.backend == backend and model.module is None and not model.compiled.cached
    assert model.compiled.max_difference < runtime.TOLERANCE
    converted = Detector(model, score_threshold=0.0, nms_iou=1.0)
    frame = torch.Generator().manual_seed(1)
    image = (torch.rand((120, 160, 3), generator=frame) * 255).to(torch.uint8).numpy()
    got, expected = rows(*converted.detect_arrays(image)), rows(*reference.detect_arrays(image))
    assert len(got) == len(expected) == 24  # 4 x 6 cells at stride 16
    # every box has its twin (near-equal scores may rank in another order): within 0.05 px, 1e-4 score
    distance = np.abs(got[:, None, :] - expected[None, :, :]) / np.array([0.05] * 4 + [1e-4, 0.5])
    assert distance.max(axis=2).min(axis=1).max() <= 1.0 and distance.max(axis=2).min(axis=0).max() <= 1.0


def rows(boxes, scores, classes):
    return np.concatenate((boxes, scores[:, None], classes[:, None].astype(np.float32)), axis=1)


@pytest.mark.parametrize('backend', CONVERTED)
def test_second_configure_takes_the_cached_file(tiny, tmp_path, backend):
    cache = tmp_path / 'cache'
    first = load_model(tiny, backend=backend, cache_dir=cache)
    stamp = first.compiled.path.stat().st_mtime_ns
    second = load_model(tiny, backend=backend, cache_dir=cache)
    assert second.compiled.cached and second.compiled.path == first.compiled.path
    assert second.compiled.path.stat().st_mtime_ns == stamp
    entry = first.compiled.path.parent.name
    version = runtime.backend_version(backend)
    assert entry.startswith(file_sha256(tiny)[:32]) and f'-{backend}-{version}-' in entry
    assert [p.name for p in cache.iterdir()] == [entry]  # no temporary folder left behind
    other = tmp_path / 'other.pt'
    samples.save_tiny_detector(other, imgsz=(64, 96), seed=1)  # other weights: another sha256, another entry
    assert load_model(other, backend=backend, cache_dir=cache).compiled.path.parent.name != entry


@pytest.mark.parametrize('backend', CONVERTED)
def test_outputs_beyond_tolerance_are_refused(tiny, tmp_path, backend):
    model = load_model(tiny, freeze=False)
    probe = torch.rand(1, 3, 64, 96, generator=torch.Generator().manual_seed(0))
    with torch.inference_mode():
        output = model.module(probe)
    moved = output.clone()
    moved[0, 0, 0] += 5.0  # one box centre 5 px away from what the file computes
    with pytest.raises(runtime.BackendError, match=r'outputs differ from TorchScript by .* refusing'):
        runtime.compile_backend(backend, model.module, probe, moved, sha256='ab' * 32, cache_dir=tmp_path)
    compiled = runtime.compile_backend(backend, model.module, probe, output, sha256='ab' * 32,
                                       cache_dir=tmp_path)
    assert compiled.cached  # the refused conversion was kept in the cache; only the check refused it


def test_ranked_rows_may_swap_near_equal_scores():
    rows = torch.tensor([[0., 0, 10, 10, 0.9, 0], [5, 5, 20, 20, 0.5, 1], [1, 1, 4, 4, 0.5, 2],
                         [2, 2, 3, 3, 0.1, 0]])
    swapped = rows[[0, 2, 1, 3]]
    assert runtime.output_difference(rows, swapped) > runtime.TOLERANCE
    assert runtime.output_difference(rows, swapped, ranked_rows=True) == 0.0
    other = rows.clone()
    other[1, 2] += 3.0
    assert runtime.output_difference(rows, other, ranked_rows=True) > runtime.TOLERANCE


def test_threads_are_honoured(tiny, tmp_path):
    model = load_model(tiny, backend='onnxruntime', threads=1, cache_dir=tmp_path)
    assert model.compiled.threads == 1
    model = load_model(tiny, backend='openvino', threads=1, cache_dir=tmp_path)
    assert model.compiled.threads == 1


@pytest.mark.parametrize('backend', ('torch',) + CONVERTED)
def test_streams_split_the_threads_and_run_frames_at_once(tiny, tmp_path, backend):
    options = {'backend': backend, 'cache_dir': tmp_path} if backend != 'torch' else {}
    model = load_model(tiny, threads=2, streams=2, **options)
    assert (model.compiled.threads if model.compiled is not None else torch.get_num_threads()) == 1
    detector = Detector(model, score_threshold=0.0, nms_iou=1.0)
    generator = torch.Generator().manual_seed(2)
    images = [(torch.rand((120, 160, 3), generator=generator) * 255).to(torch.uint8).numpy()
              for _ in range(4)]
    expected = [rows(*detector.detect_arrays(image)) for image in images]  # one at a time
    start = threading.Barrier(2)

    def stream(index):
        start.wait()
        mine = images[index::2] * 5  # each stream its own frames, letterboxed and run at the same time
        return [rows(*model_thread.run(detector.detect_arrays, image, stream=index)) for image in mine]

    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(stream, range(2)))
    for index, got in enumerate(results):
        for i, frame in enumerate(got):
            np.testing.assert_allclose(frame, expected[index + 2 * (i % 2)], atol=1e-4)


@pytest.mark.parametrize('backend,package', [('openvino', 'openvino'), ('onnxruntime', 'onnxruntime')])
def test_missing_backend_is_one_clear_error(tiny, monkeypatch, backend, package):
    monkeypatch.setitem(sys.modules, package, None)  # what Python does for a package that is not installed
    with pytest.raises(ModelError) as caught:
        load_model(tiny, backend=backend)
    message = str(caught.value)
    assert f"backend '{backend}' needs the Python package {package}" in message
    assert runtime.PACKAGES[backend] in message and 'make setup' in message and 'backend torch' in message


def test_unconvertible_graph_is_a_clear_error(tmp_path):
    path = tmp_path / 'bright.pt'
    samples.save_yolov8(path, imgsz=(64, 64))  # data-dependent control flow (if found: ...)
    with pytest.raises(ModelError, match='backend openvino: converting the TorchScript graph failed'):
        load_model(path, backend='openvino', cache_dir=tmp_path / 'cache')
    assert not any((tmp_path / 'cache').glob('*/model.xml'))


def test_unexportable_graph_is_one_clear_error_without_torchs_graph_dump(tmp_path, capfd):
    # The detector as physical-ai train exported it before it traced: scripted decoding, no ONNX symbolic.
    path = tmp_path / 'scripted.pt'
    with torchscript_warnings():
        scripted = torch.jit.freeze(torch.jit.script(ExportDetector(CenterNet()).eval()))
        torch.jit.save(scripted, str(path), _extra_files={METADATA_FILE: json.dumps(metadata())})
    print('written before the export')
    with pytest.raises(ModelError, match='backend onnxruntime: exporting the TorchScript graph to ONNX'):
        load_model(path, backend='onnxruntime', cache_dir=tmp_path / 'cache')
    out, err = capfd.readouterr()
    assert runtime.GRAPH_DUMP not in out + err and 'prim::Constant' not in out + err
    assert 'written before the export' in out  # the rest of stdout is kept


def test_unknown_backend_and_cuda_are_refused(tiny):
    with pytest.raises(ModelError, match="backend 'tensorrt' is not accepted"):
        load_model(tiny, backend='tensorrt')
