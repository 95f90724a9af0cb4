"""Loading real TorchScript files: metadata, layouts, labels, freezing, sha256 pin, devices and bad files."""

import hashlib
import json
import warnings

import cv2
import pytest
import torch
from torch import nn

from physical_ai.core.detection import samples
from physical_ai.core.detection.model import (
    FORMATS,
    ModelError,
    load_model,
    parse_metadata_text,
    read_labels,
    resolve_device,
    torchscript_warnings,
)
from physical_ai.params.inference import FORMATS as PARAM_FORMATS


class FixedSize(nn.Module):
    """Runs only on 1x3x320x320 inputs, like an Ultralytics export traced at its imgsz."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        flat = x.reshape(1, 3 * 320 * 320)
        return torch.zeros(1, 7, 100) + flat[:, :1].unsqueeze(2)


class Unrecognised(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mean(dim=(2, 3))


class Raises(nn.Module):
    """A model whose forward raises inside the scripted code (TorchScript raises torch.jit.Error)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[2] > 0:
            raise ValueError('boom from forward')
        return x


def save_module(module, path, extra=None):
    with torchscript_warnings():
        torch.jit.save(torch.jit.script(module), str(path), _extra_files=extra or {})
    return path


@pytest.mark.parametrize('style', ['json', 'python'])
def test_ultralytics_config_is_read(tmp_path, style):
    path = tmp_path / 'yolo.torchscript'
    samples.save_yolov8(path, imgsz=(320, 256), names=('person', 'ball', 'box', 'cylinder'), style=style)
    model = load_model(path)
    info = model.info
    assert info.layout == 'yolov8' and info.source == 'config.txt'
    assert info.names == ('person', 'ball', 'box', 'cylinder') and info.num_classes == 4
    assert info.input_size == (320, 256)
    assert model.frozen, model.freeze_note


def test_yolov5_config_shape_is_the_input_size(tmp_path):
    path = tmp_path / 'v5.torchscript'
    samples.save_yolov5(path, imgsz=(224, 288))
    info = load_model(path).info
    assert (info.layout, info.input_size, info.names) == ('yolov5', (224, 288), samples.COLOR_NAMES)


def test_physical_ai_metadata_is_read(tmp_path):
    path = tmp_path / 'own.pt'
    meta = samples.save_physical_ai(path, input_size=(192, 256))
    info = load_model(path).info
    assert info.layout == 'xyxy_score_class' and info.source == 'physical_ai.json'
    assert info.input_size == (192, 256) and info.names == tuple(meta['names'])
    assert info.mean == tuple(meta['mean']) and info.std == tuple(meta['std'])


def test_loading_a_model_keeps_opencv_in_the_callers_thread(tmp_path):
    """OpenCV's pool workers spin with sched_yield and preempt the model's torch team."""
    path = tmp_path / 'own.pt'
    samples.save_physical_ai(path)
    previous = cv2.getNumThreads()
    cv2.setNumThreads(-1)  # OpenCV's default: a pool of workers
    try:
        load_model(path)
        assert cv2.getNumThreads() == 1  # parallel regions run in the calling thread
    finally:
        cv2.setNumThreads(previous)


def test_torchvision_convention_found_from_outputs(tmp_path):
    path = tmp_path / 'tv.pt'
    samples.save_torchvision(path)
    info = load_model(path).info
    assert (info.layout, info.call, info.input_size) == ('torchvision', 'list', None)
    assert info.source == 'output shapes'


def test_shapes_decide_without_metadata(tmp_path):
    path = tmp_path / 'bare.pt'
    samples.save_yolov8(path, imgsz=None)
    info = load_model(path).info
    assert (info.layout, info.num_classes, info.names, info.input_size) == ('yolov8', 3, (), (640, 640))


def test_unrecognised_output_names_the_shapes(tmp_path):
    path = save_module(Unrecognised(), tmp_path / 'odd.pt')
    with pytest.raises(ModelError, match=r'odd.pt: model output Tensor\[1, 3\] does not fit yolov8'):
        load_model(path)


def test_explicit_format_must_fit_the_output(tmp_path):
    path = tmp_path / 'v8.pt'
    samples.save_yolov8(path)
    with pytest.raises(ModelError, match=r'Tensor\[1, 7, 64\] with 3 class names does not fit yolov5'):
        load_model(path, model_format='yolov5')
    with pytest.raises(ModelError, match='has no physical_ai.json extra file'):
        load_model(path, model_format='physical_ai')


def test_labels_list_and_file_override_names(tmp_path):
    path = tmp_path / 'v8.pt'
    samples.save_yolov8(path)
    assert load_model(path, labels=['a', 'b', 'c']).info.names == ('a', 'b', 'c')
    names = tmp_path / 'names.txt'
    names.write_text('x\ny\nz\n\n')
    assert load_model(path, labels=[str(names)]).info.names == ('x', 'y', 'z')
    with pytest.raises(ModelError, match=r'outputs 3 classes but 2 name\(s\) are given'):
        load_model(path, labels=['a', 'b'])
    with pytest.raises(ModelError, match='labels file .*missing.txt cannot be read'):
        read_labels([str(tmp_path / 'missing.txt')])


def test_input_size_the_model_cannot_take_is_named(tmp_path):
    path = save_module(FixedSize(), tmp_path / 'fixed.pt')
    assert load_model(path, input_size=[320, 320]).info.input_size == (320, 320)
    with pytest.raises(ModelError, match=r'fixed.pt did not run on an input of shape 1x3x256x256'):
        load_model(path, input_size=[256, 256])


def test_model_whose_forward_raises_is_one_line_naming_the_file(tmp_path):
    path = save_module(Raises(), tmp_path / 'raises.pt')
    with pytest.raises(ModelError) as info:
        load_model(path)
    message = str(info.value)
    assert len(message.splitlines()) == 1
    assert message.startswith(f'model file {path} did not run') and 'boom from forward' in message


def test_frozen_model_computes_what_the_loaded_one_does(tmp_path):
    path = tmp_path / 'tiny.pt'
    samples.save_tiny_detector(path, imgsz=(160, 160))
    optimized = load_model(path)
    frozen = load_model(path, optimize=False)
    plain = load_model(path, freeze=False)
    assert optimized.frozen and optimized.optimized
    assert frozen.frozen and not frozen.optimized
    assert not plain.frozen and not plain.optimized
    x = torch.rand(1, 3, 160, 160)
    torch.testing.assert_close(optimized(x), plain(x), rtol=1e-3, atol=1e-3)
    torch.testing.assert_close(frozen(x), plain(x), rtol=1e-3, atol=1e-3)


def test_sha256_pin(tmp_path):
    path = tmp_path / 'v8.pt'
    samples.save_yolov8(path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert load_model(path, sha256=digest.upper()).sha256 == digest
    with pytest.raises(ModelError, match=f'v8.pt has sha256 {digest}, expected {"0" * 64}'):
        load_model(path, sha256='0' * 64)
    with pytest.raises(ModelError, match='is not a sha256; expected 64 hex digits'):
        load_model(path, sha256='abc')


@pytest.mark.parametrize('content,match', [
    (None, 'does not exist; expected a TorchScript file'),
    (b'', 'is not a TorchScript file'),
    (b'not a model at all' * 10, 'is not a TorchScript file'),
    ('state_dict', 'is not a TorchScript file'),
])
def test_bad_files_are_one_clear_error(tmp_path, content, match):
    path = tmp_path / 'model.pt'
    if content == 'state_dict':
        torch.save({'weight': torch.zeros(3)}, path)
    elif content is not None:
        path.write_bytes(content)
    with pytest.raises(ModelError, match=match) as err:
        load_model(path)
    assert str(path) in str(err.value) and '\n' not in str(err.value)


def test_directory_and_empty_path(tmp_path):
    with pytest.raises(ModelError, match='is not a regular file'):
        load_model(tmp_path)
    with pytest.raises(ModelError, match='parameter model_path is empty'):
        load_model('')


@pytest.mark.skipif(torch.cuda.is_available(), reason='checks the error on a machine without CUDA')
@pytest.mark.parametrize('device', ['cuda', 'cuda:0', 'cuda:3'])
def test_cuda_without_cuda_is_refused(tmp_path, device):
    path = tmp_path / 'v8.pt'
    samples.save_yolov8(path)
    with pytest.raises(ModelError, match=f"device '{device}' requested but CUDA is not available"):
        load_model(path, device=device)


@pytest.mark.parametrize('device', ['gpu', 'cuda:x', 'cpu:1', ''])
def test_device_names_are_checked(device):
    with pytest.raises(ModelError, match="expected 'cpu', 'cuda' or 'cuda:N'"):
        resolve_device(device)


def test_metadata_text_is_parsed_robustly():
    meta = {'names': {0: 'person', 1: 'ball'}, 'imgsz': [640, 640], 'stride': 32, 'task': 'detect'}
    assert parse_metadata_text(repr(meta), 'config.txt') == meta
    assert parse_metadata_text(json.dumps(meta), 'config.txt')['names'] == {'0': 'person', '1': 'ball'}
    with pytest.raises(ModelError, match='neither JSON nor a Python literal'):
        parse_metadata_text('{names: oops', 'config.txt')
    with pytest.raises(ModelError, match='holds a list; expected an object'):
        parse_metadata_text('[1, 2]', 'config.txt')


def test_unsupported_ultralytics_task_is_named(tmp_path):
    path = tmp_path / 'cls.pt'
    config = samples.ultralytics_config(['a'], (64, 64), task='classify')
    save_module(Unrecognised(), path, {'config.txt': config})
    with pytest.raises(ModelError, match="task is 'classify'; supported: detect, segment, pose"):
        load_model(path)


def test_torchscript_deprecations_are_silenced_only_where_expected(tmp_path):
    path = tmp_path / 'v8.pt'
    samples.save_yolov8(path)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter('always')
        load_model(path)
        assert not [w for w in seen if '`torch.jit.' in str(w.message)]
        torch.jit.load(str(path))  # outside the loader, torch's own notice still shows
    assert [w for w in seen if '`torch.jit.load` is deprecated' in str(w.message)], 'the filter leaked'


def test_param_table_formats_match_the_loader():
    assert PARAM_FORMATS == FORMATS


class EndToEnd(nn.Module):
    """Like an Ultralytics export with NMS inside: [1, 300, 6] rows x1, y1, x2, y2, score, class."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.zeros(1, 300, 6)
        out[0, 0] = torch.tensor([10.0, 20.0, 30.0, 40.0, 0.9, 1.0])
        return out + x.mean() * 0


def test_ultralytics_end_to_end_export(tmp_path):
    path = tmp_path / 'e2e.pt'
    meta = json.loads(samples.ultralytics_config(['a', 'b'], (320, 320)))
    save_module(EndToEnd(), path, {'config.txt': json.dumps(meta | {'end2end': True})})
    info = load_model(path).info
    assert (info.layout, info.names, info.input_size) == ('xyxy_score_class', ('a', 'b'), (320, 320))
