"""Training on a YOLO dataset, its export and card, evaluation with pycocotools, model info, the real node."""

import json

import numpy as np
import pytest
from rclpy.parameter import Parameter
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
import torch
from vision_msgs.msg import LabelInfo

from physical_ai.cli import main
from physical_ai.core.datasets import DatasetWriter
from physical_ai.core.datasets.shapes import make_shapes
from physical_ai.core.detection import load_model
from physical_ai.core.detection.model import file_sha256, torchscript_warnings
from physical_ai.core.detection.samples import save_yolov8
from physical_ai.nodes.inference_node import InferenceNode
from physical_ai.training import coco, fit, weights
from physical_ai.training.metrics import ImageResult, average_precision
from physical_ai.training.model import ExportDetector
from physical_ai.training.train import SHIPPED

LATCHED = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE,
                     durability=DurabilityPolicy.TRANSIENT_LOCAL)
QUICK = ['--batch-size', '4', '--threads', '1', '--val-period', '0', '--max-steps', '3']


@pytest.fixture
def shapes(tmp_path):
    make_shapes(tmp_path / 'shapes', 12, ('square', 'cross'), seed=2)
    return tmp_path / 'shapes'


def test_fine_tune_exports_the_dataset_names_and_a_card_the_node_loads(ros, shapes, tmp_path, capsys):
    out = tmp_path / 'M.pt'
    assert main(['train', '--data', str(shapes), '--out', str(out), *QUICK]) == 0
    printed = capsys.readouterr().out
    assert 'new class head for 2 classes' in printed and '% step' in printed and 'left' in printed
    model = load_model(out)
    assert model.info.names == ('square', 'cross') and model.frozen
    inside = fit.read_card(out)
    beside = json.loads(fit.card_path(out).read_text())
    assert beside['sha256'] == file_sha256(out) and 'sha256' not in inside
    assert inside['classes'] == beside['classes'] == ['square', 'cross']
    assert inside['dataset']['images'] == {'train': 10, 'val': 2} and len(inside['dataset']['sha256']) == 64
    assert inside['training']['seed'] == 0 and inside['training']['steps'] == 3
    assert 0.0 <= inside['validation']['map50'] <= 1.0
    # The real inference node runs the file and announces the dataset's classes.
    node = ros.add(InferenceNode('inference', context=ros.context,
                                 parameter_overrides=[Parameter('model_path', value=str(out))]))
    assert not node.failed
    msg = ros.wait_for(LabelInfo, 'detections/labels', qos=LATCHED)[0]
    assert [(c.class_id, c.class_name) for c in msg.class_map] == [(0, 'square'), (1, 'cross')]
    assert main(['model', 'info', str(out)]) == 0
    info = capsys.readouterr().out
    assert f'model_sha256: "{file_sha256(out)}"' in info and f'model_path: "{out}"' in info
    assert 'classes:  2 (square, cross)' in info and 'card:     created' in info


def test_from_scratch_is_repeatable_and_resumes(shapes, tmp_path, capsys):
    outputs = []
    for name in ('a.pt', 'b.pt'):
        assert main(['train', '--data', str(shapes), '--init', 'none', '--out', str(tmp_path / name),
                     '--epochs', '1', *QUICK]) == 0
        with torchscript_warnings():
            outputs.append(torch.jit.load(str(tmp_path / name))(torch.full((1, 3, 240, 320), 0.3)))
    assert 'from scratch' in capsys.readouterr().out
    assert torch.equal(outputs[0], outputs[1])  # same seed, same weights
    assert (tmp_path / 'a.pt.checkpoint').is_file()
    assert main(['train', '--data', str(shapes), '--init', 'none', '--out', str(tmp_path / 'a.pt'),
                 '--epochs', '2', '--resume', *QUICK]) == 0
    assert 'resuming from' in capsys.readouterr().out


def test_broken_or_missing_dataset_is_refused_in_one_line(shapes, tmp_path, capsys):
    (shapes / 'labels' / 'train' / '000000.txt').write_text('9 0.5 0.5 0.1 0.1\n')
    assert main(['train', '--data', str(shapes), '--out', str(tmp_path / 'x.pt'), *QUICK]) == 1
    err = capsys.readouterr().err
    assert err.count('\n') == 1 and '000000.txt:1: class 9 is unknown' in err and 'dataset check' in err
    assert main(['eval', '--data', str(tmp_path / 'none'), '--model', SHIPPED]) == 1
    assert capsys.readouterr().err.startswith(f'error: dataset {tmp_path / "none"} does not exist')
    assert not (tmp_path / 'x.pt').exists()


def test_shipped_weights_read_back_compute_what_the_file_computes():
    net, kept = weights.load_exported(SHIPPED, 4, (240, 320))
    x = torch.randn(1, 3, 240, 320, generator=torch.Generator().manual_seed(0))
    with torch.no_grad(), torchscript_warnings():
        expected = torch.jit.load(SHIPPED)(x)
        torch.testing.assert_close(ExportDetector(net.eval())(x), expected, atol=1e-3, rtol=0)
    assert kept and not weights.load_exported(SHIPPED, 2, (240, 320))[1]


def test_eval_of_an_ultralytics_style_model_by_class_name(tmp_path, capsys):
    rng = np.random.default_rng(1)
    writer = DatasetWriter(tmp_path / 'd', ('blue', 'red'), image_format='png')
    for i in range(6):
        image = np.full((240, 320, 3), 30, np.uint8)
        x, y, cls = int(rng.integers(10, 200)), int(rng.integers(10, 120)), i % 2
        image[y:y + 60, x:x + 80] = (255, 0, 0) if cls == 0 else (0, 0, 255)
        writer.add('val' if i >= 4 else 'train', str(i), image, np.array([[x, y, x + 80, y + 60]]), [cls])
    writer.finish()
    model = tmp_path / 'yolo.torchscript'
    save_yolov8(model, imgsz=(320, 320))  # names red, green, blue: matched to the dataset by name
    assert main(['eval', '--data', str(tmp_path / 'd'), '--model', str(model), '--split', 'train',
                 '--plots', str(tmp_path / 'plots')]) == 0
    lines = capsys.readouterr().out.splitlines()
    table = next(line for line in lines if line.startswith('all')).split()
    assert float(table[2]) == pytest.approx(1.0) and table[1] == '4'
    assert any('+0.0000), mAP@0.5:0.95' in line for line in lines)
    assert (tmp_path / 'plots' / 'pr_curve.png').stat().st_size > 1000
    assert (tmp_path / 'plots' / 'confusion_matrix.png').stat().st_size > 1000


def test_hand_written_ap_agrees_with_pycocotools():
    rng = np.random.default_rng(7)
    results = []
    for _ in range(40):
        n = int(rng.integers(0, 6))
        gt = rng.uniform(0, 200, (n, 2))
        gt = np.hstack([gt, gt + rng.uniform(8, 80, (n, 2))])
        gt_classes = rng.integers(0, 3, n)
        keep = rng.random(n) < 0.8  # some objects missed
        boxes = gt[keep] + rng.normal(0, 4, (int(keep.sum()), 4))
        classes = np.where(rng.random(len(boxes)) < 0.9, gt_classes[keep], rng.integers(0, 3, len(boxes)))
        false = rng.uniform(0, 250, (int(rng.integers(0, 3)), 2))
        boxes = np.vstack([boxes, np.hstack([false, false + 30])])
        classes = np.concatenate([classes, rng.integers(0, 3, len(false))])
        results.append(ImageResult(boxes, rng.random(len(boxes)), classes, gt, gt_classes))
    figures = coco.coco_evaluate(results, 3)
    own = average_precision(results, 3)
    assert 0.3 < figures.map50 < 0.95
    assert abs(np.nanmean(own[:, 0]) - figures.map50) < 0.005
    assert abs(np.nanmean(own.mean(axis=1)) - figures.map) < 0.005
    np.testing.assert_allclose(own[:, 0], figures.ap50, atol=0.005)
    matrix = coco.confusion_matrix(results, 3)
    assert matrix.shape == (4, 4) and matrix[:3].sum() == sum(len(r.gt_boxes) for r in results)
