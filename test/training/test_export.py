import json

import numpy as np
import pytest
import torch

from physical_ai.cli import main
from physical_ai.core.detection import Detector, load_model, samples
from physical_ai.core.detection.model import ModelError, file_sha256, torchscript_warnings
from physical_ai.core.runtime import TOLERANCE, output_difference
from physical_ai.training.model import (
    METADATA_FILE,
    NAMES,
    CenterNet,
    ExportDetector,
    count_parameters,
    export,
    metadata,
)
from physical_ai.training.weights import load_exported


@pytest.fixture(scope='module')
def net():
    torch.manual_seed(0)
    model = CenterNet()
    # A few training-mode passes give the BatchNorm layers statistics other than the defaults.
    with torch.no_grad():
        for _ in range(3):
            model(torch.randn(2, 3, 96, 128))
        model.box.out.bias[:2].fill_(3.0)  # untrained sizes may be negative (empty boxes): make them 12 px
    return model.eval()


def test_network_shapes_and_size(net):
    with torch.no_grad():
        heatmap, size, offset = net(torch.zeros(2, 3, 240, 320))
    assert heatmap.shape == (2, 4, 60, 80) and size.shape == (2, 2, 60, 80) and offset.shape == (2, 2, 60, 80)
    assert 50_000 < count_parameters(net) < 500_000
    # Initial heatmap probability 0.1 everywhere (bias -2.19)
    assert float(torch.sigmoid(heatmap).mean()) == pytest.approx(0.1, abs=0.05)


def test_export_is_a_self_describing_torchscript_file(net, tmp_path):
    path = export(net, tmp_path / 'sub' / 'detector.pt', input_size=(240, 320))
    assert path.stat().st_size < 2_000_000
    extra = {METADATA_FILE: ''}
    with torchscript_warnings():
        module = torch.jit.load(str(path), _extra_files=extra)
    meta = json.loads(extra[METADATA_FILE])
    assert meta == {'format': 'physical_ai/1', 'names': list(NAMES), 'input_size': [240, 320],
                    'input_channels': 'rgb', 'scale': 1 / 255, 'mean': [0.5, 0.5, 0.5],
                    'std': [0.25, 0.25, 0.25], 'output': 'xyxy_score_class'}
    x = torch.randn(1, 3, 240, 320)
    out = module(x)
    assert out.shape == (100, 6) and out.dtype == torch.float32
    with torch.no_grad():
        expected = ExportDetector(net)(x)
    # Frozen (BatchNorm folded): rows of tied scores may swap places, every row has its twin.
    assert output_difference(expected, out, ranked_rows=True) < 1e-6
    scores = out[:, 4]
    assert bool((scores[:-1] >= scores[1:]).all()) and bool(((scores >= 0) & (scores <= 1)).all())
    assert set(out[:, 5].tolist()) <= {0.0, 1.0, 2.0, 3.0}
    assert bool((out[:, 2] >= out[:, 0]).all() and (out[:, 3] >= out[:, 1]).all())


def test_export_runs_in_the_inference_node_loader(net, tmp_path):
    path = export(net, tmp_path / 'detector.pt', input_size=(240, 320), extra={'training': {'frames': 3}})
    model = load_model(path)
    assert model.info.layout == 'xyxy_score_class'
    assert model.info.names == NAMES and model.info.input_size == (240, 320)
    assert model.info.source == 'physical_ai.json' and model.frozen, model.freeze_note
    detector = Detector(model, score_threshold=0.0)
    image = np.random.default_rng(0).integers(0, 255, (480, 640, 3), dtype=np.uint8)
    boxes, scores, classes = detector.detect_arrays(image)
    assert len(boxes) > 0
    assert boxes[:, 0::2].max() <= 640 and boxes[:, 1::2].max() <= 480 and boxes.min() >= 0


def test_export_follows_another_input_size(net, tmp_path):
    path = export(net, tmp_path / 'detector.pt', input_size=(240, 320))
    with torchscript_warnings():
        module = torch.jit.load(str(path))
    x = torch.randn(1, 3, 480, 640)  # traced at 240x320: the shapes in the graph still follow the input
    with torch.no_grad():
        assert output_difference(ExportDetector(net)(x), module(x), ranked_rows=True) < 1e-6


@pytest.mark.parametrize('backend', ['openvino', 'onnxruntime'])
def test_export_converts_to_the_other_backends(net, tmp_path, backend):
    # A scripted export kept F.interpolate's rank dispatch and list appends: both converters refused it.
    path = export(net, tmp_path / 'detector.pt', input_size=(240, 320))
    model = load_model(path, backend=backend, threads=1, cache_dir=tmp_path / 'cache')
    assert model.backend == backend and model.compiled.max_difference < TOLERANCE
    image = np.random.default_rng(1).integers(0, 255, (480, 640, 3), dtype=np.uint8)
    got = Detector(model, score_threshold=0.0).detect_arrays(image)
    expected = Detector(load_model(path), score_threshold=0.0).detect_arrays(image)
    assert len(got[0]) == len(expected[0]) > 0
    np.testing.assert_allclose(np.sort(got[1]), np.sort(expected[1]), atol=1e-4)


def test_export_reads_back_as_start_weights(net, tmp_path):
    # physical-ai train --init <a file it wrote>: the traced export's convolutions are found too.
    path = export(net, tmp_path / 'detector.pt', input_size=(240, 320))
    back, kept = load_exported(path, len(NAMES), (240, 320))
    x = torch.randn(1, 3, 240, 320)
    with torch.no_grad(), torchscript_warnings():
        assert output_difference(torch.jit.load(str(path))(x), ExportDetector(back.eval())(x),
                                 ranked_rows=True) < 1e-6
    assert kept


def test_an_earlier_scripted_export_is_written_again_and_then_converts(net, tmp_path, capsys):
    # What physical-ai train wrote before: a scripted, frozen graph, which OpenVINO refuses to convert.
    old = tmp_path / 'old.pt'
    meta = {**metadata(), 'training': {'steps': 7}}
    with torchscript_warnings():
        scripted = torch.jit.freeze(torch.jit.script(ExportDetector(net).eval()))
        torch.jit.save(scripted, str(old), _extra_files={METADATA_FILE: json.dumps(meta),
                                                         'model_card.json': '{"a": 1}'})
    with pytest.raises(ModelError, match='converting the TorchScript graph failed'):
        load_model(old, backend='openvino', threads=1, cache_dir=tmp_path / 'cache')
    new = tmp_path / 'new.pt'
    assert main(['model', 'reexport', str(old), '--out', str(new)]) == 0
    printed = capsys.readouterr().out
    assert f'wrote {new} (sha256 {file_sha256(new)}): outputs as {old}' in printed
    extra = {METADATA_FILE: '', 'model_card.json': ''}
    with torchscript_warnings():
        module = torch.jit.load(str(new), _extra_files=extra)
    assert json.loads(extra[METADATA_FILE]) == meta and extra['model_card.json'] == b'{"a": 1}'
    x = torch.rand(1, 3, 240, 320)
    with torch.no_grad():
        assert output_difference(scripted(x), module(x), ranked_rows=True) < 1e-5
    assert load_model(new, backend='openvino', threads=1, cache_dir=tmp_path / 'cache').backend == 'openvino'


def test_only_a_detector_of_this_project_is_written_again(tmp_path, capsys):
    other = tmp_path / 'yolo.pt'
    samples.save_yolov8(other, imgsz=(64, 64))
    assert main(['model', 'reexport', str(other), '--out', str(tmp_path / 'x.pt')]) == 1
    err = capsys.readouterr().err
    assert err.count('\n') == 1 and 'is not a physical_ai/1 detector of this project' in err
    assert not list(tmp_path.glob('x.pt*'))
