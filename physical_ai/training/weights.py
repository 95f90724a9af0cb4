"""Start weights for fine-tuning, read back from an exported (frozen) physical_ai/1 detector file.

The export freezes the graph, which folds every BatchNorm into the convolution before it: the file
holds, per convolution, a weight and a bias and no BatchNorm at all. Those are put back into a fresh
CenterNet in execution order (checked shape by shape); each BatchNorm becomes the identity plus the
folded bias (mean 0, variance 1 - eps, scale 1), which computes exactly what the file computes as
long as BatchNorm statistics stay fixed (train with `freeze_bn`). When the class count differs,
the heatmap's last 1x1 convolution starts fresh (a new head); everything else is kept.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import torch
from torch import nn

from physical_ai.core.detection.model import ModelError, torchscript_warnings
from physical_ai.core.runtime import TOLERANCE, output_difference
from physical_ai.training.model import FORMAT, HEATMAP_BIAS, METADATA_FILE, CenterNet, export

# A scripted graph calls conv2d, a traced one _convolution; weight and bias are inputs 1 and 2 of both.
CONVOLUTIONS = ('aten::conv2d', 'aten::_convolution')


def _file_convolutions(path: Path, what: str) -> list[tuple[torch.Tensor, torch.Tensor | None]]:
    """Return (weight, bias) of every convolution of a frozen TorchScript file, in graph order."""
    try:
        with torchscript_warnings():
            module = torch.jit.load(str(path), map_location='cpu')
    except (RuntimeError, ValueError, OSError) as err:
        reason = str(err).splitlines()[0][:200]
        raise ModelError(f'{what} {path} is not a TorchScript file ({reason})') from err
    params = dict(module.named_parameters())
    if params:  # not frozen: the parameters are there by name
        raise ModelError(f'{what} {path} is not frozen; expected a file written by physical-ai train')
    convs = []
    for node in module.graph.nodes():
        if node.kind() not in CONVOLUTIONS:
            continue
        weight = node.inputsAt(1).node()
        bias = node.inputsAt(2).node()
        if weight.kind() != 'prim::Constant':
            raise ModelError(f'{what} {path}: a convolution weight is not a constant; '
                             'expected a frozen export')
        convs.append((weight.t('value'), bias.t('value') if bias.kind() == 'prim::Constant'
                      and bias.output().type().kind() == 'TensorType' else None))
    return convs


def _conv_order(net: CenterNet, input_size: tuple[int, int]) -> list[nn.Conv2d]:
    """Return the network's Conv2d modules in the order a forward pass runs them."""
    order: list[nn.Conv2d] = []
    hooks = [m.register_forward_hook(lambda module, _i, _o: order.append(module))
             for m in net.modules() if isinstance(m, nn.Conv2d)]
    try:
        with torch.no_grad():
            net.eval()(torch.zeros(1, 3, *input_size))
    finally:
        for hook in hooks:
            hook.remove()
    return order


def load_exported(path: str | os.PathLike[str], num_classes: int,
                  input_size: tuple[int, int], what: str = '--init') -> tuple[CenterNet, bool]:
    """Return (a CenterNet with the file's weights, whether the heatmap head was kept).

    Raises ModelError when the file is not a frozen CenterNet export of this project; its message
    starts with `what` (the option or command that named the file).
    """
    path = Path(path)
    convs = _file_convolutions(path, what)
    net = CenterNet(num_classes)
    order = _conv_order(net, input_size)
    batchnorm_after = {}
    for module in net.modules():
        if isinstance(module, nn.Sequential):
            children = list(module)
            for a, b in zip(children, children[1:], strict=False):
                if isinstance(a, nn.Conv2d) and isinstance(b, nn.BatchNorm2d):
                    batchnorm_after[a] = b
    if len(convs) != len(order):
        hint = ' (or use --init none)' if what == '--init' else ''
        raise ModelError(f'{what} {path} has {len(convs)} convolutions, the network {len(order)}; expected a '
                         f'model written by physical-ai train{hint}')
    head = net.heatmap.out
    kept_head = True
    with torch.no_grad():
        for conv, (weight, bias) in zip(order, convs, strict=True):
            if conv is head and weight.shape != conv.weight.shape:
                kept_head = False
                nn.init.normal_(conv.weight, std=0.01)
                nn.init.constant_(conv.bias, HEATMAP_BIAS)
                continue
            if weight.shape != conv.weight.shape:
                raise ModelError(f'{what} {path}: a convolution of shape {list(weight.shape)} stands where '
                                 'the '
                                 f'network has {list(conv.weight.shape)}; not the same architecture')
            conv.weight.copy_(weight)
            bn = batchnorm_after.get(conv)
            folded = bias if bias is not None else torch.zeros(weight.shape[0])
            if bn is not None:
                bn.weight.fill_(1.0)
                bn.bias.copy_(folded)
                bn.running_mean.zero_()
                bn.running_var.fill_(1.0 - bn.eps)
            elif conv.bias is not None:
                conv.bias.copy_(folded)
    return net, kept_head


def reexport(source: str | os.PathLike[str], target: str | os.PathLike[str]) -> float:
    """Write the detector of `source` to `target` as `export` writes it now; return the output difference.

    For a file of an earlier export (scripted, which OpenVINO and ONNX refuse to convert): the
    weights are read back as for `--init`, exported again (traced, frozen) with the same
    physical_ai.json and model card, and both files are run on one probe input. Raises ModelError,
    and writes nothing, when the outputs differ by more than the runtime tolerance.
    """
    from physical_ai.training.fit import CARD_FILE

    source, target = Path(source), Path(target)
    extra = {METADATA_FILE: '', CARD_FILE: ''}
    if not source.is_file():
        raise ModelError(f'model file {source} does not exist')
    try:
        with torchscript_warnings():
            before = torch.jit.load(str(source), map_location='cpu', _extra_files=extra)
    except (RuntimeError, ValueError, OSError) as err:
        raise ModelError(f'{source} could not be read as TorchScript '
                         f'({err.__class__.__name__}: {err})') from err
    meta = json.loads(extra[METADATA_FILE] or '{}')
    if meta.get('format') != FORMAT or not {'names', 'input_size'} <= meta.keys():
        raise ModelError(f'{source} is not a physical_ai/1 detector of this project (no physical_ai.json '
                         f'format {FORMAT!r} with names and input_size); only files written '
                         'by physical-ai train can be exported again')
    names, input_size = tuple(meta['names']), tuple(meta['input_size'])
    net, _ = load_exported(source, len(names), input_size, what='model reexport')
    tmp = target.with_name(target.name + '.reexport')
    export(net, tmp, names, input_size, extra=meta,  # the metadata as it was, unknown keys too
           files={CARD_FILE: bytes(extra[CARD_FILE]).decode()} if extra[CARD_FILE] else None)
    probe = torch.rand(1, 3, *input_size, generator=torch.Generator().manual_seed(0))
    with torch.no_grad(), torchscript_warnings():
        difference = output_difference(before(probe), torch.jit.load(str(tmp))(probe), ranked_rows=True)
    if not difference <= TOLERANCE:
        tmp.unlink()
        raise ModelError(f'exported again, {source} computes other outputs (difference {difference:.3g}, '
                         f'tolerance {TOLERANCE:g}); kept it as it is')
    os.replace(tmp, target)
    return difference
