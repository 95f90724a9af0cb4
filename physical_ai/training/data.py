"""Training data: simulator frames letterboxed as the inference node does, augmentation, batches of targets.

Frames are letterboxed once to the model's input size with the inference node's own Preprocessor
(same resize, same padding) and kept as one uint8 array; augmentation then works on those small
images: random scale and placement (cv2.warpAffine, padding with the letterbox pad value),
horizontal flip and HSV jitter. Boxes are in input pixels throughout.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
import hashlib
import json
import math
import multiprocessing
import os
from pathlib import Path
import shutil
import sys
import time

import cv2
import numpy as np
import torch
from torch.utils.data import Dataset

from physical_ai.core.detection.preprocess import Preprocessor
from physical_ai.training.model import INPUT_SIZE, MEAN, NAMES, SCALE, STD, STRIDE
from physical_ai.training.targets import MAX_OBJECTS, encode

PAD_VALUE = 114  # the inference node's letterbox pad value
DEFAULT_CACHE = Path('~/.cache/physical_ai').expanduser()
# Rendered sets are made of chunks of CHUNK frames, chunk k drawn from seed first_seed + k (the
# generator seeds every world and image from its seed, so two seeds never share a layout).
# Training uses seeds below EVAL_FIRST_SEED, evaluation seeds from it on.
CHUNK = 500
TRAIN_FIRST_SEED = 1
EVAL_FIRST_SEED = 1000
# Simulator modules whose code decides the rendered frames: a change makes a new cache entry.
CAMERA_SIZE = (480, 640)  # (h, w) of the simulator's default camera
_SIM_SOURCES = ('datagen.py', 'world.py', 'render.py', 'camera.py')
MIN_SIDE = 2.0  # boxes thinner than this (input pixels) after augmentation are dropped
MIN_VISIBLE = 0.25  # ... and boxes cut by the border to less than this fraction of their area


@dataclass
class Frames:
    """Letterboxed RGB frames [N, h, w, 3] uint8, per frame boxes [n, 4] (input pixels) and classes [n]."""

    images: np.ndarray
    boxes: list[np.ndarray]
    classes: list[np.ndarray]

    def __len__(self) -> int:
        return len(self.images)

    def save(self, path: str) -> None:
        """Write the frames to one .npz file (uncompressed: loads fast, memory-maps nothing)."""
        counts = np.array([len(b) for b in self.boxes], np.int64)
        boxes = np.concatenate(self.boxes) if self.boxes else np.zeros((0, 4), np.float32)
        classes = np.concatenate(self.classes) if self.classes else np.zeros(0, np.int64)
        np.savez(path, images=self.images, counts=counts, boxes=boxes.astype(np.float32),
                 classes=classes.astype(np.int64))

    @classmethod
    def load(cls, path: str) -> Frames:
        """Read frames written by `save`."""
        with np.load(path) as data:
            images, counts, boxes, classes = data['images'], data['counts'], data['boxes'], data['classes']
        splits = np.cumsum(counts)[:-1]
        return cls(images, list(np.split(boxes, splits)), list(np.split(classes, splits)))


def letterbox(image_bgr: np.ndarray, boxes: np.ndarray,
              input_size: tuple[int, int] = INPUT_SIZE) -> tuple[np.ndarray, np.ndarray]:
    """Return (the RGB input image, boxes in input pixels) for a BGR frame and its boxes in image pixels.

    Uses the inference node's Preprocessor, so training sees exactly the pixels the node feeds the model.
    """
    pre = Preprocessor(input_size, keep_aspect=True, pad_value=PAD_VALUE)
    placed, where = pre.place(image_bgr)
    boxes = np.asarray(boxes, np.float32).reshape(-1, 4)
    scale = np.array([where.scale_x, where.scale_y] * 2, np.float32)
    shift = np.array([where.pad_x, where.pad_y] * 2, np.float32)
    return cv2.cvtColor(placed, cv2.COLOR_BGR2RGB), boxes * scale + shift


def frames_from(samples: Iterable[tuple[np.ndarray, np.ndarray, np.ndarray]],
                input_size: tuple[int, int] = INPUT_SIZE) -> Frames:
    """Letterbox (BGR image, boxes in image pixels, class indices) samples into Frames."""
    images, all_boxes, all_classes = [], [], []
    for image, boxes, classes in samples:
        rgb, placed = letterbox(image, boxes, input_size)
        images.append(rgb)
        all_boxes.append(placed.astype(np.float32))
        all_classes.append(np.asarray(classes, np.int64).reshape(-1))
    array = np.stack(images) if images else np.zeros((0, *input_size, 3), np.uint8)
    return Frames(array, all_boxes, all_classes)


@dataclass(frozen=True)
class Augment:
    """Random geometry and colour changes applied to a training image."""

    scale: tuple[float, float] = (0.7, 1.4)  # zoom factor, drawn log-uniformly
    translate: float = 0.15  # fraction of the image size the centre may move
    flip: float = 0.5  # probability of a horizontal flip
    hue: float = 0.015  # fraction of the hue circle
    saturation: float = 0.5  # gain range 1 +- this
    value: float = 0.4  # gain range 1 +- this
    blur: float = 0.0  # probability of a gaussian blur (sigma 0.5 to 1.5 px): motion, focus

    def __call__(self, image: np.ndarray, boxes: np.ndarray, classes: np.ndarray,
                 rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return an augmented (image, boxes, classes); the input arrays are not changed."""
        height, width = image.shape[:2]
        boxes = boxes.astype(np.float32).copy()
        s = math.exp(rng.uniform(math.log(self.scale[0]), math.log(self.scale[1])))
        tx = (1 - s) * width / 2 + rng.uniform(-self.translate, self.translate) * width
        ty = (1 - s) * height / 2 + rng.uniform(-self.translate, self.translate) * height
        sx = s
        if rng.random() < self.flip:
            sx, tx = -s, width - tx  # x' = width - (s x + tx)
        # Boxes use corner coordinates (pixel i spans [i, i + 1]); cv2 maps pixel centres: half a pixel off.
        matrix = np.array([[sx, 0, tx + 0.5 * (sx - 1)], [0, s, ty + 0.5 * (s - 1)]], np.float32)
        image = cv2.warpAffine(image, matrix, (width, height), flags=cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_CONSTANT, borderValue=(PAD_VALUE,) * 3)
        if len(boxes):
            xs = boxes[:, [0, 2]] * sx + tx
            ys = boxes[:, [1, 3]] * s + ty
            boxes = np.stack([xs.min(1), ys.min(1), xs.max(1), ys.max(1)], 1)
            area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
            boxes[:, [0, 2]] = boxes[:, [0, 2]].clip(0, width)
            boxes[:, [1, 3]] = boxes[:, [1, 3]].clip(0, height)
            w, h = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
            keep = (w >= MIN_SIDE) & (h >= MIN_SIDE) & (w * h >= MIN_VISIBLE * np.maximum(area, 1e-6))
            boxes, classes = boxes[keep], classes[keep]
        image = self.jitter(image, rng)
        if self.blur > 0 and rng.random() < self.blur:
            image = cv2.GaussianBlur(image, (0, 0), rng.uniform(0.5, 1.5))
        return image, boxes, classes

    def jitter(self, image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Return the RGB image with hue shifted and saturation and value scaled at random."""
        gains = rng.uniform(-1, 1, 3) * (self.hue, self.saturation, self.value) + (0, 1, 1)
        hue, sat, val = cv2.split(cv2.cvtColor(image, cv2.COLOR_RGB2HSV))
        lut = np.arange(256, dtype=np.float32)
        lut_hue = ((lut + gains[0] * 180) % 180).astype(np.uint8)
        lut_sat = np.clip(lut * gains[1], 0, 255).astype(np.uint8)
        lut_val = np.clip(lut * gains[2], 0, 255).astype(np.uint8)
        hsv = cv2.merge((cv2.LUT(hue, lut_hue), cv2.LUT(sat, lut_sat), cv2.LUT(val, lut_val)))
        return cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)


class DetectionDataset(Dataset):
    """Items: (uint8 image [3, h, w], heatmap [C, h/4, w/4], index [M], size [M, 2], offset [M, 2], mask [M]).

    With `augment`, every epoch sees new random changes (seeded from `seed`, the epoch and the item).
    """

    def __init__(self, frames: Frames, augment: Augment | None = None, num_classes: int = len(NAMES),
                 stride: int = STRIDE, max_objects: int = MAX_OBJECTS, seed: int = 0) -> None:
        self.frames = frames
        self.augment = augment
        self.num_classes = num_classes
        self.stride = stride
        self.max_objects = max_objects
        self.seed = seed
        self.epoch = 0

    def __len__(self) -> int:
        return len(self.frames)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, ...]:
        image = self.frames.images[i]
        boxes, classes = self.frames.boxes[i], self.frames.classes[i]
        if self.augment is not None:
            rng = np.random.default_rng((self.seed, self.epoch, i))
            image, boxes, classes = self.augment(image, boxes, classes, rng)
        t = encode(boxes, classes, image.shape[:2], self.num_classes, self.stride, self.max_objects)
        return (torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1))), torch.from_numpy(t.heatmap),
                torch.from_numpy(t.index), torch.from_numpy(t.size), torch.from_numpy(t.offset),
                torch.from_numpy(t.mask))


def normalise(images: torch.Tensor, mean: Sequence[float] = MEAN, std: Sequence[float] = STD,
              scale: float = SCALE) -> torch.Tensor:
    """Return float model input from uint8 RGB [B, 3, h, w]: (pixel * scale - mean) / std per channel."""
    m = torch.tensor(mean, dtype=torch.float32).view(1, 3, 1, 1)
    s = torch.tensor(std, dtype=torch.float32).view(1, 3, 1, 1)
    return (images.float() * scale - m) / s


Sample = tuple[np.ndarray, np.ndarray, np.ndarray]  # BGR image, boxes [n, 4] in image pixels, classes [n]


def class_names() -> tuple[str, ...]:
    """Return the simulator's class names, in the index order of its labels."""
    from physical_ai.core.sim.scenario import CLASSES

    return tuple(CLASSES)


def chunk_seeds(first_seed: int, count: int) -> list[tuple[int, int]]:
    """Return (seed, frames) of the chunks making up `count` frames from `first_seed`."""
    return [(first_seed + k, min(CHUNK, count - k * CHUNK)) for k in range(math.ceil(count / CHUNK))]


def _generator_version() -> str:
    """Return a short hash of the simulator code that renders the frames."""
    import physical_ai.core.sim as sim

    digest = hashlib.sha256()
    folder = Path(sim.__file__).parent
    for name in _SIM_SOURCES:
        file = folder / name
        if file.exists():
            digest.update(name.encode() + b'\0' + file.read_bytes())
    return digest.hexdigest()[:12]


def _render_chunk(seed: int, count: int, folder: str, antialias: int) -> str:
    """Render one chunk with the simulator's data generator (runs in a worker process)."""
    from physical_ai.core.sim import datagen
    from physical_ai.core.sim.camera import CameraSpec

    tmp = Path(folder + '.partial')
    if tmp.exists():
        shutil.rmtree(tmp)
    camera = CameraSpec(CAMERA_SIZE[1], CAMERA_SIZE[0], samples=antialias)
    datagen.generate(tmp, datagen.DatagenConfig(count=count, seed=seed, camera=camera, formats=('json',)))
    os.replace(tmp, folder)
    return folder


def render(first_seed: int, count: int, cache: Path, workers: int | None = None, antialias: int | None = None,
           log: Callable[[str], None] | None = None) -> list[Path]:
    """Return the dataset folders of `count` frames from `first_seed`, rendering the missing chunks.

    Chunks are kept under `cache`/frames, keyed by seed, size, antialiasing and the simulator code's
    hash, so a later run (or the evaluation) reuses them. Rendering runs in `workers` processes
    (default: cores). `antialias`: multisample count of every chunk, or None to alternate between
    none (even seeds; the sim node's default camera) and 4 (odd seeds), for robustness.
    """
    log = log or (lambda text: print(text, file=sys.stderr, flush=True))
    version = _generator_version()
    root = cache / 'frames'
    root.mkdir(parents=True, exist_ok=True)
    chunks = chunk_seeds(first_seed, count)
    folders = []
    for seed, n in chunks:
        samples = (4 if seed % 2 else 0) if antialias is None else antialias
        folders.append((seed, n, samples, root / f'sim-{version}-{CAMERA_SIZE[1]}x{CAMERA_SIZE[0]}'
                        f'-aa{samples}-seed{seed}-n{n}'))
    missing = [entry for entry in folders if not (entry[3] / 'labels.json').exists()]
    if missing:
        workers = max(1, min(workers or os.cpu_count() or 1, len(missing)))
        frames = sum(entry[1] for entry in missing)
        log(f'rendering {frames} frames with the simulator ({len(missing)} chunks, {workers} processes) '
            f'into {root}')
        began = time.monotonic()
        done = 0
        # spawn: a fresh interpreter per worker, as MuJoCo's GL context does not survive fork.
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context('spawn')) as pool:
            jobs = [pool.submit(_render_chunk, seed, n, str(f), aa) for seed, n, aa, f in missing]
            for job, entry in zip(jobs, missing, strict=True):
                job.result()
                done += entry[1]
                log(f'  rendered {done}/{frames} frames, {time.monotonic() - began:.0f} s')
    return [entry[3] for entry in folders]


def read_folder(folder: Path) -> list[Sample]:
    """Read a data generator folder (labels.json and images) as (BGR image, boxes, classes) samples."""
    document = json.loads((folder / 'labels.json').read_text(encoding='utf-8'))
    names = list(document['names'])
    samples = []
    for record in document['images']:
        image = cv2.imread(str(folder / record['file']), cv2.IMREAD_COLOR)
        if image is None:
            raise OSError(f'cannot read {folder / record["file"]}')
        objects = record['objects']
        boxes = np.array([o['box'] for o in objects], np.float32).reshape(-1, 4)
        classes = np.array([names.index(o['class']) for o in objects], np.int64)
        samples.append((image, boxes, classes))
    return samples


def simulator_samples(first_seed: int, count: int, cache: Path, workers: int | None = None,
                      antialias: int | None = 0) -> list[Sample]:
    """Return `count` full-size simulator frames from `first_seed` with their boxes (rendered or cached)."""
    samples: list[Sample] = []
    for folder in render(first_seed, count, cache, workers, antialias):
        samples.extend(read_folder(folder))
    return samples[:count]


def simulator_frames(first_seed: int, count: int, cache: Path, workers: int | None = None,
                     input_size: tuple[int, int] = INPUT_SIZE) -> Frames:
    """Return `count` letterboxed training frames from `first_seed` (rendered or cached)."""
    folders = render(first_seed, count, cache, workers)
    parts = []
    for folder in folders:
        packed = folder.with_name(folder.name + f'-{input_size[0]}x{input_size[1]}.npz')
        if not packed.exists():
            frames = frames_from(read_folder(folder), input_size)
            tmp = packed.with_name(packed.stem + '.partial.npz')
            frames.save(str(tmp))
            os.replace(tmp, packed)
        parts.append(Frames.load(str(packed)))
    return Frames(np.concatenate([p.images for p in parts]), [b for p in parts for b in p.boxes],
                  [c for p in parts for c in p.classes])
