"""NMS in plain torch against a straightforward greedy reference."""

import pytest
import torch

from physical_ai.core.detection.nms import batched_nms, box_iou, nms


def greedy_reference(boxes, scores, threshold):
    order = sorted(range(len(scores)), key=lambda i: -float(scores[i]))
    keep = []
    for i in order:
        if all(float(box_iou(boxes[i:i + 1], boxes[k:k + 1])) <= threshold for k in keep):
            keep.append(i)
    return keep


def random_boxes(n, seed):
    g = torch.Generator().manual_seed(seed)
    xy = torch.rand(n, 2, generator=g) * 200
    wh = torch.rand(n, 2, generator=g) * 60 + 1
    return torch.cat((xy, xy + wh), dim=1), torch.rand(n, generator=g)


def test_iou():
    a = torch.tensor([[0.0, 0, 10, 10]])
    b = torch.tensor([[5.0, 0, 15, 10], [20, 20, 30, 30], [0, 0, 10, 10]])
    torch.testing.assert_close(box_iou(a, b), torch.tensor([[50 / 150, 0.0, 1.0]]))


@pytest.mark.parametrize('seed', range(6))
@pytest.mark.parametrize('threshold', [0.1, 0.45, 0.8])
def test_matches_greedy_reference(seed, threshold):
    boxes, scores = random_boxes(80, seed)
    assert nms(boxes, scores, threshold).tolist() == greedy_reference(boxes, scores, threshold)


def test_chain_of_overlaps():
    # each box overlaps only its neighbours: greedy keeps every other one
    boxes = torch.tensor([[i * 6.0, 0, i * 6.0 + 10, 10] for i in range(9)])
    scores = torch.linspace(1.0, 0.2, 9)
    assert nms(boxes, scores, 0.2).tolist() == [0, 2, 4, 6, 8]  # IoU of neighbours 0.25


def test_per_class():
    boxes = torch.tensor([[0.0, 0, 10, 10], [1, 1, 10, 10], [0, 0, 10, 10]])
    scores = torch.tensor([0.9, 0.8, 0.7])
    classes = torch.tensor([0, 0, 1])
    assert batched_nms(boxes, scores, classes, 0.5).tolist() == [0, 2]
    assert batched_nms(boxes[:0], scores[:0], classes[:0], 0.5).tolist() == []


def test_candidate_cap_keeps_the_best():
    boxes, scores = random_boxes(300, 7)
    classes = torch.zeros(300, dtype=torch.long)
    capped = batched_nms(boxes, scores, classes, 0.5, max_candidates=50)
    best = set(torch.topk(scores, 50).indices.tolist())
    assert set(capped.tolist()) <= best and len(capped) > 0
