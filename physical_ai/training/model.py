"""The default detector: a compact CenterNet-style network and its deployable export.

Backbone: a strided 3x3 stem, then depthwise-separable blocks (BatchNorm + ReLU, residual where the
shape allows) down to stride 32. Neck: a light FPN (1x1 laterals, nearest upsampling, a separable
3x3 after each merge) back up to stride 4. Heads at stride 4: a class heatmap (sigmoid; bias -2.19
so that training starts at p = 0.1), the box size (w, h) and the sub-cell offset of the centre.

`ExportDetector` puts the decoding inside the graph (sigmoid, 3x3 max-pool peak suppression, top-K)
so that the saved TorchScript file returns [K, 6] rows (x1, y1, x2, y2, score, class) in input
pixels: the project's "physical_ai/1" format, which the inference node runs as it is.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any
import warnings

import torch
from torch import nn
import torch.nn.functional as F  # noqa: N812

from physical_ai.core.detection.model import torchscript_warnings
from physical_ai.core.runtime import output_difference

NAMES = ('person', 'ball', 'box', 'cylinder')
INPUT_SIZE = (240, 320)  # (h, w): a 640x480 camera frame at scale 0.5, no padding
STRIDE = 4
TOP_K = 100
# The same std on every channel lets the inference node normalise with one cv2.dnn.blobFromImage.
MEAN = (0.5, 0.5, 0.5)
STD = (0.25, 0.25, 0.25)
SCALE = 1.0 / 255.0
HEATMAP_BIAS = -math.log((1 - 0.1) / 0.1)  # -2.197: sigmoid(bias) = 0.1
FORMAT = 'physical_ai/1'
METADATA_FILE = 'physical_ai.json'
# Largest output difference (relative, rows as ranked) of the frozen export from the module it froze.
FROZEN_TOLERANCE = 1e-6

# Backbone stages: (output channels, number of blocks); the first block of each stage has stride 2.
STAGES = ((32, 2), (64, 3), (128, 4), (192, 3))
STEM_CHANNELS = 16
NECK_CHANNELS = 48


def _conv_bn_relu(cin: int, cout: int, kernel: int = 1, stride: int = 1, groups: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, kernel, stride, kernel // 2, groups=groups, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    )


class SeparableBlock(nn.Module):
    """Depthwise 3x3 then pointwise 1x1, each with BatchNorm and ReLU; residual when shapes match."""

    def __init__(self, cin: int, cout: int, stride: int = 1) -> None:
        super().__init__()
        self.depthwise = _conv_bn_relu(cin, cin, 3, stride, groups=cin)
        self.pointwise = _conv_bn_relu(cin, cout, 1)
        self.residual = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return the block's output."""
        y = self.pointwise(self.depthwise(x))
        return x + y if self.residual else y


class Level(nn.Module):
    """One backbone stage (the first block halves the resolution) and its 1x1 lateral for the FPN."""

    def __init__(self, cin: int, cout: int, count: int, neck: int) -> None:
        super().__init__()
        self.blocks = nn.Sequential(SeparableBlock(cin, cout, 2),
                                    *[SeparableBlock(cout, cout) for _ in range(count - 1)])
        self.lateral = _conv_bn_relu(cout, neck, 1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Return (the stage output, its lateral projection)."""
        x = self.blocks(x)
        return x, self.lateral(x)


class Head(nn.Module):
    """One separable 3x3 block then a 1x1 projection to `outputs` channels."""

    def __init__(self, channels: int, outputs: int, bias: float = 0.0) -> None:
        super().__init__()
        self.block = SeparableBlock(channels, channels)
        self.out = nn.Conv2d(channels, outputs, 1)
        # Small weights: every cell starts near the bias (for the heatmap, p = 0.1 everywhere).
        nn.init.normal_(self.out.weight, std=0.01)
        nn.init.constant_(self.out.bias, bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return the raw head output."""
        return self.out(self.block(x))


class CenterNet(nn.Module):
    """Returns (heatmap logits [B, C, H/4, W/4], size [B, 2, ...], offset [B, 2, ...]) for [B, 3, H, W].

    Size is (w, h) in stride cells; offset is the centre's position inside its cell, in cells.
    """

    def __init__(self, num_classes: int = len(NAMES), stem: int = STEM_CHANNELS,
                 stages: tuple[tuple[int, int], ...] = STAGES, neck: int = NECK_CHANNELS) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.stem = _conv_bn_relu(3, stem, 3, 2)
        levels = []
        cin = stem
        for cout, count in stages:
            levels.append(Level(cin, cout, count, neck))
            cin = cout
        self.levels = nn.ModuleList(levels)
        self.smooth = nn.ModuleList([SeparableBlock(neck, neck) for _ in stages[:-1]])
        self.heatmap = Head(neck, num_classes, HEATMAP_BIAS)
        self.box = Head(neck, 4)  # size (w, h) and offset (x, y) share one block

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Return the stride-4 feature map of the neck."""
        x = self.stem(x)
        laterals: list[torch.Tensor] = []
        for level in self.levels:
            x, lateral = level(x)
            laterals.append(lateral)
        top = laterals[-1]
        # Top-down, deepest first: upsample to the exact size of the next level (240 is not a multiple of 32).
        for i, smooth in enumerate(self.smooth):
            lateral = laterals[len(laterals) - 2 - i]
            up = F.interpolate(top, size=(lateral.shape[2], lateral.shape[3]), mode='nearest')
            top = smooth(lateral + up)
        return top

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Return (heatmap logits, size, offset) at stride 4."""
        f = self.features(x)
        box = self.box(f)
        return self.heatmap(f), box[:, :2], box[:, 2:]


def decode(heatmap: torch.Tensor, size: torch.Tensor, offset: torch.Tensor, stride: int = STRIDE,
           top_k: int = TOP_K) -> torch.Tensor:
    """Return [K, 6] (x1, y1, x2, y2, score, class) in input pixels from the heads of ONE image.

    `heatmap` holds scores in [0, 1] ([1, C, H, W]); local maxima (3x3) survive, the K best are kept.
    Fewer than K cells give fewer rows.
    """
    _, classes, height, width = heatmap.shape
    peaks = F.max_pool2d(heatmap, 3, stride=1, padding=1)
    heatmap = heatmap * (peaks == heatmap).to(heatmap.dtype)
    flat = heatmap.reshape(-1)
    k = min(top_k, flat.shape[0])
    scores, index = torch.topk(flat, k)
    cells = height * width
    cls = torch.div(index, cells, rounding_mode='floor')
    cell = index - cls * cells
    ys = torch.div(cell, width, rounding_mode='floor')
    xs = cell - ys * width
    size = size.reshape(2, cells)[:, cell]
    offset = offset.reshape(2, cells)[:, cell]
    cx = (xs.to(heatmap.dtype) + offset[0]) * stride
    cy = (ys.to(heatmap.dtype) + offset[1]) * stride
    half_w = size[0].clamp(min=0) * (stride / 2)
    half_h = size[1].clamp(min=0) * (stride / 2)
    return torch.stack((cx - half_w, cy - half_h, cx + half_w, cy + half_h, scores, cls.to(heatmap.dtype)), 1)


class ExportDetector(nn.Module):
    """The deployable graph: [1, 3, h, w] normalised RGB in, [K, 6] xyxy/score/class in input pixels out."""

    def __init__(self, net: CenterNet, top_k: int = TOP_K) -> None:
        super().__init__()
        self.net = net
        self.top_k = top_k
        self.stride = STRIDE

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return the top-K peaks of the first image as [K, 6] rows."""
        heatmap, size, offset = self.net(x[:1])
        return decode(torch.sigmoid(heatmap), size, offset, self.stride, self.top_k)


def count_parameters(module: nn.Module) -> int:
    """Return the number of parameters of a module."""
    return sum(p.numel() for p in module.parameters())


def metadata(names: tuple[str, ...] = NAMES, input_size: tuple[int, int] = INPUT_SIZE) -> dict[str, Any]:
    """Return the physical_ai.json content describing the exported detector."""
    return {'format': FORMAT, 'names': list(names), 'input_size': list(input_size), 'input_channels': 'rgb',
            'scale': SCALE, 'mean': list(MEAN), 'std': list(STD), 'output': 'xyxy_score_class'}


def export(net: CenterNet, path: str | os.PathLike[str], names: tuple[str, ...] = NAMES,
           input_size: tuple[int, int] = INPUT_SIZE, extra: dict[str, Any] | None = None,
           files: dict[str, str] | None = None) -> Path:
    """Trace, freeze and save the detector with its physical_ai.json; return the path written.

    The network is copied and put in eval mode first, so the trained module is left as it was.
    `extra` adds fields to the metadata (e.g. training facts); readers ignore what they do not know.
    `files` adds more extra files to the archive (e.g. the model card).
    """
    import copy

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    wrapper = ExportDetector(copy.deepcopy(net).cpu().eval()).eval()
    meta = {**metadata(names, input_size), **(extra or {})}
    with torchscript_warnings():
        # The decoding's min(top_k, cells) is a constant of the traced graph: right for this size and larger.
        warnings.filterwarnings('ignore', category=torch.jit.TracerWarning)
        probe = torch.zeros(1, 3, *input_size)
        with torch.no_grad():
            # Traced, not scripted: a scripted graph keeps F.interpolate's dispatch on the input's rank
            # (prim::If) and the feature list's appends, which OpenVINO's and ONNX's converters refuse;
            # the traced graph converts (backend openvino / onnxruntime) and still follows the input size.
            traced = torch.jit.trace(wrapper, probe, check_trace=False)
            frozen = torch.jit.freeze(traced)
            expected = wrapper(probe)
            got = frozen(probe)
        # Rows of tied scores may swap places when freezing folds BatchNorm: compare rows as ranked.
        module = frozen if output_difference(expected, got, ranked_rows=True) <= FROZEN_TOLERANCE else traced
        tmp = path.with_name(path.name + '.tmp')
        torch.jit.save(module, str(tmp), _extra_files={METADATA_FILE: json.dumps(meta), **(files or {})})
    os.replace(tmp, path)
    return path
