import argparse

import cv2
import numpy as np
import pytest

from physical_ai.core.detection import Detector
from physical_ai.core.detection.samples import save_physical_ai
from physical_ai.training import evaluate, train


@pytest.fixture
def bright_detector(tmp_path):
    """Return a detector that boxes the bright pixels and names their dominant colour (red, green, blue)."""
    path = tmp_path / 'bright.pt'
    save_physical_ai(path, names=('red', 'green', 'blue'), input_size=(240, 320))
    return Detector.from_file(path, score_threshold=0.01)


def frame(x1, y1, x2, y2, bgr):
    image = np.zeros((480, 640, 3), np.uint8)
    cv2.rectangle(image, (x1, y1), (x2 - 1, y2 - 1), bgr, -1)
    return image


def test_perfect_detector_scores_one_through_the_deployed_pipeline(bright_detector):
    samples = [(frame(100, 60, 300, 220, (0, 0, 255)), np.array([[100, 60, 300, 220]]), np.array([1])),
               (frame(400, 200, 480, 440, (255, 0, 0)), np.array([[400, 200, 480, 440]]), np.array([0]))]
    # Ground-truth names in another order than the model's: matched by name.
    report = evaluate.evaluate(bright_detector, samples, names=('blue', 'red', 'green'))
    np.testing.assert_allclose(report.ap50[:2], 1.0)
    assert report.ap[0] > 0.9 and report.ap[1] > 0.9  # letterbox round trip: within a pixel
    assert np.isnan(report.ap50[2])
    assert report.map50 == 1.0 and report.objects.tolist() == [1, 1, 0]
    assert report.frames == 2 and report.milliseconds > 0
    table = report.table()
    assert 'blue' in table and 'mAP@0.5:0.95' in table and table.splitlines()[-1].startswith('all')


def test_missed_object_and_false_positive(bright_detector):
    samples = [(frame(100, 60, 300, 220, (0, 255, 0)), np.array([[100, 60, 300, 220], [500, 10, 600, 100]]),
                np.array([1, 1])),  # the second green object is not drawn: missed
               (frame(10, 10, 60, 60, (0, 255, 0)), np.zeros((0, 4)), np.zeros(0, int))]  # false positive
    report = evaluate.evaluate(bright_detector, samples, names=('red', 'green', 'blue'))
    # Both detections score 0.7: COCO ranks the first image's first; precision 1 up to recall 0.5, then
    # the false positive ends the curve.
    assert report.ap50[1] == pytest.approx(51 / 101)
    assert report.precision[1] == pytest.approx(0.5) and report.recall[1] == pytest.approx(0.5)


def test_train_then_eval_commands_on_rendered_frames(tmp_path, capsys):
    """Both commands end to end on a few simulator frames: render, train two steps, export, evaluate."""
    cache = tmp_path / 'cache'
    model = tmp_path / 'models' / 'detector.pt'
    parser = argparse.ArgumentParser()
    train.add_arguments(parser)
    args = parser.parse_args(['--images', '4', '--epochs', '1', '--batch-size', '2', '--max-steps', '2',
                              '--threads', '1', '--render-workers', '1', '--cache-dir', str(cache),
                              '--output', str(model)])
    assert train.run(args) == 0
    out = capsys.readouterr().out
    assert '4 training frames' in out and f'wrote {model}' in out
    assert list((cache / 'frames').glob('sim-*-aa4-seed1-n4-240x320.npz'))
    assert (cache / 'checkpoint.pt').exists()

    parser = argparse.ArgumentParser()
    evaluate.add_arguments(parser)
    args = parser.parse_args(['--model', str(model), '--images', '3', '--cache-dir', str(cache),
                              '--render-workers', '1'])
    assert evaluate.run(args) == 0
    out = capsys.readouterr().out
    assert '3 held-out frames (simulator seeds 1000..1000)' in out
    for name in ('person', 'ball', 'box', 'cylinder', 'all'):
        assert f'\n{name} ' in out
    assert list((cache / 'frames').glob('sim-*-aa0-seed1000-n3'))


def test_train_command_keeps_training_seeds_below_the_evaluation_seeds(capsys):
    parser = argparse.ArgumentParser()
    train.add_arguments(parser)
    assert train.run(parser.parse_args(['--first-seed', '990', '--images', '8000'])) == 2
    assert 'below the evaluation seeds' in capsys.readouterr().err


def test_eval_command_refuses_a_missing_model(tmp_path, capsys):
    parser = argparse.ArgumentParser()
    evaluate.add_arguments(parser)
    assert evaluate.run(parser.parse_args(['--model', str(tmp_path / 'none.pt')])) == 1
    assert 'does not exist' in capsys.readouterr().err
