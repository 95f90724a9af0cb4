from pathlib import Path

import numpy as np

from physical_ai.core.detection import Detector
from physical_ai.training import data, evaluate
from physical_ai.training.model import INPUT_SIZE, NAMES

SHIPPED = Path(__file__).resolve().parents[2] / 'models' / 'default_detector.pt'


def test_shipped_model_finds_the_objects_of_held_out_simulator_frames(tmp_path):
    assert SHIPPED.stat().st_size < 2_000_000
    detector = Detector.from_file(SHIPPED, score_threshold=0.01)
    assert detector.names == NAMES and detector.model.info.input_size == INPUT_SIZE and detector.model.frozen
    samples = data.simulator_samples(data.EVAL_FIRST_SEED + 500, 24, tmp_path, workers=1)
    report = evaluate.evaluate(detector, samples, data.class_names())
    assert report.objects.sum() > 30
    # 24 frames only: a loose bound under the figures of docs/model.md (mAP@0.5 above 0.9 on 500).
    assert report.map50 > 0.8, report.table()
    assert np.nanmin(report.recall) > 0.6, report.table()
