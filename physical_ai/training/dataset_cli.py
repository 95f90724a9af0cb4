"""`physical-ai dataset`: make, extract and check YOLO-format detection datasets (see docs/training.md).

check DIR [--fix]: per-class counts, image sizes, every broken label by file and line.
extract RUN.mcap --topic T --out DIR: camera frames of a ROS 2 recording, optionally pre-labelled.
sim --out DIR --frames N: the simulator's frames with exact boxes.
shapes --out DIR --frames N: coloured shapes on textured backgrounds (a non-simulator set).
"""

from __future__ import annotations

import argparse
from pathlib import Path
import shutil
import sys
import tempfile

from physical_ai.core.datasets import DatasetError, DatasetWriter, check_dataset
from physical_ai.core.errors import PhysicalAIError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the actions of `physical-ai dataset` and their options."""
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    sub = parser.add_subparsers(dest='action', required=True, metavar='ACTION')
    check = sub.add_parser('check', help='report counts, sizes and every broken label')
    check.add_argument('dir', help='dataset folder (with data.yaml) or the data.yaml itself')
    check.add_argument('--fix', action='store_true',
                       help='repair what is unambiguous: repeated lines, boxes out of [0, 1] by <= 0.01')
    extract = sub.add_parser('extract', help='frames of an MCAP recording into a dataset')
    extract.add_argument('mcap', help='a ROS 2 MCAP file (ours, rosbag2\'s, Foxglove\'s)')
    extract.add_argument('--topic', default='camera/image_raw',
                         help='sensor_msgs/Image or CompressedImage topic (default camera/image_raw; a '
                         'namespaced /robot/camera/image_raw matches too)')
    extract.add_argument('--out', required=True, help='dataset folder to write')
    extract.add_argument('--every', type=int, default=1, help='keep every N-th frame (default 1)')
    extract.add_argument('--prelabel', default='', metavar='MODEL',
                         help='label the frames with this model, as the inference node runs it, for a '
                         'person to correct')
    extract.add_argument('--score-threshold', type=float, default=0.4,
                         help='lowest score of a pre-label (default 0.4)')
    extract.add_argument('--names', default='',
                         help='class names, comma separated (default: the pre-label model\'s, else "object")')
    extract.add_argument('--val-every', type=int, default=5,
                         help='every N-th kept frame goes to the val split (default 5; 0: none)')
    extract.add_argument('--format', default='jpg', choices=('jpg', 'png'), help='image files (default jpg)')
    sim = sub.add_parser('sim', help='simulator frames with exact boxes')
    sim.add_argument('--out', required=True, help='dataset folder to write')
    sim.add_argument('--frames', type=int, required=True, help='training frames (val gets a fifth more)')
    sim.add_argument('--seed', type=int, default=0,
                     help='simulator seed of the train split; val uses seed + 1')
    sim.add_argument('--width', type=int, default=640)
    sim.add_argument('--height', type=int, default=480)
    shapes = sub.add_parser('shapes', help='coloured shapes on textured backgrounds')
    shapes.add_argument('--out', required=True, help='dataset folder to write')
    shapes.add_argument('--frames', type=int, required=True, help='images in all (a fifth go to val)')
    shapes.add_argument('--classes', default='disc,triangle',
                        help='comma separated, from disc, triangle, square, cross (default disc,triangle)')
    shapes.add_argument('--seed', type=int, default=0)


def run(args: argparse.Namespace) -> int:
    """Run one dataset action; return the exit code (1 with a one-line error)."""
    try:
        return {'check': _check, 'extract': _extract, 'sim': _sim, 'shapes': _shapes}[args.action](args)
    except PhysicalAIError as err:
        print(f'error: {err}', file=sys.stderr)
        return 1


def _check(args: argparse.Namespace) -> int:
    report = check_dataset(args.dir, fix=args.fix)
    print(report.text())
    return 0 if report.ok else 1


def _extract(args: argparse.Namespace) -> int:
    from physical_ai.core.datasets.mcap_images import read_frames

    detector = None
    names: tuple[str, ...] = tuple(n.strip() for n in args.names.split(',') if n.strip())
    if args.prelabel:
        from physical_ai.core.detection import Detector

        detector = Detector.from_file(args.prelabel, score_threshold=args.score_threshold)
        names = names or detector.names
    names = names or ('object',)
    writer = DatasetWriter(args.out, names, image_format=args.format)
    kept = boxes = 0
    for i, frame in enumerate(read_frames(args.mcap, args.topic, args.every)):
        found, classes = [], []
        if detector is not None:
            found, _, classes = detector.detect_arrays(frame.image, 'bgr')
            boxes += len(found)
        split = 'val' if args.val_every and i % args.val_every == args.val_every - 1 else 'train'
        writer.add(split, f'{frame.stamp_ns or frame.log_time_ns:019d}', frame.image, found, classes)
        kept += 1
    if not kept:
        raise DatasetError(f'{args.mcap}: no frames on {args.topic}')
    path = writer.finish(f'Frames of {Path(args.mcap).name}, topic {args.topic}, every {args.every}'
                         + (f', pre-labelled by {Path(args.prelabel).name}' if detector else ''))
    counts = ', '.join(f'{s} {n}' for s, n in writer.counts.items())
    print(f'wrote {kept} frames ({counts}) to {path.parent}'
          + (f', {boxes} pre-labelled boxes to correct' if detector else ', no labels yet'))
    print(f'check it with: physical-ai dataset check {path.parent}')
    return 0


def _sim(args: argparse.Namespace) -> int:
    from physical_ai.core.sim import datagen
    from physical_ai.core.sim.camera import CameraSpec
    from physical_ai.training import data

    if args.frames < 1:
        raise DatasetError(f'--frames is {args.frames}; expected at least 1')
    writer = DatasetWriter(args.out, data.class_names(), image_format='png')
    camera = CameraSpec(args.width, args.height, samples=4)
    with tempfile.TemporaryDirectory(prefix='physical_ai_sim_') as tmp:
        for split, seed, count in (('train', args.seed, args.frames), ('val', args.seed + 1,
                                                                         max(1, args.frames // 5))):
            folder = Path(tmp) / split
            datagen.generate(folder, datagen.DatagenConfig(count=count, seed=seed, camera=camera,
                                                           formats=('json',)))
            for k, (image, boxes, classes) in enumerate(data.read_folder(folder)):
                writer.add(split, f'{k:06d}', image, boxes, classes)
            shutil.rmtree(folder)
    path = writer.finish(f'Simulator frames, seeds {args.seed} (train) and {args.seed + 1} (val).')
    print(f'wrote {sum(writer.counts.values())} frames to {path.parent}')
    return 0


def _shapes(args: argparse.Namespace) -> int:
    from physical_ai.core.datasets.shapes import make_shapes

    classes = tuple(c.strip() for c in args.classes.split(',') if c.strip())
    path = make_shapes(args.out, args.frames, classes, seed=args.seed)
    print(f'wrote {args.frames} frames of {", ".join(classes)} to {path.parent}')
    return 0
