import json

import numpy as np
import pytest
import torch

from physical_ai.core.detection import Detector, load_model
from physical_ai.core.detection.model import torchscript_warnings
from physical_ai.training.model import (
    METADATA_FILE,
    NAMES,
    CenterNet,
    ExportDetector,
    count_parameters,
    export,
)


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
        torch.testing.assert_close(out, ExportDetector(net)(x), atol=1e-4, rtol=1e-4)
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
