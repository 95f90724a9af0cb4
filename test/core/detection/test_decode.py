"""Decoding each output layout, dropping non-finite rows, and recognising layouts by shape."""

import math

import pytest
import torch

from physical_ai.core.detection.decode import decode, describe_output, find_layout

NAN, INF = math.nan, math.inf


def yolov8_output(rows):
    """Build [1, 4 + nc, N] from rows (cx, cy, w, h, *class_scores)."""
    return torch.tensor(rows, dtype=torch.float32).T.unsqueeze(0)


def test_yolov8():
    out = yolov8_output([[50, 40, 20, 10, 0.1, 0.8], [10, 10, 4, 4, 0.2, 0.1], [0, 0, 0, 0, 0, 0]])
    boxes, scores, classes = decode(out, 'yolov8', 0.15, num_classes=2)
    assert boxes.tolist() == [[40, 35, 60, 45], [8, 8, 12, 12]]
    torch.testing.assert_close(scores, torch.tensor([0.8, 0.2]))
    assert classes.tolist() == [1, 0]


def test_yolov8_ignores_rows_after_the_classes():
    out = yolov8_output([[50, 40, 20, 10, 0.9, 0.1, 5.0, 7.0]])  # 2 classes, 2 mask coefficients
    boxes, scores, classes = decode(out, 'yolov8', 0.5, num_classes=2)
    assert classes.tolist() == [0] and scores.tolist() == pytest.approx([0.9])


def test_yolov5():
    out = torch.tensor([[[50, 40, 20, 10, 0.5, 0.2, 0.9], [9, 9, 2, 2, 0.1, 1.0, 0.0]]])
    boxes, scores, classes = decode(out, 'yolov5', 0.3)
    assert boxes.tolist() == [[40, 35, 60, 45]] and classes.tolist() == [1]
    assert scores.tolist() == pytest.approx([0.45])


def test_torchvision_dict_list_and_tuple():
    det = {'boxes': torch.tensor([[1.0, 2, 3, 4], [5, 6, 7, 8]]), 'labels': torch.tensor([3, 1]),
           'scores': torch.tensor([0.9, 0.1])}
    for output in (det, [det], ({}, [det])):
        boxes, scores, classes = decode(output, 'torchvision', 0.5)
        assert boxes.tolist() == [[1, 2, 3, 4]] and classes.tolist() == [3]
    boxes, scores, classes = decode((det['boxes'], det['scores'], det['labels']), 'torchvision', 0.05)
    assert classes.tolist() == [3, 1] and scores.tolist() == pytest.approx([0.9, 0.1])


def test_xyxy_score_class():
    out = torch.tensor([[1, 2, 3, 4, 0.7, 2], [1, 2, 3, 4, 0.7, -1], [1, 2, 3, 4, 0.7, NAN]])
    boxes, scores, classes = decode(out, 'xyxy_score_class', 0.5)
    assert boxes.tolist() == [[1, 2, 3, 4]] and classes.tolist() == [2]
    assert decode(out.unsqueeze(0), 'xyxy_score_class', 0.5)[2].tolist() == [2]


@pytest.mark.parametrize('bad', [
    [NAN, 40, 20, 10, 0.9], [50, 40, INF, 10, 0.9], [50, 40, 20, 10, NAN], [50, 40, 20, 10, INF],
    [-INF, 40, 20, 10, 0.9],
])
def test_non_finite_rows_are_dropped(bad):
    out = yolov8_output([bad, [50, 40, 20, 10, 0.6]])
    boxes, scores, classes = decode(out, 'yolov8', 0.25)
    assert boxes.tolist() == [[40, 35, 60, 45]] and scores.tolist() == pytest.approx([0.6])
    tv = {'boxes': torch.tensor([bad[:4], [1.0, 1, 2, 2]]), 'labels': torch.tensor([0, 0]),
          'scores': torch.tensor([bad[4], 0.5])}
    assert decode(tv, 'torchvision', 0.25)[0].tolist() == [[1, 1, 2, 2]]


@pytest.mark.parametrize('output,num_classes,expected', [
    (torch.zeros(1, 84, 8400), None, ('yolov8', 80)),
    (torch.zeros(1, 84, 8400), 80, ('yolov8', 80)),
    (torch.zeros(1, 25200, 85), None, ('yolov5', 80)),
    (torch.zeros(1, 25200, 85), 80, ('yolov5', 80)),
    ((torch.zeros(1, 116, 8400), torch.zeros(1, 32, 160, 160)), 80, ('yolov8', 80)),
    (torch.zeros(300, 6), None, ('xyxy_score_class', None)),
    ({'boxes': torch.zeros(0, 4), 'labels': torch.zeros(0), 'scores': torch.zeros(0)}, None,
     ('torchvision', None)),
])
def test_layout_from_shapes(output, num_classes, expected):
    extra = isinstance(output, tuple)
    assert find_layout(output, num_classes=num_classes, extra_rows=extra) == expected


@pytest.mark.parametrize('output,hint,text', [
    (torch.zeros(1, 3), '', r'Tensor\[1, 3\] does not fit yolov8 Tensor\[1, 4\+nc, N\]; yolov5'),
    (torch.zeros(1, 84, 8400), 'yolov5', r'Tensor\[1, 84, 8400\] does not fit yolov5 Tensor\[1, N, 5\+nc\];'),
    ([torch.zeros(2, 2, 2, 2)], '', r'list\(Tensor\[2, 2, 2, 2\]\) does not fit'),
    (torch.zeros(1, 84, 8400), 'ssd', 'unknown output layout'),
])
def test_unknown_layout_names_the_shapes(output, hint, text):
    with pytest.raises(ValueError, match=text):
        find_layout(output, hint)


def test_describe_output():
    text = describe_output(({}, [{'boxes': torch.zeros(2, 4)}]))
    assert text == 'tuple(dict(), list(dict(boxes: Tensor[2, 4])))'
