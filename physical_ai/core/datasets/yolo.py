"""YOLO detection datasets as CVAT, Label Studio, Roboflow and Ultralytics export them.

Layout written here (and the most common one read)::

    DIR/data.yaml            path: .   train: images/train   val: images/val   names: {0: a, 1: b}
    DIR/images/train/*.jpg   DIR/labels/train/*.txt   (one `class cx cy w h` line per box, in [0, 1])
    DIR/images/val/*.jpg     DIR/labels/val/*.txt

`train`/`val` may also be a list of folders or a .txt file listing images; an image's label file is
found as Ultralytics does: the last `images` folder of its path replaced by `labels`, suffix `.txt`.
An image without a label file is a background image (no objects). Boxes handed out by this module
are corner boxes (x1, y1, x2, y2) in image pixels.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
import hashlib
import math
import os
from pathlib import Path

import cv2
import numpy as np
import yaml

from physical_ai.core.errors import PhysicalAIError

IMAGE_SUFFIXES = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp')
SPLITS = ('train', 'val', 'test')
# A coordinate this far outside [0, 1] is a rounding slip of an exporter: --fix clips it. Farther
# out, which side is wrong cannot be told, so it stays an error.
CLIP_TOLERANCE = 0.01
# Labels carry 6 decimals: a box touching the border may compute to -1e-7; that is on the border.
EPSILON = 1e-5

Sample = tuple[np.ndarray, np.ndarray, np.ndarray]  # BGR image, boxes [n, 4] xyxy pixels, classes [n]


class DatasetError(PhysicalAIError):
    """A dataset folder, its data.yaml or one of its files cannot be used."""


@dataclass(frozen=True)
class Problem:
    """One broken thing of a dataset: the file, the line (0: the whole file), what is wrong."""

    file: Path
    line: int
    message: str
    fixable: bool = False

    def __str__(self) -> str:
        where = f'{self.file}:{self.line}' if self.line else str(self.file)
        return f'{where}: {self.message}' + (' (--fix repairs it)' if self.fixable else '')


@dataclass
class YoloDataset:
    """A dataset: its root, class names and, per split, the image files."""

    root: Path
    names: tuple[str, ...]
    splits: dict[str, list[Path]] = field(default_factory=dict)
    yaml_path: Path | None = None

    def images(self, split: str) -> list[Path]:
        """Return the image files of a split (an empty list when the split is not there)."""
        return self.splits.get(split, [])

    def samples(self, split: str) -> list[Sample]:
        """Return (BGR image, boxes in pixels, classes) of every image of a split; DatasetError if broken."""
        return list(self.iter_samples(split))

    def iter_samples(self, split: str) -> Iterator[Sample]:
        """Yield the samples of a split one by one (see `samples`)."""
        for image_path in self.images(split):
            image = read_image(image_path)
            height, width = image.shape[:2]
            rows, problems = parse_labels(label_path(image_path), len(self.names))
            if problems:
                raise DatasetError(f'{problems[0]}; run `physical-ai dataset check {self.root}`')
            boxes = np.zeros((len(rows), 4), np.float32)
            classes = np.zeros(len(rows), np.int64)
            for i, (cls, cx, cy, w, h) in enumerate(rows):
                boxes[i] = ((cx - w / 2) * width, (cy - h / 2) * height,
                            (cx + w / 2) * width, (cy + h / 2) * height)
                classes[i] = cls
            yield image, boxes, classes


def label_path(image: Path) -> Path:
    """Return the label file of an image: the last `images` folder of its path becomes `labels`."""
    parts = list(image.parts)
    for i in range(len(parts) - 2, -1, -1):
        if parts[i] == 'images':
            parts[i] = 'labels'
            return Path(*parts).with_suffix('.txt')
    return image.with_suffix('.txt')


def read_image(path: Path) -> np.ndarray:
    """Return a BGR uint8 image, or raise DatasetError naming the file."""
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise DatasetError(f'{path}: cannot be read as an image')
    return image


def _names(value: object, where: Path) -> tuple[str, ...]:
    if isinstance(value, list | tuple) and value:
        return tuple(str(v) for v in value)
    if isinstance(value, dict) and value:
        try:
            table = {int(k): str(v) for k, v in value.items()}
        except (TypeError, ValueError) as err:
            raise DatasetError(f'{where}: names keys must be class indices 0..n-1, '
                               f'got {list(value)[:5]}') from err
        if sorted(table) != list(range(len(table))):
            raise DatasetError(f'{where}: names must be numbered 0..{len(table) - 1}, '
                               f'got {sorted(table)[:10]}')
        return tuple(table[i] for i in range(len(table)))
    raise DatasetError(f'{where}: names is {value!r}; expected a list of class names or {{0: name, ...}}')


def _split_images(entry: object, base: Path, where: Path, split: str) -> list[Path]:
    entries = entry if isinstance(entry, list | tuple) else [entry]
    images: list[Path] = []
    for item in entries:
        if not isinstance(item, str) or not item:
            raise DatasetError(f'{where}: {split} is {item!r}; expected a folder, a list of folders '
                               'or a .txt list')
        path = (base / item) if not os.path.isabs(item) else Path(item)
        if path.is_dir():
            images.extend(sorted(p for p in path.rglob('*') if p.suffix.lower() in IMAGE_SUFFIXES))
        elif path.is_file() and path.suffix == '.txt':
            for line in path.read_text(encoding='utf-8').splitlines():
                line = line.strip()
                if line:
                    p = Path(line)
                    images.append(p if p.is_absolute() else (path.parent / p).resolve()
                                  if not line.startswith('./') else (base / line).resolve())
        else:
            raise DatasetError(f'{where}: {split} folder {path} does not exist')
    return images


def load_dataset(directory: str | os.PathLike[str]) -> YoloDataset:
    """Read a dataset folder (or its data.yaml); raise DatasetError with one line saying what is wrong."""
    given = Path(directory).expanduser()
    if not given.exists():
        raise DatasetError(f'dataset {given} does not exist; expected a folder with a data.yaml')
    yaml_path = given if given.is_file() else given / 'data.yaml'
    if not yaml_path.is_file():
        candidates = sorted(given.glob('*.yaml')) if given.is_dir() else []
        if len(candidates) != 1:
            raise DatasetError(f'dataset {given} has no data.yaml; expected the YOLO layout '
                               '(data.yaml with names, train and val folders)')
        yaml_path = candidates[0]
    try:
        document = yaml.safe_load(yaml_path.read_text(encoding='utf-8'))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as err:
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise DatasetError(f'{yaml_path}: cannot be read as YAML ({reason})') from err
    if not isinstance(document, dict):
        raise DatasetError(f'{yaml_path}: expected a mapping with names, train and val')
    names = _names(document.get('names'), yaml_path)
    if 'nc' in document and document['nc'] != len(names):
        raise DatasetError(f'{yaml_path}: nc is {document["nc"]} but {len(names)} names are given')
    root = yaml_path.parent
    if isinstance(document.get('path'), str) and document['path']:
        given_root = Path(document['path'])
        root = given_root if given_root.is_absolute() else yaml_path.parent / given_root
    if 'train' not in document:
        raise DatasetError(f'{yaml_path}: no train entry; expected train: images/train')
    splits = {}
    for split in SPLITS:
        if document.get(split):
            splits[split] = _split_images(document[split], root, yaml_path, split)
    return YoloDataset(root.resolve(), names, splits, yaml_path)


Row = tuple[int, float, float, float, float]  # class, cx, cy, w, h (normalised)


def parse_labels(path: Path, num_classes: int) -> tuple[list[Row], list[Problem]]:
    """Return (valid rows, problems) of a label file; a missing file is an image without objects."""
    if not path.exists():
        return [], []
    try:
        text = path.read_text(encoding='utf-8')
    except (OSError, UnicodeDecodeError) as err:
        return [], [Problem(path, 0, f'cannot be read ({type(err).__name__})')]
    rows: list[Row] = []
    problems: list[Problem] = []
    seen: set[str] = set()
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line:
            continue
        fields = line.split()
        if len(fields) != 5:
            problems.append(Problem(path, number, f'{len(fields)} fields; expected 5: class cx cy w h'))
            continue
        try:
            values = [float(v) for v in fields]
        except ValueError:
            problems.append(Problem(path, number, f'{line!r} is not numbers; expected class cx cy w h'))
            continue
        cls, cx, cy, w, h = values
        if not all(math.isfinite(v) for v in values):
            problems.append(Problem(path, number, 'holds NaN or infinity'))
            continue
        if cls != int(cls) or not 0 <= cls < num_classes:
            problems.append(Problem(path, number, f'class {fields[0]} is unknown; data.yaml names '
                                    f'{num_classes} classes (0..{num_classes - 1})'))
            continue
        if w <= 0 or h <= 0:
            problems.append(Problem(path, number, f'box size {w:g} x {h:g} is not positive'))
            continue
        low = min(cx - w / 2, cy - h / 2)
        high = max(cx + w / 2, cy + h / 2)
        if low < -EPSILON or high > 1 + EPSILON:
            slip = max(-low, high - 1)
            problems.append(Problem(path, number, f'box reaches {low:.4f}..{high:.4f}, outside the image '
                                    '[0, 1]', fixable=slip <= CLIP_TOLERANCE))
            continue
        if line in seen:
            problems.append(Problem(path, number, 'repeats an earlier line', fixable=True))
            continue
        seen.add(line)
        rows.append((int(cls), cx, cy, w, h))
    return rows, problems


@dataclass
class CheckReport:
    """What `check_dataset` found: per split and class the box counts, image sizes, problems, fixes."""

    dataset: YoloDataset
    counts: dict[str, list[int]]
    images: dict[str, int]
    backgrounds: dict[str, int]
    sizes: Counter
    problems: list[Problem]
    fixed: list[Problem]

    @property
    def ok(self) -> bool:
        """Return True when nothing is broken (after any fixes)."""
        return not self.problems

    def text(self) -> str:
        """Return the report as printed by `physical-ai dataset check`."""
        names = self.dataset.names
        lines = [f'dataset {self.dataset.root}: {len(names)} classes ({", ".join(names)})']
        head = f'{"class":<16}' + ''.join(f'{s:>8}' for s in self.counts)
        lines += [head, '-' * len(head)]
        for i, name in enumerate(names):
            lines.append(f'{name:<16}' + ''.join(f'{c[i]:>8}' for c in self.counts.values()))
        lines.append('-' * len(head))
        lines.append(f'{"images":<16}' + ''.join(f'{self.images[s]:>8}' for s in self.counts))
        lines.append(f'{"  no objects":<16}' + ''.join(f'{self.backgrounds[s]:>8}' for s in self.counts))
        sizes = ', '.join(f'{w}x{h} ({n})' for (w, h), n in self.sizes.most_common(5))
        more = f' and {len(self.sizes) - 5} more' if len(self.sizes) > 5 else ''
        lines.append(f'image sizes: {sizes or "none"}{more}')
        for problem in self.fixed:
            lines.append(f'fixed: {problem.file}:{problem.line}: {problem.message}')
        for problem in self.problems:
            lines.append(f'error: {problem}')
        lines.append(f'{len(self.problems)} problem(s)' + (f', {len(self.fixed)} fixed' if self.fixed else '')
                     if self.problems or self.fixed else 'ok: no problems found')
        return '\n'.join(lines)


def _fix(path: Path, problems: Sequence[Problem]) -> None:
    """Rewrite a label file: drop repeated lines, clip boxes that slip out of [0, 1] by a rounding error."""
    repeats = {p.line for p in problems if p.message.startswith('repeats')}
    out = []
    for number, raw in enumerate(path.read_text(encoding='utf-8').splitlines(), 1):
        if not raw.strip() or number in repeats:
            continue
        fields = raw.split()
        if any(p.line == number and p.fixable and 'outside' in p.message for p in problems):
            cls, cx, cy, w, h = (float(v) for v in fields)
            x1, y1 = max(0.0, cx - w / 2), max(0.0, cy - h / 2)
            x2, y2 = min(1.0, cx + w / 2), min(1.0, cy + h / 2)
            raw = f'{int(cls)} {(x1 + x2) / 2:.6f} {(y1 + y2) / 2:.6f} {x2 - x1:.6f} {y2 - y1:.6f}'
        out.append(raw.strip())
    tmp = path.with_name(path.name + '.tmp')
    tmp.write_text(''.join(line + '\n' for line in out), encoding='utf-8')
    os.replace(tmp, path)


def _has_image(labels: Path) -> bool:
    """Return True when an image file of this label file's name lies in the matching images folder."""
    parts = list(labels.parent.parts)
    for i in range(len(parts) - 1, -1, -1):
        if parts[i] == 'labels':
            parts[i] = 'images'
            break
    folder = Path(*parts)
    return any((folder / (labels.stem + suffix)).exists()
               for suffix in (*IMAGE_SUFFIXES, *(s.upper() for s in IMAGE_SUFFIXES)))


def check_dataset(directory: str | os.PathLike[str], fix: bool = False) -> CheckReport:
    """Check every image and label of a dataset; with `fix`, repair what is unambiguous (see _fix)."""
    dataset = load_dataset(directory)
    counts: dict[str, list[int]] = {}
    images: dict[str, int] = {}
    backgrounds: dict[str, int] = {}
    sizes: Counter = Counter()
    problems: list[Problem] = []
    fixed: list[Problem] = []
    if not dataset.images('train'):
        problems.append(Problem(dataset.yaml_path or dataset.root, 0, 'the train split holds no images'))
    for split, files in dataset.splits.items():
        per_class = [0] * len(dataset.names)
        empty = 0
        known_labels = set()
        for image_path in files:
            known_labels.add(label_path(image_path).resolve())
            image = cv2.imread(str(image_path), cv2.IMREAD_COLOR)
            if image is None:
                problems.append(Problem(image_path, 0, 'missing or not readable as an image'
                                        if image_path.exists() else 'is listed but does not exist'))
                continue
            sizes[(image.shape[1], image.shape[0])] += 1
            labels = label_path(image_path)
            rows, found = parse_labels(labels, len(dataset.names))
            if fix and any(p.fixable for p in found):
                _fix(labels, found)
                fixed.extend(p for p in found if p.fixable)
                rows, found = parse_labels(labels, len(dataset.names))
            problems.extend(found)
            for row in rows:
                per_class[row[0]] += 1
            empty += not rows
        # Label files without an image: an image was renamed, deleted or exported as another suffix.
        folders = {label_path(p).parent for p in files}
        for folder in sorted(folders):
            for labels in sorted(folder.glob('*.txt')):
                if labels.resolve() not in known_labels and labels.name != 'classes.txt' \
                        and not _has_image(labels):
                    problems.append(Problem(labels, 0, 'label file without an image (looked for '
                                            f'{labels.stem}{{{",".join(IMAGE_SUFFIXES)}}})'))
        counts[split] = per_class
        images[split] = len(files)
        backgrounds[split] = empty
    return CheckReport(dataset, counts, images, backgrounds, sizes, problems, fixed)


def dataset_hash(dataset: YoloDataset) -> str:
    """Return a sha256 over data.yaml and every image and label file (paths relative to the root)."""
    digest = hashlib.sha256()
    files = [dataset.yaml_path] if dataset.yaml_path else []
    for split in sorted(dataset.splits):
        for image in dataset.splits[split]:
            files += [image, label_path(image)]
    for path in files:
        if path is None or not path.exists():
            continue
        try:
            name = str(path.resolve().relative_to(dataset.root))
        except ValueError:
            name = str(path)
        digest.update(name.encode() + b'\0')
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


class DatasetWriter:
    """Writes a dataset in the layout above: images and labels per split, then data.yaml."""

    def __init__(self, root: str | os.PathLike[str], names: Sequence[str], image_format: str = 'jpg',
                 overwrite: bool = False) -> None:
        self.root = Path(root).expanduser()
        if (self.root / 'data.yaml').exists() and not overwrite:
            raise DatasetError(f'{self.root} already holds a dataset (data.yaml); choose another folder')
        if not names:
            raise DatasetError('a dataset needs at least one class name')
        self.names = tuple(str(n) for n in names)
        self.image_format = image_format
        self.counts: dict[str, int] = {}

    def add(self, split: str, stem: str, image_bgr: np.ndarray, boxes: np.ndarray,
            classes: np.ndarray) -> Path:
        """Write one image (BGR) and its label file; boxes are xyxy in pixels, clipped to the image."""
        height, width = image_bgr.shape[:2]
        images = self.root / 'images' / split
        labels = self.root / 'labels' / split
        images.mkdir(parents=True, exist_ok=True)
        labels.mkdir(parents=True, exist_ok=True)
        path = images / f'{stem}.{self.image_format}'
        if not cv2.imwrite(str(path), image_bgr):
            raise DatasetError(f'cannot write {path}')
        lines = []
        for (x1, y1, x2, y2), cls in zip(np.asarray(boxes, np.float64).reshape(-1, 4),
                                         np.asarray(classes).reshape(-1), strict=True):
            x1, x2 = np.clip([x1, x2], 0, width)
            y1, y2 = np.clip([y1, y2], 0, height)
            if x2 - x1 < 1 or y2 - y1 < 1:
                continue
            lines.append(f'{int(cls)} {(x1 + x2) / 2 / width:.6f} {(y1 + y2) / 2 / height:.6f} '
                         f'{(x2 - x1) / width:.6f} {(y2 - y1) / height:.6f}\n')
        (labels / f'{stem}.txt').write_text(''.join(lines), encoding='utf-8')
        self.counts[split] = self.counts.get(split, 0) + 1
        return path

    def finish(self, comment: str = '') -> Path:
        """Write data.yaml (names, the splits written) and return its path."""
        self.root.mkdir(parents=True, exist_ok=True)
        names = ''.join(f'  {i}: {name}\n' for i, name in enumerate(self.names))
        splits = ''.join(f'{s}: images/{s}\n' for s in SPLITS if s in self.counts)
        if 'train' not in self.counts:
            splits = 'train: images/train\n' + splits
            (self.root / 'images' / 'train').mkdir(parents=True, exist_ok=True)
        head = ''.join(f'# {line}\n' for line in comment.splitlines())
        path = self.root / 'data.yaml'
        tmp = path.with_name('data.yaml.tmp')
        tmp.write_text(f'{head}path: .\n{splits}nc: {len(self.names)}\nnames:\n{names}', encoding='utf-8')
        os.replace(tmp, path)
        return path
