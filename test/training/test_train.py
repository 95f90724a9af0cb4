import io

import numpy as np
import pytest
import torch

from physical_ai.core.detection import Detector
from physical_ai.training import data, train
from physical_ai.training.model import CenterNet, export


def test_focal_loss_prefers_the_target():
    target = torch.zeros(1, 1, 4, 4)
    target[0, 0, 1, 1] = 1.0
    target[0, 0, 1, 2] = 0.5
    good = torch.full((1, 1, 4, 4), -6.0)
    good[0, 0, 1, 1] = 6.0
    assert train.focal_loss(good, target) < 0.05
    assert train.focal_loss(-good, target) > 5.0
    # A neighbour of the peak is barely penalised for firing: (1 - 0.5) ** 4 reduction.
    near = good.clone()
    near[0, 0, 1, 2] = 6.0
    far = good.clone()
    far[0, 0, 3, 3] = 6.0
    assert train.focal_loss(near, target) < train.focal_loss(far, target)


def test_learning_rate_schedule():
    rates = [train.learning_rate(s, s / 100, 1.0, 10) for s in range(101)]
    assert rates[0] == pytest.approx(0.1) and rates[9] == max(rates) > 0.95
    assert all(a >= b for a, b in zip(rates[9:], rates[10:], strict=False))
    assert rates[-1] == pytest.approx(0.01)


def test_a_few_steps_learn_and_export(tmp_path, draw_scene):
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    scenes = [draw_scene(rng) for _ in range(8)]
    frames = data.frames_from(scenes, input_size=(96, 128))
    history: list[dict[str, float]] = []
    log = io.StringIO()
    net = train.train(CenterNet(), frames, epochs=12, batch_size=8, lr=5e-3,
                      augment=data.Augment(scale=(1.0, 1.0), translate=0.0, flip=0.0, hue=0, saturation=0,
                                           value=0),
                      checkpoint=tmp_path / 'checkpoint.pt', log=log, history=history)
    assert len(history) == 12
    first, last = history[0]['total'], np.mean([h['total'] for h in history[-3:]])
    assert last < 0.7 * first, (first, last)
    assert '12/12' in log.getvalue()
    assert (tmp_path / 'checkpoint.pt').exists()
    assert not net.training
    path = export(net, tmp_path / 'tiny.pt', input_size=(96, 128))
    detector = Detector.from_file(path, score_threshold=0.0)
    found = detector.detect(scenes[0][0])
    assert found and all(d.class_name in ('person', 'ball', 'box', 'cylinder') for d in found)
