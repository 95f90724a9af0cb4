"""Synthetic detection data from the simulator's world: images with exact boxes, for training and evaluation.

    python -m physical_ai.core.sim.datagen runs/sim_data --count 2000 --seed 1

writes a dataset folder:

    images/000000.png ...      RGB images as seen by the robot's camera
    labels/000000.txt ...      YOLO labels: `class_index cx cy w h`, normalised to [0, 1]
    labels.json                every image with its objects: class, box [x1, y1, x2, y2] in pixels
                               (x2, y2 one past the last pixel), visible pixel count, centre in the
                               camera optical frame (m), and the camera intrinsics
    data.yaml                  the YOLO dataset description (names, train/val folders)

Boxes come from the renderer's segmentation pass, so they are the exact extent of each object's
visible pixels (occlusion and image border included). Every image draws its own layout from the
seed (robot pose, which objects, where, their colours and pose, lighting); sizes and the floor
change every `images_per_world` images. The same seed and settings give identical files.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
import json
import math
import os
from pathlib import Path
import random
import sys

import cv2

from physical_ai.core.errors import ConfigError, PhysicalAIError
from physical_ai.core.sim import world as draw
from physical_ai.core.sim.camera import CameraSpec
from physical_ai.core.sim.render import SceneRenderer, Truth
from physical_ai.core.sim.scenario import CLASSES
from physical_ai.core.sim.world import ROBOT_RADIUS, ObjectSpec, World, WorldSpec

FORMAT = 'physical_ai/boxes-1'
FORMATS = ('json', 'yolo')
IMAGE_FORMATS = ('png', 'jpg')
# Objects of each class kept in one world; an image shows a random subset of them.
POOL = {'person': 2, 'ball': 2, 'box': 2, 'cylinder': 2}


@dataclass(frozen=True)
class DatagenConfig:
    """What to generate: how many images, from which seed, with which camera and label formats."""

    count: int = 100
    seed: int = 0
    camera: CameraSpec = field(default_factory=lambda: CameraSpec(640, 480, samples=4))
    formats: tuple[str, ...] = FORMATS
    image_format: str = 'png'
    images_per_world: int = 50
    max_objects: int = 5
    min_pixels: int = 16
    distance: tuple[float, float] = (0.8, 9.0)

    def __post_init__(self) -> None:
        """Check the settings."""
        if not 1 <= self.count <= 10_000_000:
            raise ConfigError(f'count must be in [1, 10000000], got {self.count}')
        for name in self.formats:
            if name not in FORMATS:
                raise ConfigError(f'label format {name!r} is not supported; accepted: {", ".join(FORMATS)}')
        if not self.formats:
            raise ConfigError(f'no label format given; accepted: {", ".join(FORMATS)}')
        if self.image_format not in IMAGE_FORMATS:
            raise ConfigError(f'image format {self.image_format!r}: expected one of '
                              f'{", ".join(IMAGE_FORMATS)}')
        if not 1 <= self.max_objects <= sum(POOL.values()):
            raise ConfigError(f'max_objects must be in [1, {sum(POOL.values())}], got {self.max_objects}')
        if self.images_per_world < 1 or self.min_pixels < 1:
            raise ConfigError('images_per_world and min_pixels must be >= 1')
        if not 0.3 <= self.distance[0] < self.distance[1] <= 100.0:
            raise ConfigError(f'distance must be (near, far) with 0.3 <= near < far <= 100, '
                              f'got {self.distance}')


@dataclass(frozen=True)
class DatasetSummary:
    """What was written: the folder, the number of images and of boxes per class."""

    path: Path
    images: int
    boxes: dict[str, int]


def pool_world(seed: int, index: int, camera: CameraSpec) -> WorldSpec:
    """Return the pool world number `index` of a seed: POOL objects with their sizes, a floor, lighting."""
    rng = random.Random(f'physical_ai.datagen:{seed}:world:{index}')
    objects = []
    for class_name, count in POOL.items():
        for k in range(count):
            size = tuple(round(s, 6) for s in draw.random_size(class_name, rng))
            colours = draw.random_colours(class_name, rng)
            limbs = draw.random_limbs(rng) if class_name == 'person' else (0.0, 0.0, 0.0, 0.0)
            objects.append(ObjectSpec(f'{class_name}_{k}', class_name, 0.0, 0.0, 0.0, size, colours, limbs))
    return WorldSpec(tuple(objects), camera, lighting=draw.random_lighting(rng), floor=draw.random_floor(rng))


def arrange(world: World, rng: random.Random, config: DatagenConfig) -> None:
    """Lay out one image: robot pose, a random subset of the pool in front of the camera, colours, light."""
    spec = world.spec
    x0, y0, yaw0 = rng.uniform(-20.0, 20.0), rng.uniform(-20.0, 20.0), rng.uniform(-math.pi, math.pi)
    world.set_robot_pose(x0, y0, yaw0)
    chosen = set(rng.sample(range(len(spec.objects)), rng.randint(1, config.max_objects)))
    half_fov = spec.camera.hfov / 2.0 * 1.15  # some objects cut by the image border
    placed: list[tuple[float, float, float]] = []
    near, far = config.distance
    for index, obj in enumerate(spec.objects):
        visible = index in chosen
        if visible:
            for _attempt in range(20):
                distance = near + (far - near) * rng.random() ** 1.3
                bearing = yaw0 + rng.uniform(-half_fov, half_fov)
                x, y = x0 + distance * math.cos(bearing), y0 + distance * math.sin(bearing)
                if distance - obj.radius > ROBOT_RADIUS + 0.3 and all(
                        math.hypot(x - px, y - py) > obj.radius + pr + 0.1 for px, py, pr in placed):
                    break
            else:
                visible = False
        world.set_object_visible(index, visible)
        if not visible:
            continue
        placed.append((x, y, obj.radius))
        world.set_object_pose(index, x, y, rng.uniform(-math.pi, math.pi))
        world.set_object_colours(index, draw.random_colours(obj.class_name, rng))
        if obj.class_name == 'person':
            world.set_limbs(index, draw.random_limbs(rng, walking=0.5))
    world.set_lighting(draw.random_lighting(rng))
    world.update()


def _yolo_lines(truths: Sequence[Truth], width: int, height: int) -> str:
    lines = []
    for t in truths:
        (cx, cy), (w, h) = t.centre, t.size
        lines.append(f'{CLASSES.index(t.class_name)} {cx / width:.6f} {cy / height:.6f} '
                     f'{w / width:.6f} {h / height:.6f}')
    return ''.join(line + '\n' for line in lines)


def generate(out_dir: str | os.PathLike[str], config: DatagenConfig, overwrite: bool = False,
             progress: Callable[[int, int], None] | None = None) -> DatasetSummary:
    """Render `config.count` labelled images into `out_dir`; returns what was written.

    Runs on the calling thread (the renderer's thread). Refuses a folder that already holds a
    dataset unless `overwrite`.
    """
    out = Path(out_dir)
    if (out / 'labels.json').exists() or (out / 'data.yaml').exists():
        if not overwrite:
            raise ConfigError(f'{out} already holds a dataset; choose another folder or overwrite it')
    (out / 'images').mkdir(parents=True, exist_ok=True)
    if 'yolo' in config.formats:
        (out / 'labels').mkdir(exist_ok=True)
    camera = config.camera
    intrinsics = camera.intrinsics
    records = []
    boxes = dict.fromkeys(CLASSES, 0)
    world: World | None = None
    renderer: SceneRenderer | None = None
    try:
        for i in range(config.count):
            if i % config.images_per_world == 0:
                if renderer is not None:
                    renderer.close()
                world = World(pool_world(config.seed, i // config.images_per_world, camera))
                renderer = SceneRenderer(world, config.min_pixels)
            arrange(world, random.Random(f'physical_ai.datagen:{config.seed}:image:{i}'), config)
            image, truths = renderer.render(ground_truth=True)
            stem = f'{i:06d}'
            file = f'images/{stem}.{config.image_format}'
            if not cv2.imwrite(str(out / file), cv2.cvtColor(image, cv2.COLOR_RGB2BGR)):
                raise ConfigError(f'cannot write {out / file}')
            if 'yolo' in config.formats:
                (out / 'labels' / f'{stem}.txt').write_text(_yolo_lines(truths, camera.width, camera.height))
            for t in truths:
                boxes[t.class_name] += 1
            records.append({
                'file': file, 'width': camera.width, 'height': camera.height,
                'objects': [{
                    'name': t.name, 'class': t.class_name, 'class_index': CLASSES.index(t.class_name),
                    'box': list(t.box), 'pixels': t.pixels, 'position': list(t.position),
                    'truncated': t.box[0] <= 0 or t.box[1] <= 0 or t.box[2] >= camera.width
                    or t.box[3] >= camera.height,
                } for t in truths],
            })
            if progress is not None:
                progress(i + 1, config.count)
    finally:
        if renderer is not None:
            renderer.close()
    if 'json' in config.formats:
        document = {
            'format': FORMAT, 'names': list(CLASSES), 'seed': config.seed,
            'camera': {'width': camera.width, 'height': camera.height, 'fovy': camera.fovy,
                       'fx': intrinsics.fx, 'fy': intrinsics.fy, 'cx': intrinsics.cx, 'cy': intrinsics.cy,
                       'mount_z': camera.mount_z, 'pitch': camera.pitch},
            'images': records,
        }
        _write_atomic(out / 'labels.json', json.dumps(document, indent=1) + '\n')
    if 'yolo' in config.formats:
        names = ''.join(f'  {i}: {name}\n' for i, name in enumerate(CLASSES))
        _write_atomic(out / 'data.yaml',
                      f'# Synthetic images from physical_ai\'s simulator (seed {config.seed}).\n'
                      f'path: .\ntrain: images\nval: images\nnames:\n{names}')
    return DatasetSummary(out, config.count, boxes)


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + '.tmp')
    tmp.write_text(text, encoding='utf-8')
    tmp.replace(path)


def main(argv: Sequence[str] | None = None) -> int:
    """Generate a dataset from the command line; returns the exit code."""
    parser = argparse.ArgumentParser(prog='python -m physical_ai.core.sim.datagen',
                                     description='Render labelled images of the simulator\'s world.')
    parser.add_argument('out', help='output folder')
    parser.add_argument('--count', type=int, default=100, help='number of images (default 100)')
    parser.add_argument('--seed', type=int, default=0, help='random seed (default 0)')
    parser.add_argument('--width', type=int, default=640)
    parser.add_argument('--height', type=int, default=480)
    parser.add_argument('--fovy', type=float, default=60.0, help='vertical field of view, degrees')
    parser.add_argument('--antialias', type=int, default=4, choices=(0, 2, 4, 8),
                        help='multisample antialiasing samples (default 4)')
    parser.add_argument('--formats', default='json,yolo', help='label formats: json, yolo or both (default)')
    parser.add_argument('--image-format', default='png', choices=IMAGE_FORMATS)
    parser.add_argument('--max-objects', type=int, default=5)
    parser.add_argument('--overwrite', action='store_true', help='write into a folder holding a dataset')
    args = parser.parse_args(argv)
    try:
        camera = CameraSpec(args.width, args.height, args.fovy, samples=args.antialias)
        config = DatagenConfig(args.count, args.seed, camera, tuple(f for f in args.formats.split(',') if f),
                               args.image_format, max_objects=args.max_objects)
        step = max(1, args.count // 20)

        def progress(done: int, total: int) -> None:
            if done % step == 0 or done == total:
                print(f'{done}/{total} images', file=sys.stderr)

        summary = generate(args.out, config, overwrite=args.overwrite, progress=progress)
    except PhysicalAIError as err:
        print(f'error: {err}', file=sys.stderr)
        return 1
    counts = ', '.join(f'{name} {n}' for name, n in summary.boxes.items())
    print(f'wrote {summary.images} images to {summary.path} (boxes: {counts})')
    return 0


if __name__ == '__main__':
    sys.exit(main())
