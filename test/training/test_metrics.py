import numpy as np
import pytest

from physical_ai.training.metrics import (
    IOU_THRESHOLDS,
    ImageResult,
    average_precision,
    box_iou,
    interpolated_ap,
    precision_recall_at,
)


def result(dets, gts):
    """ImageResult from [(x1, y1, x2, y2, score, cls)] detections and [(x1, y1, x2, y2, cls)] ground truth."""
    d = np.array(dets, np.float64).reshape(-1, 6)
    g = np.array(gts, np.float64).reshape(-1, 5)
    return ImageResult(d[:, :4], d[:, 4], d[:, 5].astype(int), g[:, :4], g[:, 4].astype(int))


GT = [(10, 10, 50, 50, 0), (60, 60, 100, 120, 1)]


def test_iou():
    iou = box_iou(np.array([[0, 0, 10, 10]]), np.array([[0, 0, 10, 10], [5, 0, 15, 10], [20, 20, 30, 30]]))
    np.testing.assert_allclose(iou, [[1.0, 1 / 3, 0.0]])


def test_perfect_predictions_score_one():
    images = [result([(*g[:4], 0.9, g[4]) for g in GT], GT),
              result([(0, 0, 20, 20, 0.8, 0)], [(0, 0, 20, 20, 0)])]
    ap = average_precision(images, 2)
    assert ap.shape == (2, len(IOU_THRESHOLDS))
    np.testing.assert_array_equal(ap, 1.0)


def test_a_missed_object_caps_recall_at_half():
    images = [result([(10, 10, 50, 50, 0.9, 0)], [(10, 10, 50, 50, 0), (200, 200, 240, 240, 0)])]
    ap = average_precision(images, 1)
    # precision 1 up to recall 0.5: 51 of the 101 recall points
    np.testing.assert_allclose(ap, 51 / 101)


@pytest.mark.parametrize(('fp_score', 'expected'), [(0.95, 0.5), (0.5, 1.0)])
def test_a_false_positive_costs_only_when_it_ranks_first(fp_score, expected):
    images = [result([(10, 10, 50, 50, 0.9, 0), (150, 150, 190, 190, fp_score, 0)], [(10, 10, 50, 50, 0)])]
    np.testing.assert_allclose(average_precision(images, 1), expected)


def test_duplicates_and_wrong_classes_are_false_positives():
    images = [result([(10, 10, 50, 50, 0.9, 1), (10, 10, 50, 50, 0.8, 0), (11, 11, 50, 50, 0.7, 0)],
                     [(10, 10, 50, 50, 0)])]
    ap = average_precision(images, 2)
    np.testing.assert_allclose(ap[0], 1.0)  # the duplicate ranks after the match
    assert np.isnan(ap[1]).all()  # no ground truth of class 1: no AP
    precision, recall = precision_recall_at(images, 2, score=0.5)
    assert precision[0] == pytest.approx(0.5) and recall[0] == 1.0


def test_loose_box_counts_only_at_low_iou_thresholds():
    # IoU of a 40x40 box with one shifted by 9 px horizontally: 31*40 / (49*40) = 0.633
    images = [result([(19, 10, 59, 50, 0.9, 0)], [(10, 10, 50, 50, 0)])]
    ap = average_precision(images, 1)[0]
    np.testing.assert_allclose(ap, [1, 1, 1, 0, 0, 0, 0, 0, 0, 0])
    assert ap.mean() == pytest.approx(0.3)


def test_ranking_across_images():
    # Image 1: a confident false positive; image 2: a less confident hit. One GT in each image.
    images = [result([(100, 100, 120, 120, 0.9, 0)], [(0, 0, 10, 10, 0)]),
              result([(0, 0, 10, 10, 0.6, 0)], [(0, 0, 10, 10, 0)])]
    # ranked: FP (p=0), TP (recall 0.5, p=0.5) -> precision 0.5 for recall <= 0.5, 0 above
    np.testing.assert_allclose(average_precision(images, 1)[0, 0], 0.5 * 51 / 101)


def test_interpolated_ap_edge_cases():
    assert np.isnan(interpolated_ap(np.zeros(0), np.zeros(0), 0))
    assert interpolated_ap(np.zeros(0), np.zeros(0), 3) == 0.0
    assert interpolated_ap(np.array([True]), np.array([0.5]), 1) == 1.0
