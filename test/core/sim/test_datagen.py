"""The data generator: exact, deterministic labels in JSON and YOLO form."""

import json

import cv2
import pytest

from physical_ai.core.errors import ConfigError
from physical_ai.core.sim.camera import CameraSpec
from physical_ai.core.sim.datagen import DatagenConfig, generate, main
from physical_ai.core.sim.scenario import CLASSES

CONFIG = DatagenConfig(count=6, seed=11, camera=CameraSpec(160, 120, samples=4), images_per_world=4,
                       min_pixels=4)


def test_same_seed_same_dataset(tmp_path):
    summary = generate(tmp_path / 'a', CONFIG)
    generate(tmp_path / 'b', CONFIG)
    a, b = tmp_path / 'a', tmp_path / 'b'
    assert summary.images == 6 and sum(summary.boxes.values()) > 0
    assert (a / 'labels.json').read_bytes() == (b / 'labels.json').read_bytes()
    for image in sorted((a / 'images').iterdir()):
        assert image.read_bytes() == (b / 'images' / image.name).read_bytes()
    for label in sorted((a / 'labels').iterdir()):
        assert label.read_bytes() == (b / 'labels' / label.name).read_bytes()
    other = generate(tmp_path / 'c', DatagenConfig(count=6, seed=12, camera=CONFIG.camera))
    assert (tmp_path / 'c' / 'labels.json').read_bytes() != (a / 'labels.json').read_bytes()
    assert other.images == 6


def test_labels_match_images_and_each_other(tmp_path):
    generate(tmp_path, CONFIG)
    document = json.loads((tmp_path / 'labels.json').read_text())
    assert document['format'] == 'physical_ai/boxes-1' and document['names'] == list(CLASSES)
    assert document['camera']['fy'] == pytest.approx(CONFIG.camera.intrinsics.fy)
    assert len(document['images']) == 6
    seen = set()
    for record in document['images']:
        image = cv2.imread(str(tmp_path / record['file']))
        assert image.shape == (120, 160, 3) and image.std() > 5.0
        lines = (tmp_path / 'labels' / (record['file'].split('/')[-1][:-4] + '.txt')).read_text().splitlines()
        assert len(lines) == len(record['objects'])
        for line, obj in zip(lines, record['objects'], strict=True):
            x1, y1, x2, y2 = obj['box']
            assert 0 <= x1 < x2 <= 160 and 0 <= y1 < y2 <= 120 and obj['pixels'] >= 4
            cls, cx, cy, w, h = line.split()
            assert int(cls) == CLASSES.index(obj['class']) == obj['class_index']
            assert float(cx) == pytest.approx((x1 + x2) / 2 / 160, abs=1e-6)
            assert float(h) == pytest.approx((y2 - y1) / 120, abs=1e-6)
            assert obj['position'][2] > 0.0
            seen.add(obj['class'])
    assert len(seen) >= 3
    assert 'names:' in (tmp_path / 'data.yaml').read_text()


def test_bad_settings_and_existing_dataset(tmp_path):
    with pytest.raises(ConfigError, match="label format 'coco'"):
        DatagenConfig(formats=('coco',))
    generate(tmp_path, DatagenConfig(count=1, camera=CameraSpec(64, 48), formats=('json',)))
    with pytest.raises(ConfigError, match='already holds a dataset'):
        generate(tmp_path, DatagenConfig(count=1, camera=CameraSpec(64, 48)))
    assert main([str(tmp_path), '--count', '1', '--width', '4000']) == 1
