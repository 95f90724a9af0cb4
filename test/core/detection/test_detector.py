"""Detector end to end on real TorchScript files: boxes back in image pixels, options, drawing."""

import numpy as np
import pytest

from physical_ai.core.detection import Detector, draw_detections, samples
from physical_ai.core.errors import ConfigError


def scene(width=640, height=360, box=(100, 50, 300, 150), color=(0, 0, 255)):
    """Return a dark BGR image with one filled rectangle [x1, x2) x [y1, y2) of `color` (default red)."""
    image = np.full((height, width, 3), 20, np.uint8)
    x1, y1, x2, y2 = box
    image[y1:y2, x1:x2] = color
    return image


def assert_box(det, box, tol=1.0):
    assert [det.x1, det.y1, det.x2, det.y2] == pytest.approx(list(box), abs=tol)


@pytest.fixture
def yolov8(tmp_path):
    path = tmp_path / 'v8.pt'
    samples.save_yolov8(path, imgsz=(320, 320))
    return path


def test_letterboxed_box_comes_back_in_image_pixels(yolov8):
    detector = Detector.from_file(yolov8)
    assert detector.preprocess.input_size == (320, 320)
    dets = detector.detect(scene())
    assert [(d.class_name, round(d.score, 3)) for d in dets] == [('red', 0.9), ('green', 0.5)]
    assert_box(dets[0], (100, 50, 300, 150))
    assert_box(dets[1], (300, 50, 500, 150))


def test_portrait_image_and_stretch(yolov8):
    dets = Detector.from_file(yolov8).detect(scene(360, 640, (60, 300, 200, 420)))
    assert_box(dets[0], (60, 300, 200, 420))
    # stretch 640x360 -> 320x320: 0.5 horizontally, 8/9 vertically (edges on multiples of 9 map exactly)
    dets = Detector.from_file(yolov8, letterbox=False).detect(scene(box=(100, 54, 300, 153)))
    assert_box(dets[0], (100, 54, 300, 153))


def test_rgb_input_and_channel_order(yolov8):
    detector = Detector.from_file(yolov8)
    rgb = np.ascontiguousarray(scene(color=(255, 0, 0))[:, :, ::-1])  # blue rectangle, given as RGB
    assert detector.detect(rgb, 'rgb')[0].class_name == 'blue'
    assert detector.detect(scene(color=(0, 255, 0)))[0].class_name == 'green'


def test_options_change_the_output(yolov8):
    detector = Detector.from_file(yolov8)
    detector.configure(score_threshold=0.7)
    assert [d.class_name for d in detector.detect(scene())] == ['red']
    detector.configure(score_threshold=0.25, classes=['green'])
    assert [d.class_name for d in detector.detect(scene())] == ['green']
    detector.configure(classes=[''], max_detections=1)
    assert [d.class_name for d in detector.detect(scene())] == ['red']
    with pytest.raises(ConfigError, match="'dog' is not a class of the model; known: red, green, blue"):
        detector.configure(classes=['dog'])
    with pytest.raises(ConfigError, match='out of range'):
        detector.configure(score_threshold=1.5)


def test_nothing_seen_is_an_empty_list(yolov8):
    assert Detector.from_file(yolov8).detect(np.zeros((360, 640, 3), np.uint8)) == []


def test_nan_and_inf_outputs_are_dropped(tmp_path):
    path = tmp_path / 'poison.pt'
    samples.save_yolov8(path, poison=True)
    dets = Detector.from_file(path, score_threshold=0.1).detect(scene())
    assert [d.class_name for d in dets] == ['red', 'green']


def test_torchvision_model(tmp_path):
    path = tmp_path / 'tv.pt'
    samples.save_torchvision(path)
    dets = Detector.from_file(path).detect(scene(box=(101, 47, 333, 211)))
    assert len(dets) == 1 and dets[0].class_name == '1' and dets[0].class_index == 1
    assert_box(dets[0], (101, 47, 333, 211), tol=0)  # native size: no resize at all
    names = Detector.from_file(path, labels=['__background__', 'red', 'green', 'blue'])
    assert names.detect(scene(color=(255, 0, 0)))[0].class_name == 'blue'


def test_physical_ai_model_normalisation(tmp_path):
    path = tmp_path / 'own.pt'
    samples.save_physical_ai(path, input_size=(256, 320))
    detector = Detector.from_file(path)
    # 640x360 -> 320x180 in 256x320: pad_y 38
    dets = detector.detect(scene(color=(255, 0, 0)))
    assert [(d.class_name, round(d.score, 2)) for d in dets] == [('blue', 0.7)]
    assert_box(dets[0], (100, 50, 300, 150))


def test_drawing_marks_the_box(yolov8):
    image = scene()
    dets = Detector.from_file(yolov8).detect(image)
    drawn = draw_detections(image, dets)
    assert drawn.shape == image.shape and not np.shares_memory(drawn, image)
    assert (drawn[100, 98:103] != image[100, 98:103]).any()  # left edge of the red box
    assert (drawn[300:, :] == image[300:, :]).all()  # nothing drawn far below the boxes
