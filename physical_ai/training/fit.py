"""`physical-ai train --data DIR`: train a detector on a YOLO-format dataset and export it with a model card.

The training images are letterboxed to the model input as the inference node does, augmented for
robots (scale and placement, horizontal flips, brightness/saturation/hue, blur), and the network
starts from the shipped detector (its backbone, neck and box head; a new class head when the
dataset's classes differ) or from scratch (`--init none`). The weight average is scored on the val
split through the inference node's own Detector every so often; the best one is kept, and training
stops early when it no longer improves. The export is the physical_ai/1 TorchScript format with the
dataset's class names and a model card (in the file as `model_card.json`, and beside it as
FILE.card.json with the file's sha256 added).
"""

from __future__ import annotations

import argparse
import copy
from dataclasses import asdict
import datetime
import json
from pathlib import Path
import sys
import time
from typing import Any

import numpy as np
import torch

from physical_ai.core.datasets.yolo import DatasetError, check_dataset, dataset_hash
from physical_ai.core.detection import Detector
from physical_ai.core.detection.model import Model, ModelError, file_sha256, physical_ai_info, resolve_device
from physical_ai.core.errors import PhysicalAIError
from physical_ai.training import data
from physical_ai.training.model import (
    INPUT_SIZE,
    CenterNet,
    ExportDetector,
    count_parameters,
    export,
    metadata,
)

CARD_FILE = 'model_card.json'
CARD_FORMAT = 'physical_ai/model-card-1'
WARMUP_STEPS = 30  # short: a fine-tune starts from trained weights, and a timed run may be short
ROBOT_AUGMENT = data.Augment(scale=(0.6, 1.5), translate=0.2, flip=0.5, hue=0.02, saturation=0.5, value=0.5,
                             blur=0.25)


def eager_detector(net: CenterNet, names: tuple[str, ...], input_size: tuple[int, int] = INPUT_SIZE,
                   score_threshold: float = 0.01) -> Detector:
    """Return the inference node's Detector running a copy of `net` eagerly (no export needed)."""
    module = ExportDetector(copy.deepcopy(net).cpu().float().eval()).eval()
    model = Model(module=module, path=Path('<training>'), device=torch.device('cpu'), half=False,
                  info=physical_ai_info(metadata(names, input_size)))
    return Detector(model, score_threshold=score_threshold, nms_iou=0.45, max_detections=100)


def card_path(model_path: Path) -> Path:
    """Return where the model card is written beside a model file."""
    return model_path.with_name(model_path.name + '.card.json')


def read_card(path: str | Path) -> dict[str, Any] | None:
    """Return the model card inside a TorchScript file, or None when it has none."""
    from physical_ai.core.detection.model import torchscript_warnings

    extra = {CARD_FILE: ''}
    with torchscript_warnings():
        torch.jit.load(str(path), map_location='cpu', _extra_files=extra)
    return json.loads(extra[CARD_FILE]) if extra[CARD_FILE] else None


def run(args: argparse.Namespace) -> int:
    """Train on `args.data`; return the exit code (1 with a one-line error for a bad dataset or model)."""
    try:
        return _run(args)
    except (PhysicalAIError, ModelError) as err:
        print(f'error: {err}', file=sys.stderr)
        return 1


def _run(args: argparse.Namespace) -> int:
    from physical_ai.training.evaluate import evaluate
    from physical_ai.training.train import train

    began = time.monotonic()
    device = resolve_device(args.device)
    torch.set_num_threads(args.threads)
    report = check_dataset(args.data)
    if not report.ok:
        raise DatasetError(f'{args.data}: {len(report.problems)} broken label(s), '
                           f'the first: {report.problems[0]}; '
                           f'see `physical-ai dataset check {args.data}`')
    dataset = report.dataset
    names = dataset.names
    val_split = 'val' if dataset.images('val') else 'train'
    if val_split == 'train':
        print('warning: the dataset has no val split; early stop and the card score the training images',
              file=sys.stderr)
    train_samples = dataset.samples('train')
    val_samples = dataset.samples(val_split)
    frames = data.frames_from(train_samples, INPUT_SIZE)
    objects = sum(len(c) for c in frames.classes)
    print(f'dataset {dataset.root}: {len(names)} classes ({", ".join(names)}), {len(frames)} training images '
          f'({objects} objects), {len(val_samples)} {val_split} images')
    init = args.init
    if init.lower() == 'none':
        torch.manual_seed(args.seed)
        net, start = CenterNet(len(names)), 'from scratch'
        freeze_bn = False
    else:
        from physical_ai.training.weights import load_exported

        torch.manual_seed(args.seed)
        net, kept = load_exported(init, len(names), INPUT_SIZE)
        start = f'fine-tuning {init}' + ('' if kept else f' (new class head for {len(names)} classes)')
        freeze_bn = True
    print(f'model: CenterNet-style, {count_parameters(net):,} parameters, '
          f'input {INPUT_SIZE[1]}x{INPUT_SIZE[0]}, '
          f'{start}; device {device}, {args.threads} threads, seed {args.seed}')
    best: dict[str, Any] = {'map50': -1.0, 'epoch': 0, 'state': None, 'report': None}
    checks = {'count': 0, 'since': 0, 'last': time.monotonic()}

    def score(net_now: CenterNet) -> Any:
        return evaluate(eager_detector(net_now, names), val_samples, names)

    def on_epoch(epoch: int, ema: CenterNet) -> bool:
        # Scoring costs about one pass over val; do it at most every `val_period` seconds.
        if time.monotonic() - checks['last'] < args.val_period and epoch < args.epochs:
            return False
        result = score(ema)
        checks['last'] = time.monotonic()
        checks['count'] += 1
        if result.map50 > best['map50'] + 1e-4:
            best.update(map50=result.map50, epoch=epoch, state=copy.deepcopy(ema.state_dict()), report=result)
            checks['since'] = 0
        else:
            checks['since'] += 1
        print(f'  epoch {epoch}: {val_split} mAP@0.5 {result.map50:.3f} mAP@0.5:0.95 {result.map:.3f} '
              f'(best {best["map50"]:.3f} at epoch {best["epoch"]})', flush=True)
        return bool(args.patience) and checks['since'] >= args.patience

    out = Path(args.out)
    checkpoint = out.with_name(out.name + '.checkpoint')
    if args.resume and checkpoint.exists():
        _check_checkpoint(checkpoint, net)
    stats: dict[str, float] = {}
    trained = train(net, frames, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                    weight_decay=args.weight_decay, workers=args.workers, seed=args.seed,
                    augment=ROBOT_AUGMENT, minutes=args.minutes, checkpoint=checkpoint, resume=args.resume,
                    max_steps=args.max_steps, stats=stats, device=str(device), freeze_bn=freeze_bn,
                    on_epoch=on_epoch, warmup=WARMUP_STEPS, log=sys.stdout)
    trained = trained.cpu()
    final = score(trained)
    print(f'  end: {val_split} mAP@0.5 {final.map50:.3f} mAP@0.5:0.95 {final.map:.3f}')
    if best['state'] is not None and best['map50'] > final.map50:
        trained.load_state_dict(best['state'])
        chosen, stopped = best['report'], f'best at epoch {best["epoch"]}'
    else:
        chosen, stopped = final, 'last'
    card = {
        'format': CARD_FORMAT,
        'created': datetime.datetime.now(datetime.UTC).strftime('%Y-%m-%dT%H:%M:%SZ'),
        'classes': list(names),
        'input_size': list(INPUT_SIZE),
        'dataset': {'path': str(dataset.root), 'sha256': dataset_hash(dataset),
                    'images': report.images, 'objects': dict(zip(report.counts, (
                        dict(zip(names, c, strict=True)) for c in report.counts.values()), strict=True))},
        'training': {'init': start, 'epochs': args.epochs, 'minutes_budget': args.minutes,
                     'batch_size': args.batch_size, 'lr': args.lr, 'weight_decay': args.weight_decay,
                     'seed': args.seed, 'device': str(device), 'threads': args.threads,
                     'augment': asdict(ROBOT_AUGMENT), 'freeze_bn': freeze_bn, 'weights': stopped,
                     'torch': torch.__version__, **stats, 'parameters': count_parameters(trained)},
        'validation': _metrics(chosen, val_split),
    }
    path = export(trained, out, names=names, input_size=INPUT_SIZE, files={CARD_FILE: json.dumps(card)})
    card['sha256'] = file_sha256(path)
    card['file'] = path.name
    card_path(path).write_text(json.dumps(card, indent=1) + '\n', encoding='utf-8')
    print(f'wrote {path} ({path.stat().st_size / 1e6:.2f} MB, sha256 {card["sha256"]}) '
          f'and {card_path(path).name}: '
          f'{stats["steps"]} steps, {stats["epochs"]} epochs, {stats["minutes"]} min of training, '
          f'{(time.monotonic() - began) / 60:.1f} min in all; '
          f'{val_split} mAP@0.5 {chosen.map50:.3f} ({stopped})')
    print(f'measure it with: physical-ai eval --data {args.data} --model {path}')
    return 0


def _check_checkpoint(path: Path, net: CenterNet) -> None:
    """Raise ModelError unless the checkpoint holds weights of exactly this network's shapes."""
    try:
        state = torch.load(path, map_location='cpu', weights_only=True)['model']
    except (OSError, RuntimeError, KeyError, TypeError, EOFError) as err:
        raise ModelError(f'checkpoint {path} cannot be read ({type(err).__name__}); '
                         'delete it or drop --resume') from err
    mine = net.state_dict()
    if state.keys() != mine.keys() or any(state[k].shape != mine[k].shape for k in mine):
        raise ModelError(f'checkpoint {path} is of another network or class count; '
                         'delete it or drop --resume')


def _metrics(report: Any, split: str) -> dict[str, Any]:
    def num(value: float) -> float | None:
        return None if not np.isfinite(value) else round(float(value), 4)

    return {'split': split, 'frames': report.frames, 'map50': num(report.map50), 'map50_95': num(report.map),
            'per_class': {n: {'ap50': num(report.ap50[i]), 'ap50_95': num(report.ap[i]),
                              'precision': num(report.precision[i]), 'recall': num(report.recall[i]),
                              'objects': int(report.objects[i])} for i, n in enumerate(report.names)},
            'score_threshold_pr': report.score}
