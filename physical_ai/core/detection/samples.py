"""Small TorchScript detectors built from code, one per supported layout, and a benchmark network.

The layout samples find the bounding box of the bright pixels of their input (any channel above
half brightness) and name the class by the dominant colour inside it (0 red, 1 green, 2 blue), so
what they report can be predicted from the image: they check letterboxing, channel order,
normalisation and the mapping back to image pixels end to end. `save_*` functions write the files
the way each exporter does (extra files included).
"""

from __future__ import annotations

import json
import os
from typing import Any
import warnings

import torch
from torch import nn

from physical_ai.core.detection import model as _model

COLOR_NAMES = ('red', 'green', 'blue')


def bright_box(rgb: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Return (box [4] x1, y1, x2, y2 in pixels, class index, found) for a [3, H, W] image in [0, 1]."""
    mask = rgb.max(dim=0).values > 0.5
    rows = torch.nonzero(mask.any(dim=1)).flatten()
    cols = torch.nonzero(mask.any(dim=0)).flatten()
    if rows.numel() == 0:
        return torch.zeros(4), torch.zeros((), dtype=torch.long), torch.zeros((), dtype=torch.bool)
    y1, y2 = rows.min(), rows.max() + 1
    x1, x2 = cols.min(), cols.max() + 1
    region = rgb[:, y1:y2, x1:x2]
    cls = region.sum(dim=(1, 2)).argmax()
    box = torch.stack((x1, y1, x2, y2)).float()
    return box, cls, torch.ones((), dtype=torch.bool)


class BrightBoxYolov8(nn.Module):
    """YOLOv8 layout [1, 4 + nc, N]: the bright box twice, at score 0.9 and shifted right at 0.5.

    Anchor 0 holds the bright box with score 0.9; anchor 1 the same box shifted right by its width,
    score 0.5, next class. With `poison`, anchors 2 to 4 hold NaN and infinite values. `work`
    adds that many 128x128 matrix products on the input, to make a slow model.
    """

    def __init__(self, num_classes: int = 3, anchors: int = 64, poison: bool = False, work: int = 0) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.anchors = anchors
        self.poison = poison
        self.work = work

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return the [1, 4 + nc, N] output for a [1, 3, H, W] input in [0, 1]."""
        out = torch.zeros(1, 4 + self.num_classes, self.anchors)
        box, cls, found = bright_box(x[0])
        if bool(found):
            w = box[2] - box[0]
            h = box[3] - box[1]
            cx = (box[0] + box[2]) / 2
            cy = (box[1] + box[3]) / 2
            out[0, 0:4, 0] = torch.stack((cx, cy, w, h))
            out[0, 4 + int(cls), 0] = 0.9
            out[0, 0:4, 1] = torch.stack((cx + w, cy, w, h))
            out[0, 4 + (int(cls) + 1) % self.num_classes, 1] = 0.5
        if self.work > 0:
            acc = x[0, 0, :128, :128]
            for _ in range(self.work):
                acc = torch.tanh(acc @ acc)
            out[0, 4, self.anchors - 1] = acc.sum() * 0.0  # keeps the work in the graph; score stays 0
        if self.poison:
            out[0, 0:4, 2] = torch.tensor([10.0, 10.0, float('nan'), 5.0])
            out[0, 4, 2] = 0.95
            out[0, 0:4, 3] = torch.tensor([20.0, 20.0, 8.0, 8.0])
            out[0, 4, 3] = float('inf')
            out[0, 0:4, 4] = torch.tensor([30.0, 30.0, 8.0, 8.0])
            out[0, 4:, 4] = float('nan')
        return out


class BrightBoxYolov5(nn.Module):
    """YOLOv5 layout [1, N, 5 + nc]: row 0 the bright box, objectness 1, class score 0.8."""

    def __init__(self, num_classes: int = 3, anchors: int = 64) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.anchors = anchors

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor]:
        """Return ([1, N, 5 + nc],) as YOLOv8 exports of YOLOv5 do."""
        out = torch.zeros(1, self.anchors, 5 + self.num_classes)
        box, cls, found = bright_box(x[0])
        if bool(found):
            out[0, 0, 0] = (box[0] + box[2]) / 2
            out[0, 0, 1] = (box[1] + box[3]) / 2
            out[0, 0, 2] = box[2] - box[0]
            out[0, 0, 3] = box[3] - box[1]
            out[0, 0, 4] = 1.0
            out[0, 0, 5 + int(cls)] = 0.8
        return (out,)


class BrightBoxTorchvision(nn.Module):
    """torchvision's convention: List[Tensor[3, H, W]] in [0, 1] in, (losses, detections) out."""

    def forward(self, images: list[torch.Tensor]
                ) -> tuple[dict[str, torch.Tensor], list[dict[str, torch.Tensor]]]:
        """Return ({}, [{'boxes', 'labels', 'scores'} per image]); labels start at 1 (0 is background)."""
        detections: list[dict[str, torch.Tensor]] = []
        for image in images:
            box, cls, found = bright_box(image)
            count = 1 if bool(found) else 0
            detections.append({'boxes': box.view(1, 4)[:count], 'labels': (cls + 1).view(1)[:count],
                               'scores': torch.full((1,), 0.8)[:count]})
        return {}, detections


class BrightBoxPhysicalAI(nn.Module):
    """The project's own format: normalised input (mean/std), output [N, 6] x1, y1, x2, y2, score, class."""

    def __init__(self, mean: tuple[float, float, float], std: tuple[float, float, float]) -> None:
        super().__init__()
        self.register_buffer('mean', torch.tensor(mean).view(3, 1, 1))
        self.register_buffer('std', torch.tensor(std).view(3, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return [N, 6] rows (x1, y1, x2, y2, score, class) in input pixels."""
        rgb = x[0] * self.std + self.mean
        box, cls, found = bright_box(rgb)
        if not bool(found):
            return torch.zeros(0, 6)
        row = torch.cat((box, torch.tensor([0.7]), cls.float().view(1)))
        return row.view(1, 6)


def _save(module: nn.Module, path: str | os.PathLike[str], extra: dict[str, str]) -> None:
    with _model.torchscript_warnings():
        scripted = torch.jit.script(module.eval())
        torch.jit.save(scripted, str(path), _extra_files=extra)


def ultralytics_config(names: list[str] | tuple[str, ...], imgsz: tuple[int, int], style: str = 'json',
                       task: str = 'detect') -> str:
    """Return a config.txt as Ultralytics writes it: JSON, or ('python') the repr of the metadata dict."""
    meta = {'description': 'Ultralytics YOLOv8n model', 'author': 'Ultralytics', 'stride': 32, 'task': task,
            'batch': 1, 'imgsz': list(imgsz), 'names': dict(enumerate(names)), 'args': {'half': False}}
    return json.dumps(meta) if style == 'json' else repr(meta)


def save_yolov8(path: str | os.PathLike[str], imgsz: tuple[int, int] | None = (320, 320),
                names: tuple[str, ...] = COLOR_NAMES, style: str = 'json', poison: bool = False,
                work: int = 0) -> None:
    """Write a BrightBoxYolov8 with an Ultralytics config.txt (none when imgsz is None)."""
    extra = {_model.ULTRALYTICS_FILE: ultralytics_config(names, imgsz, style)} if imgsz else {}
    _save(BrightBoxYolov8(len(names), poison=poison, work=work), path, extra)


def save_yolov5(path: str | os.PathLike[str], imgsz: tuple[int, int] = (320, 320),
                names: tuple[str, ...] = COLOR_NAMES) -> None:
    """Write a BrightBoxYolov5 with a YOLOv5-style config.txt (shape, stride, names)."""
    meta = {'shape': [1, 3, *imgsz], 'stride': 32, 'names': dict(enumerate(names))}
    _save(BrightBoxYolov5(len(names)), path, {_model.ULTRALYTICS_FILE: json.dumps(meta)})


def save_torchvision(path: str | os.PathLike[str]) -> None:
    """Write a BrightBoxTorchvision (no metadata: the layout comes from its output)."""
    _save(BrightBoxTorchvision(), path, {})


def physical_ai_metadata(names: tuple[str, ...] = COLOR_NAMES, input_size: tuple[int, int] = (256, 320),
                         mean: tuple[float, float, float] = (0.485, 0.456, 0.406),
                         std: tuple[float, float, float] = (0.229, 0.224, 0.225)) -> dict[str, Any]:
    """Return the physical_ai.json content of a model."""
    return {'format': _model.PHYSICAL_AI_FORMAT, 'names': list(names), 'input_size': list(input_size),
            'input_channels': 'rgb', 'scale': 1 / 255, 'mean': list(mean), 'std': list(std),
            'output': 'xyxy_score_class'}


def save_physical_ai(path: str | os.PathLike[str], **metadata: Any) -> dict[str, Any]:
    """Write a BrightBoxPhysicalAI with its physical_ai.json; return the metadata."""
    meta = physical_ai_metadata(**metadata)
    _save(BrightBoxPhysicalAI(tuple(meta['mean']), tuple(meta['std'])), path,
          {_model.PHYSICAL_AI_FILE: json.dumps(meta)})
    return meta


class _Block(nn.Module):
    """Depthwise-separable convolution block (MobileNet style): 3x3 depthwise, 1x1 pointwise."""

    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        self.depthwise = nn.Conv2d(cin, cin, 3, stride, 1, groups=cin, bias=False)
        self.bn1 = nn.BatchNorm2d(cin)
        self.pointwise = nn.Conv2d(cin, cout, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.act = nn.ReLU6(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply the block."""
        return self.act(self.bn2(self.pointwise(self.act(self.bn1(self.depthwise(x))))))


class TinyDetector(nn.Module):
    """A ~MobileNet-sized single-scale detector (stride 16) with a YOLOv8 output [1, 4 + nc, N].

    Random weights: it only stands for the cost of a real network in benchmarks. The class
    bias starts low so that few boxes pass a usual threshold, as with a trained model.
    """

    def __init__(self, num_classes: int = 4, width: int = 32) -> None:
        super().__init__()
        w = width
        self.stem = nn.Sequential(nn.Conv2d(3, w, 3, 2, 1, bias=False), nn.BatchNorm2d(w),
                                  nn.ReLU6(inplace=True))
        plan = [(w, 2 * w, 1), (2 * w, 4 * w, 2), (4 * w, 4 * w, 1), (4 * w, 8 * w, 2), (8 * w, 8 * w, 1),
                (8 * w, 16 * w, 2), (16 * w, 16 * w, 1), (16 * w, 16 * w, 1), (16 * w, 16 * w, 1)]
        self.blocks = nn.Sequential(*[_Block(a, b, s) for a, b, s in plan])
        self.head = nn.Conv2d(16 * w, 4 + num_classes, 1)
        with torch.no_grad():
            self.head.bias[4:] = -6.0
        for module in self.modules():
            if isinstance(module, nn.BatchNorm2d):  # non-trivial statistics so freezing has work to fold
                module.running_mean.uniform_(-0.1, 0.1)
                module.running_var.uniform_(0.5, 1.5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return [1, 4 + nc, N] with N = (H / 16) * (W / 16) cells."""
        features = self.head(self.blocks(self.stem(x)))  # [1, 4 + nc, H/16, W/16]
        batch, channels, height, width = features.shape
        grid_y, grid_x = torch.meshgrid(torch.arange(height, device=x.device),
                                        torch.arange(width, device=x.device), indexing='ij')
        flat = features.view(batch, channels, height * width)
        cx = (grid_x.reshape(1, -1) + flat[:, 0].sigmoid()) * 16
        cy = (grid_y.reshape(1, -1) + flat[:, 1].sigmoid()) * 16
        wh = flat[:, 2:4].sigmoid() * 128
        return torch.cat((cx.unsqueeze(1), cy.unsqueeze(1), wh, flat[:, 4:].sigmoid()), dim=1)


def save_tiny_detector(path: str | os.PathLike[str], imgsz: tuple[int, int] = (320, 320),
                       names: tuple[str, ...] = ('person', 'ball', 'box', 'cylinder'), seed: int = 0) -> None:
    """Write a scripted TinyDetector with an Ultralytics-style config.txt."""
    torch.manual_seed(seed)
    _save(TinyDetector(len(names)), path, {_model.ULTRALYTICS_FILE: ultralytics_config(names, imgsz)})


# A YOLOv8n-cost detector of the project's own format ------------------------------------------------

class _ConvBnAct(nn.Module):
    """Convolution, BatchNorm, SiLU: the unit of the YOLOv8 family."""

    def __init__(self, cin: int, cout: int, kernel: int = 1, stride: int = 1) -> None:
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, kernel, stride, kernel // 2, bias=False)
        self.bn = nn.BatchNorm2d(cout)
        self.act = nn.SiLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply the unit."""
        return self.act(self.bn(self.conv(x)))


class _Bottleneck(nn.Module):
    def __init__(self, channels: int, shortcut: bool) -> None:
        super().__init__()
        self.cv1 = _ConvBnAct(channels, channels, 3)
        self.cv2 = _ConvBnAct(channels, channels, 3)
        self.shortcut = shortcut

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.cv2(self.cv1(x))
        return x + y if self.shortcut else y


class _C2f(nn.Module):
    """The YOLOv8 CSP block: split, n bottlenecks on one half keeping every output, fuse."""

    def __init__(self, cin: int, cout: int, n: int, shortcut: bool) -> None:
        super().__init__()
        self.half = cout // 2
        self.cv1 = _ConvBnAct(cin, 2 * self.half)
        self.blocks = nn.ModuleList(_Bottleneck(self.half, shortcut) for _ in range(n))
        self.cv2 = _ConvBnAct((2 + n) * self.half, cout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.cv1(x)
        parts = [y[:, :self.half], y[:, self.half:]]
        for block in self.blocks:
            parts.append(block(parts[-1]))
        return self.cv2(torch.cat(parts, 1))


class _SPPF(nn.Module):
    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.cv1 = _ConvBnAct(cin, cin // 2)
        self.pool = nn.MaxPool2d(5, 1, 2)
        self.cv2 = _ConvBnAct(cin * 2, cout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a = self.cv1(x)
        b = self.pool(a)
        c = self.pool(b)
        return self.cv2(torch.cat((a, b, c, self.pool(c)), 1))


def _keep_output(seen: dict[int, torch.Tensor], index: int) -> Any:
    def hook(module: nn.Module, inputs: Any, output: torch.Tensor) -> None:
        seen[index] = output.detach()
    return hook


class YoloV8nCost(nn.Module):
    """A detector with the architecture and cost of YOLOv8n (width 0.25, depth 0.33), random weights.

    Backbone (C2f, SPPF), PAN neck and the decoupled head with distribution-focal box regression
    (16 bins per side) at strides 8, 16, 32, as Ultralytics builds YOLOv8n; the class branch is as
    wide as for 80 classes so the cost matches whatever `num_classes` is. Decoding is in the graph
    and the output is the project's own format: [max_det, 6] rows (x1, y1, x2, y2, score, class) in
    input pixels, best first. Class biases start low so few boxes pass a usual threshold.
    """

    def __init__(self, num_classes: int = 4, max_det: int = 300) -> None:
        super().__init__()
        self.max_det = max_det
        c = _ConvBnAct
        self.stem = nn.Sequential(c(3, 16, 3, 2), c(16, 32, 3, 2), _C2f(32, 32, 1, True))
        self.p3 = nn.Sequential(c(32, 64, 3, 2), _C2f(64, 64, 2, True))
        self.p4 = nn.Sequential(c(64, 128, 3, 2), _C2f(128, 128, 2, True))
        self.p5 = nn.Sequential(c(128, 256, 3, 2), _C2f(256, 256, 1, True), _SPPF(256, 256))
        self.up = nn.Upsample(scale_factor=2.0, mode='nearest')
        self.top4 = _C2f(384, 128, 1, False)
        self.out3 = _C2f(192, 64, 1, False)
        self.down3 = c(64, 64, 3, 2)
        self.out4 = _C2f(192, 128, 1, False)
        self.down4 = c(128, 128, 3, 2)
        self.out5 = _C2f(384, 256, 1, False)
        self.box = nn.ModuleList(nn.Sequential(c(ch, 64, 3), c(64, 64, 3), nn.Conv2d(64, 64, 1))
                                 for ch in (64, 128, 256))
        self.cls = nn.ModuleList(nn.Sequential(c(ch, 80, 3), c(80, 80, 3), nn.Conv2d(80, num_classes, 1))
                                 for ch in (64, 128, 256))
        self.register_buffer('bins', torch.arange(16, dtype=torch.float32).view(1, 1, 16, 1))
        with torch.no_grad():
            for branch in self.cls:
                branch[-1].bias.fill_(-8.0)
        for module in self.modules():
            if isinstance(module, nn.BatchNorm2d):  # non-trivial statistics so freezing has work to fold
                module.running_mean.uniform_(-0.1, 0.1)
                module.running_var.uniform_(0.5, 1.5)

    def calibrate(self, example: torch.Tensor, box_std: float = 2.0, class_std: float = 2.0) -> None:
        """Scale the last convolutions so that random weights give a trained model's spread of outputs.

        Without it the box bins and class logits of a random network barely vary, every anchor
        scores the same and the ranking is numeric noise; with it the distances are peaked and a
        handful of class logits stand out (std `class_std` around the bias of -8).
        """
        seen: dict[int, torch.Tensor] = {}
        finals = [branch[-1] for branch in (*self.box, *self.cls)]
        hooks = [conv.register_forward_hook(_keep_output(seen, index)) for index, conv in enumerate(finals)]
        with torch.no_grad():
            self(example)
            for hook in hooks:
                hook.remove()
            for index, conv in enumerate(finals):
                target = box_std if index < len(self.box) else class_std
                conv.weight.mul_(target / max(float(seen[index].std()), 1e-6))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return [max_det, 6] rows (x1, y1, x2, y2, score, class) for a [1, 3, H, W] input."""
        p3 = self.p3(self.stem(x))
        p4 = self.p4(p3)
        p5 = self.p5(p4)
        h4 = self.top4(torch.cat((self.up(p5), p4), 1))
        o3 = self.out3(torch.cat((self.up(h4), p3), 1))
        o4 = self.out4(torch.cat((self.down3(o3), h4), 1))
        o5 = self.out5(torch.cat((self.down4(o4), p5), 1))
        boxes, scores = [], []
        for level, (feature, stride) in enumerate(((o3, 8), (o4, 16), (o5, 32))):
            dist = self.box[level](feature)  # [1, 64, h, w]
            logits = self.cls[level](feature)  # [1, nc, h, w]
            height, width = feature.shape[2], feature.shape[3]
            ltrb = (dist.view(1, 4, 16, height * width).softmax(2) * self.bins).sum(2)  # [1, 4, A]
            ys, xs = torch.meshgrid(torch.arange(height, dtype=torch.float32),
                                    torch.arange(width, dtype=torch.float32), indexing='ij')
            cx = (xs.reshape(1, -1) + 0.5) * stride
            cy = (ys.reshape(1, -1) + 0.5) * stride
            boxes.append(torch.stack((cx - ltrb[:, 0] * stride, cy - ltrb[:, 1] * stride,
                                      cx + ltrb[:, 2] * stride, cy + ltrb[:, 3] * stride), 1))
            scores.append(logits.flatten(2).sigmoid())
        box = torch.cat(boxes, 2)[0]  # [4, A]
        best, cls = torch.cat(scores, 2)[0].max(0)  # [A]
        top, index = best.topk(min(self.max_det, int(best.shape[0])))
        return torch.cat((box[:, index].t(), top.unsqueeze(1), cls[index].float().unsqueeze(1)), 1)


YOLOV8N_NAMES = ('person', 'ball', 'box', 'cylinder')


def save_yolov8n_cost(path: str | os.PathLike[str], imgsz: tuple[int, int] = (640, 640),
                      names: tuple[str, ...] = YOLOV8N_NAMES, seed: int = 0) -> dict[str, Any]:
    """Write a traced YoloV8nCost in the project's own format (physical_ai.json); return the metadata.

    Traced at `imgsz` (its anchors are then constants, as in an Ultralytics export), which also
    keeps the graph free of Python control flow, so every runtime backend can convert it.
    """
    torch.manual_seed(seed)
    module = YoloV8nCost(len(names)).eval()
    meta = physical_ai_metadata(names, imgsz, mean=(0.0, 0.0, 0.0), std=(1.0, 1.0, 1.0))
    example = torch.rand(1, 3, *imgsz)
    module.calibrate(example)
    with _model.torchscript_warnings(), torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter('ignore', torch.jit.TracerWarning)  # the anchor count is a constant of the size
        traced = torch.jit.trace(module, example)
        torch.jit.save(traced, str(path), _extra_files={_model.PHYSICAL_AI_FILE: json.dumps(meta)})
    return meta
