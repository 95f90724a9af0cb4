"""`physical-ai model info FILE`: what a model file is (format, classes, input, sha256, card), how to pin it.

The model is loaded exactly as the inference node loads it, so what is printed is what the node
will see; the profile lines at the end set model_path and the sha256 pin (quoted: a YAML parser
would read an all-digit hash as a number).

`physical-ai model reexport FILE --out OUT` writes a detector of an earlier `physical-ai train`
again as the export does now (traced: converts to the openvino and onnxruntime backends).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
import sys

from physical_ai.core.detection.model import ModelError, file_sha256, load_model


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the actions of `physical-ai model`."""
    sub = parser.add_subparsers(dest='action', required=True, metavar='ACTION')
    info = sub.add_parser('info', help='describe a model file and print the profile lines that pin it')
    info.add_argument('file', help='TorchScript model file (physical_ai/1, Ultralytics, torchvision)')
    info.add_argument('--node', default='inference',
                      help='node name in the profile snippet (default inference)')
    info.add_argument('--json', action='store_true', help='print one JSON object instead of text')
    again = sub.add_parser('reexport', help='write a detector of an earlier physical-ai train as the export '
                           'does now (converts to the openvino and onnxruntime backends)')
    again.add_argument('file', help='physical_ai/1 detector written by physical-ai train')
    again.add_argument('--out', required=True, help='file to write (may be FILE itself)')


def describe(path: str) -> dict:
    """Return what `model info` reports about a model file; ModelError when the node could not load it."""
    from physical_ai.training.fit import card_path, read_card

    model = load_model(path)
    info = model.info
    sha = file_sha256(model.path)
    card = read_card(model.path)
    beside = card_path(model.path)
    card_file = None
    if beside.is_file():
        card_file = json.loads(beside.read_text(encoding='utf-8'))
        if card_file.get('sha256') not in (None, sha):
            card_file['warning'] = f'{beside.name} names sha256 {card_file["sha256"]}, not this file\'s'
    return {
        'file': str(model.path), 'size_bytes': model.path.stat().st_size, 'sha256': sha,
        'format': info.source if info.source != 'output shapes' else f'found from the output ({info.layout})',
        'layout': info.layout, 'task': info.task, 'classes': list(info.names),
        'num_classes': info.num_classes,
        'input': {'size_hw': list(info.input_size) if info.input_size else None, 'channels': info.channels,
                  'scale': info.scale, 'mean': list(info.mean), 'std': list(info.std)},
        'frozen': model.frozen, 'freeze_note': model.freeze_note,
        'card': card_file or card,
    }


def snippet(path: str, sha: str, node: str = 'inference') -> str:
    """Return the robot profile lines that make the inference node run exactly this file."""
    return (f'nodes:\n  {node}:\n    type: inference\n    parameters:\n'
            f'      model_path: {json.dumps(str(Path(path).resolve()))}\n      model_sha256: "{sha}"\n')


def run(args: argparse.Namespace) -> int:
    """Run the action; 1 with a one-line error when the model cannot be loaded."""
    if args.action == 'reexport':
        return run_reexport(args)
    try:
        facts = describe(args.file)
    except ModelError as err:
        print(f'error: {err}', file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(facts, indent=1))
        return 0
    size = facts['input']['size_hw']
    names = facts['classes']
    print(f'file:     {facts["file"]} ({facts["size_bytes"] / 1e6:.2f} MB)')
    print(f'sha256:   {facts["sha256"]}')
    print(f'format:   {facts["format"]}, output {facts["layout"]}, task {facts["task"]}')
    print(f'classes:  {len(names) or facts["num_classes"] or "?"}'
          + (f' ({", ".join(names[:20])}{" ..." if len(names) > 20 else ""})' if names else ''))
    print(f'input:    {f"{size[1]}x{size[0]}" if size else "any size"} {facts["input"]["channels"]}, '
          f'(pixel * {facts["input"]["scale"]:.6g} - mean {facts["input"]["mean"]}) '
          f'/ std {facts["input"]["std"]}')
    print(f'node:     {"frozen for inference" if facts["frozen"] else facts["freeze_note"]}')
    card = facts['card']
    if card:
        val = card.get('validation', {})
        data = card.get('dataset', {})
        training = card.get('training', {})
        print(f'card:     created {card.get("created")}; dataset {data.get("path")} (sha256 '
              f'{str(data.get("sha256", ""))[:16]}..., images {data.get("images")})')
        print(f'          training: {training.get("init")}, {training.get("steps")} steps, '
              f'{training.get("minutes")} min, seed {training.get("seed")}, device {training.get("device")}')
        print(f'          {val.get("split")} mAP@0.5 {val.get("map50")}, mAP@0.5:0.95 {val.get("map50_95")}')
        if card.get('warning'):
            print(f'          warning: {card["warning"]}')
    else:
        print('card:     none (not written by physical-ai train --data)')
    print('\nprofile lines that pin this file (config/robots/<robot>.yaml):')
    print(snippet(facts['file'], facts['sha256'], args.node), end='')
    return 0


def run_reexport(args: argparse.Namespace) -> int:
    """Export FILE again to --out; print the difference and the new sha256 (a pin must follow it)."""
    from physical_ai.training.weights import reexport

    try:
        difference = reexport(args.file, args.out)
    except ModelError as err:
        print(f'error: {err}', file=sys.stderr)
        return 1
    print(f'wrote {args.out} (sha256 {file_sha256(Path(args.out))}): outputs as {args.file} '
          f'(largest difference {difference:.1e} on a probe input); a model_sha256 pin must be updated')
    return 0
