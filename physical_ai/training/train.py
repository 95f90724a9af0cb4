"""`physical-ai train`: regenerate the default detector from scratch, or (--data) train on a YOLO dataset.

Renders training frames with the embedded simulator from seeds disjoint from the evaluation seeds
(cached, so a second run skips the rendering), trains the CenterNet-style network on the CPU with
focal loss on the heatmap and L1 on size and offset (AdamW, warm-up then cosine decay, an exponential
moving average of the weights), and exports the averaged weights in the "physical_ai/1" TorchScript
format. Nothing is downloaded: no pretrained weights, no data sets.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
import copy
import math
import os
from pathlib import Path
import sys
import time
from typing import TextIO

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812
from torch.utils.data import DataLoader

from physical_ai.training import data
from physical_ai.training.model import INPUT_SIZE, NAMES, CenterNet, count_parameters, export

DEFAULT_OUTPUT = 'models/default_detector.pt'
DATA_OUTPUT = 'detector.pt'
SHIPPED = str(Path(__file__).resolve().parents[2] / 'models' / 'default_detector.pt')
SIZE_WEIGHT = 0.1
OFFSET_WEIGHT = 1.0


def focal_loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Return CenterNet's penalty-reduced focal loss (alpha 2, beta 4), normalised by the number of peaks."""
    positive = target.eq(1).float()
    log_p = F.logsigmoid(logits)
    log_not_p = F.logsigmoid(-logits)
    p = log_p.exp()
    pos = (log_p * (1 - p) ** 2 * positive).sum()
    neg = (log_not_p * p ** 2 * (1 - target) ** 4 * (1 - positive)).sum()
    return -(pos + neg) / positive.sum().clamp(min=1.0)


def gather(feature: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """Return feature [B, D, H, W] at cells index [B, M] as [B, M, D]."""
    b, d = feature.shape[:2]
    flat = feature.reshape(b, d, -1)
    return flat.gather(2, index.unsqueeze(1).expand(b, d, index.shape[1])).transpose(1, 2)


def l1_loss(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Return the mean absolute error over the real object slots."""
    m = mask.unsqueeze(2)
    return (torch.abs(pred - target) * m).sum() / (m.sum() * pred.shape[2]).clamp(min=1.0)


def losses(outputs: tuple[torch.Tensor, torch.Tensor, torch.Tensor],
           batch: tuple[torch.Tensor, ...]) -> dict[str, torch.Tensor]:
    """Return the loss terms and their weighted total for one batch of network outputs and targets."""
    heatmap, size, offset = outputs
    _, target_heatmap, index, target_size, target_offset, mask = batch
    terms = {
        'heatmap': focal_loss(heatmap, target_heatmap),
        'size': l1_loss(gather(size, index), target_size, mask),
        'offset': l1_loss(gather(offset, index), target_offset, mask),
    }
    terms['total'] = terms['heatmap'] + SIZE_WEIGHT * terms['size'] + OFFSET_WEIGHT * terms['offset']
    return terms


class EMA:
    """Exponential moving average of a model's weights (and a copy of its buffers), ramped up early."""

    def __init__(self, model: torch.nn.Module, decay: float = 0.999, ramp: float = 500.0) -> None:
        self.model = copy.deepcopy(model).eval()
        for p in self.model.parameters():
            p.requires_grad_(False)
        self.decay = decay
        self.ramp = ramp
        self.updates = 0

    @torch.no_grad()
    def update(self, model: torch.nn.Module) -> None:
        """Move the average towards the model's current weights."""
        self.updates += 1
        d = self.decay * (1 - math.exp(-self.updates / self.ramp))
        current = model.state_dict()
        for name, value in self.model.state_dict().items():
            if value.dtype.is_floating_point:
                value.mul_(d).add_(current[name].detach(), alpha=1 - d)
            else:
                value.copy_(current[name])


def learning_rate(step: int, fraction: float, peak: float, warmup: int) -> float:
    """Return the learning rate: linear warm-up over `warmup` steps, cosine decay to 1% as `fraction` -> 1."""
    warm = min(1.0, (step + 1) / max(1, warmup))
    return peak * warm * (0.01 + 0.99 * 0.5 * (1 + math.cos(math.pi * min(1.0, max(0.0, fraction)))))


class Progress:
    """A plain-text progress bar: redrawn in place on a terminal, one line every `period` s otherwise."""

    def __init__(self, stream: TextIO = sys.stdout, width: int = 24, period: float = 30.0,
                 elapsed: float = 0.0) -> None:
        self.stream = stream
        self.width = width
        self.period = period
        self.tty = stream.isatty()
        self.start = time.monotonic() - elapsed
        self.last = 0.0

    def update(self, fraction: float, text: str, force: bool = False) -> None:
        """Show the fraction done with a status text; the time left assumes the speed so far."""
        now = time.monotonic()
        if not force and now - self.last < (0.5 if self.tty else self.period):
            return
        self.last = now
        elapsed = now - self.start
        fraction = min(1.0, max(0.0, fraction))
        left = elapsed * (1 - fraction) / fraction if fraction > 0 else 0.0
        filled = int(self.width * fraction)
        bar = '#' * filled + '-' * (self.width - filled)
        line = f'[{bar}] {100 * fraction:3.0f}% {text} {_clock(elapsed)} elapsed, {_clock(left)} left'
        if self.tty:
            self.stream.write('\r' + line + '\x1b[K')
        else:
            self.stream.write(line + '\n')
        self.stream.flush()

    def close(self) -> None:
        """End the bar's line on a terminal."""
        if self.tty:
            self.stream.write('\n')
            self.stream.flush()


def _clock(seconds: float) -> str:
    seconds = int(seconds)
    return f'{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}'


def train(net: CenterNet, frames: data.Frames, *, epochs: int, batch_size: int = 32, lr: float = 3e-3,
          weight_decay: float = 0.05, workers: int = 0, seed: int = 0, augment: data.Augment | None = None,
          minutes: float = 0.0, checkpoint: Path | None = None, resume: bool = False, max_steps: int = 0,
          log: TextIO = sys.stdout, history: list[dict[str, float]] | None = None,
          stats: dict[str, float] | None = None, device: str = 'cpu', freeze_bn: bool = False,
          on_epoch: Callable[[int, CenterNet], bool] | None = None, warmup: int = 0) -> CenterNet:
    """Train `net` on frames and return the weight-averaged (EMA) network, in eval mode.

    The learning-rate schedule spans `epochs`, or, with `minutes` > 0, that much wall time (training
    stops when it is spent or after `epochs`, whichever comes first): on a shared or slow machine the
    schedule still ends where it should. `max_steps` > 0 stops early (quick checks). `history`, when
    given, receives the loss terms of every step; `stats` the steps, epochs and minutes trained.
    `freeze_bn` keeps BatchNorm statistics fixed (fine-tuning from a file whose BatchNorm was folded
    into the convolutions); `on_epoch(epoch, ema_model)` runs after every epoch and returns True to stop.
    """
    torch.manual_seed(seed)
    dataset = data.DetectionDataset(frames, augment if augment is not None else data.Augment(),
                                    num_classes=net.num_classes, seed=seed)
    generator = torch.Generator().manual_seed(seed)
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=True, drop_last=len(dataset) > batch_size,
                        num_workers=workers, generator=generator, persistent_workers=False)
    steps_per_epoch = len(loader)
    total = epochs * steps_per_epoch
    budget = 60.0 * minutes
    net = net.to(device).to(memory_format=torch.channels_last)
    decay, no_decay = [], []
    for name, p in net.named_parameters():
        (no_decay if p.ndim <= 1 or name.endswith('.bias') else decay).append(p)
    optimizer = torch.optim.AdamW([{'params': decay, 'weight_decay': weight_decay},
                                   {'params': no_decay, 'weight_decay': 0.0}], lr=lr)
    ema = EMA(net)
    start_epoch, step, spent = 0, 0, 0.0
    if resume and checkpoint is not None and checkpoint.exists():
        state = torch.load(checkpoint, map_location='cpu', weights_only=True)
        net.load_state_dict(state['model'])
        ema.model.load_state_dict(state['ema'])
        ema.updates = state['ema_updates']
        optimizer.load_state_dict(state['optimizer'])
        start_epoch, step, spent = state['epoch'], state['step'], state['seconds']
        log.write(f'resuming from {checkpoint} after epoch {start_epoch}\n')
    warmup = warmup or min(300, max(1, total // 20))
    progress = Progress(log, elapsed=spent)
    running: dict[str, float] = {}
    seen = 0
    started = time.monotonic() - spent

    def fraction() -> float:
        done = step / total
        return max(done, (time.monotonic() - started) / budget) if budget > 0 else done

    finished = False
    for epoch in range(start_epoch, epochs):
        dataset.epoch = epoch
        net.train()
        if freeze_bn:
            for module in net.modules():
                if isinstance(module, torch.nn.BatchNorm2d):
                    module.eval()
        for batch in loader:
            batch = [t.to(device, non_blocking=True) for t in batch]
            for group in optimizer.param_groups:
                group['lr'] = learning_rate(step, fraction(), lr, warmup)
            images = data.normalise(batch[0]).contiguous(memory_format=torch.channels_last)
            terms = losses(net(images), batch)
            optimizer.zero_grad(set_to_none=True)
            terms['total'].backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), 10.0)
            optimizer.step()
            ema.update(net)
            step += 1
            seen += len(images)
            if history is not None:
                history.append({key: value.item() for key, value in terms.items()})
            for key, value in terms.items():
                running[key] = 0.98 * running.get(key, value.item()) + 0.02 * value.item()
            done = fraction()
            finished = done >= 1.0 or bool(max_steps and step >= max_steps)
            rate = seen / max(1e-6, time.monotonic() - started - spent)
            progress.update(done, f'step {step} epoch {epoch + 1}/{epochs} loss {running["total"]:.3f} '
                            f'(heatmap {running["heatmap"]:.3f} size {running["size"]:.2f} '
                            f'offset {running["offset"]:.3f}) lr {optimizer.param_groups[0]["lr"]:.1e} '
                            f'{rate:.0f} img/s', force=finished)
            if finished:
                break
        if checkpoint is not None:
            checkpoint.parent.mkdir(parents=True, exist_ok=True)
            torch.save({'model': net.state_dict(), 'ema': ema.model.state_dict(), 'ema_updates': ema.updates,
                        'optimizer': optimizer.state_dict(), 'epoch': epoch + 1, 'step': step,
                        'seconds': time.monotonic() - started}, checkpoint)
        if on_epoch is not None and not finished:
            progress.close()
            finished = bool(on_epoch(epoch + 1, ema.model))
        if finished:
            break
    progress.close()
    if stats is not None:
        stats.update(steps=step, epochs=round(step / steps_per_epoch, 2),
                     minutes=round((time.monotonic() - started) / 60, 1))
    return ema.model.to(memory_format=torch.contiguous_format).eval()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the options of `physical-ai train`."""
    parser.add_argument('--data', default='', metavar='DIR',
                        help='train on this YOLO-format dataset (data.yaml) instead of simulator frames')
    parser.add_argument('--init', default=SHIPPED, metavar='MODEL',
                        help='with --data: start from this exported model ("none": from scratch; default the '
                        'shipped detector, with a new class head when the classes differ)')
    parser.add_argument('--output', '--out', default='',
                        help=f'model file to write (default {DEFAULT_OUTPUT}; with --data {DATA_OUTPUT})')
    parser.add_argument('--device', default='cpu', help='with --data: cpu, cuda or cuda:N (default cpu)')
    parser.add_argument('--patience', type=int, default=4,
                        help='with --data: stop after this many val checks without a better mAP@0.5 '
                        '(default 4; 0: never)')
    parser.add_argument('--val-period', type=float, default=30.0,
                        help='with --data: seconds of training between val checks, at epoch ends '
                        '(default 30)')
    parser.add_argument('--images', type=int, default=8000, help='training frames to render (default 8000)')
    parser.add_argument('--first-seed', type=int, default=data.TRAIN_FIRST_SEED,
                        help=f'simulator seed of the first {data.CHUNK} frames, the next seed for the next '
                        f'{data.CHUNK} (default {data.TRAIN_FIRST_SEED}); evaluation uses seeds from '
                        f'{data.EVAL_FIRST_SEED}')
    parser.add_argument('--epochs', type=int, default=0,
                        help='passes over the training frames (default 14; with --data 300, cut by '
                        '--minutes and early stop)')
    parser.add_argument('--minutes', type=float, default=0.0,
                        help='fit the schedule to this much training time instead of --epochs, which then '
                        'only caps it (0: off, the default)')
    parser.add_argument('--batch-size', type=int, default=32, help='frames per step (default 32)')
    parser.add_argument('--lr', type=float, default=3e-3, help='peak learning rate of AdamW (default 3e-3)')
    parser.add_argument('--weight-decay', type=float, default=0.05, help='AdamW weight decay (default 0.05)')
    parser.add_argument('--threads', type=int, default=os.cpu_count() or 1,
                        help='torch threads (default: every core, %(default)s here)')
    parser.add_argument('--workers', type=int, default=0,
                        help='data loader processes for augmentation (default 0: in the training process)')
    parser.add_argument('--render-workers', type=int, default=os.cpu_count() or 1,
                        help='processes rendering frames (default: every core)')
    parser.add_argument('--cache-dir', default=str(data.DEFAULT_CACHE),
                        help=f'where rendered frames and checkpoints are kept (default {data.DEFAULT_CACHE})')
    parser.add_argument('--resume', action='store_true', help='continue from the checkpoint in the cache')
    parser.add_argument('--seed', type=int, default=0, help='seed of initialisation and augmentation')
    parser.add_argument('--max-steps', type=int, default=0, help='stop after this many steps (quick check)')


def run(args: argparse.Namespace) -> int:
    """Render (or reuse) the training frames, train, export; return the exit code."""
    args.epochs = args.epochs or (300 if args.data else 14)
    args.output = args.output or (DATA_OUTPUT if args.data else DEFAULT_OUTPUT)
    if args.data:
        for name in ('epochs', 'batch_size', 'threads'):
            if getattr(args, name) < 1:
                print(f'error: --{name.replace("_", "-")} is {getattr(args, name)}; expected at least 1',
                      file=sys.stderr)
                return 2
        from physical_ai.training import fit

        args.out = args.output
        return fit.run(args)
    for name in ('images', 'epochs', 'batch_size', 'threads'):
        if getattr(args, name) < 1:
            print(f'error: --{name.replace("_", "-")} is {getattr(args, name)}; expected at least 1',
                  file=sys.stderr)
            return 2
    last_seed = data.chunk_seeds(args.first_seed, args.images)[-1][0]
    if args.first_seed < 0 or last_seed >= data.EVAL_FIRST_SEED:
        print(f'error: training seeds {args.first_seed}..{last_seed} ({data.CHUNK} frames each) must stay in '
              f'0..{data.EVAL_FIRST_SEED - 1}, below the evaluation seeds; use fewer images or a lower '
              '--first-seed', file=sys.stderr)
        return 2
    torch.set_num_threads(args.threads)
    cache = Path(args.cache_dir).expanduser()
    began = time.monotonic()
    frames = data.simulator_frames(args.first_seed, args.images, cache, workers=args.render_workers)
    objects = sum(len(c) for c in frames.classes)
    counts = np.bincount(np.concatenate([np.zeros(0, np.int64), *frames.classes]), minlength=len(NAMES))
    per_class = ', '.join(f'{name} {count}' for name, count in zip(NAMES, counts, strict=False))
    print(f'{len(frames)} training frames, {objects} objects ({per_class})')
    torch.manual_seed(args.seed)
    net = CenterNet(len(NAMES))
    print(f'model: CenterNet-style, {count_parameters(net):,} parameters, '
          f'input {INPUT_SIZE[1]}x{INPUT_SIZE[0]}, '
          f'{args.epochs} epochs of {len(frames) // args.batch_size} steps, {args.threads} threads')
    stats: dict[str, float] = {}
    net = train(net, frames, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                weight_decay=args.weight_decay, workers=args.workers, seed=args.seed, minutes=args.minutes,
                checkpoint=cache / 'checkpoint.pt', resume=args.resume, max_steps=args.max_steps,
                stats=stats)
    path = export(net, args.output, extra={
        'training': {'frames': len(frames), 'first_seed': args.first_seed, 'batch_size': args.batch_size,
                     **stats, 'parameters': count_parameters(net)}})
    print(f'wrote {path} ({path.stat().st_size / 1e6:.2f} MB) after {stats["epochs"]} epochs '
          f'({stats["steps"]} steps, {stats["minutes"]} min) of training, '
          f'{(time.monotonic() - began) / 60:.1f} min in all')
    print(f'measure it with: physical-ai eval --model {path}')
    return 0
