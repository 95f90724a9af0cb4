"""`physical-ai dataset sim` and `shapes`: sets in the YOLO layout that `dataset check` accepts."""

from physical_ai.cli import main
from physical_ai.core.datasets import load_dataset


def test_simulator_frames_in_the_yolo_layout(tmp_path, capsys):
    out = tmp_path / 'sim'
    assert main(['dataset', 'sim', '--out', str(out), '--frames', '3', '--width', '320',
                 '--height', '240']) == 0
    assert main(['dataset', 'check', str(out)]) == 0
    assert 'ok: no problems found' in capsys.readouterr().out
    dataset = load_dataset(out)
    assert dataset.names == ('person', 'ball', 'box', 'cylinder')
    assert len(dataset.images('train')) == 3 and len(dataset.images('val')) == 1
    image, boxes, classes = dataset.samples('train')[0]
    assert image.shape == (240, 320, 3) and len(boxes) == len(classes) >= 1


def test_shapes_and_their_errors(tmp_path, capsys):
    shapes = ['dataset', 'shapes', '--frames', '5', '--out']
    assert main([*shapes, str(tmp_path / 's'), '--classes', 'cross,square']) == 0
    assert load_dataset(tmp_path / 's').names == ('cross', 'square')
    assert main([*shapes, str(tmp_path / 's')]) == 1
    assert 'already holds a dataset' in capsys.readouterr().err
    assert main([*shapes, str(tmp_path / 't'), '--classes', 'star']) == 1
    assert "shape classes ['star'] not known" in capsys.readouterr().err
