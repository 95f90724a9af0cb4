"""Letterbox/stretch geometry, its exact inverse, channel order and normalisation against plain numpy."""

import threading

import cv2
import numpy as np
import pytest
import torch

from physical_ai.core.detection.preprocess import Preprocessor, as_color, placement
from physical_ai.core.errors import ImageError


def reference(image_bgr, size, keep_aspect, mean, std, scale=1 / 255, pad=114):
    """Plain numpy version of the preprocessing, for comparison."""
    h, w = image_bgr.shape[:2]
    dst_h, dst_w = size
    if keep_aspect:
        r = min(dst_h / h, dst_w / w)
        new_w, new_h = round(w * r), round(h * r)
    else:
        new_w, new_h = dst_w, dst_h
    resized = cv2.resize(image_bgr, (new_w, new_h), interpolation=cv2.INTER_LINEAR)
    canvas = np.full((dst_h, dst_w, 3), pad, np.uint8)
    top, left = (dst_h - new_h) // 2, (dst_w - new_w) // 2
    canvas[top:top + new_h, left:left + new_w] = resized
    rgb = canvas[:, :, ::-1].astype(np.float32)
    norm = (rgb * scale - np.array(mean, np.float32)) / np.array(std, np.float32)
    return norm.transpose(2, 0, 1)[None]


@pytest.mark.parametrize('src,dst,expected', [
    ((360, 640), (320, 320), (180, 320, 70, 0)),
    ((480, 640), (640, 640), (480, 640, 80, 0)),
    ((640, 360), (320, 320), (320, 180, 0, 70)),
    ((320, 320), (320, 320), (320, 320, 0, 0)),
])
def test_letterbox_geometry(src, dst, expected):
    where = placement(*src, *dst)
    assert (where.new_height, where.new_width, where.pad_y, where.pad_x) == expected


@pytest.mark.parametrize('keep_aspect', [True, False])
def test_box_mapping_is_an_exact_inverse(keep_aspect):
    where = placement(360, 640, 320, 256, keep_aspect)
    boxes = torch.tensor([[0.0, 0.0, 640.0, 360.0], [101.5, 47.25, 333.0, 211.0]])
    torch.testing.assert_close(where.to_image(where.to_input(boxes)), boxes)
    outside = torch.tensor([[-50.0, -50.0, 1000.0, 1000.0]])
    assert where.to_image(outside).tolist() == [[0.0, 0.0, 640.0, 360.0]]


@pytest.mark.parametrize('keep_aspect', [True, False])
@pytest.mark.parametrize('mean,std', [((0, 0, 0), (1, 1, 1)),
                                      ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))])
def test_tensor_matches_plain_numpy(keep_aspect, mean, std):
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (360, 640, 3), dtype=np.uint8)
    pre = Preprocessor((320, 288), keep_aspect=keep_aspect, mean=mean, std=std)
    tensor, where = pre(image, 'bgr')
    expected = reference(image, (320, 288), keep_aspect, mean, std)
    assert tensor.shape == (1, 3, 320, 288) and tensor.dtype == torch.float32 and tensor.is_contiguous()
    np.testing.assert_allclose(tensor.numpy(), expected, atol=1e-4)
    # the same frame again reuses the buffers and gives the same tensor
    np.testing.assert_allclose(pre(image, 'bgr')[0].numpy(), expected, atol=1e-4)
    # an RGB image needs no swap for an RGB model: same tensor from the same scene
    np.testing.assert_allclose(pre(np.ascontiguousarray(image[:, :, ::-1]), 'rgb')[0].numpy(), expected,
                               atol=1e-4)
    # the device path (used for CUDA) computes the same on the CPU
    placed, _ = pre.place(image)
    np.testing.assert_allclose(pre._on_device(placed, swap=True).numpy(), expected, atol=1e-4)


def test_native_size_and_bgr_model():
    image = np.zeros((5, 7, 3), np.uint8)
    image[..., 0] = 255  # blue in BGR
    tensor, where = Preprocessor(None, channels='bgr', scale=1.0)(image, 'bgr')
    assert tensor.shape == (1, 3, 5, 7) and where.scale_x == 1.0 and where.pad_x == 0
    assert tensor[0, 0].min() == 255 and tensor[0, 1:].max() == 0


def test_each_thread_letterboxes_into_its_own_canvas():
    # A node with several model streams preprocesses frames at once on one Preprocessor: a frame
    # placed on one thread must not be overwritten by a frame placed on another before it is used.
    pre = Preprocessor((64, 64))
    first, second = np.full((32, 64, 3), 10, np.uint8), np.full((32, 64, 3), 200, np.uint8)
    placed_first, where = pre.place(first)
    other = {}

    def place_second():
        other['placed'], other['where'] = pre.place(second)

    thread = threading.Thread(target=place_second)
    thread.start()
    thread.join()
    assert other['where'] is where  # one geometry for the size, shared
    top = where.pad_y
    assert (placed_first[top:top + 32] == 10).all() and (other['placed'][top:top + 32] == 200).all()
    assert (placed_first[:top] == 114).all() and (other['placed'][:top] == 114).all()
    again, _ = pre.place(first)
    assert again is placed_first  # this thread's canvas is reused frame after frame


def test_padded_rows_view_is_accepted():
    full = np.zeros((360, 700, 3), np.uint8)
    full[100:200, 100:300] = 255
    view = full[:, :640]  # strided rows, as image_to_array returns for padded messages
    tensor, _ = Preprocessor((320, 320))(view, 'bgr')
    np.testing.assert_allclose(tensor.numpy(), reference(np.ascontiguousarray(view), (320, 320), True,
                                                         (0, 0, 0), (1, 1, 1)), atol=1e-4)


@pytest.mark.parametrize('encoding,channels,order', [
    ('bgr8', 3, 'bgr'), ('rgb8', 3, 'rgb'), ('mono8', None, 'bgr'), ('bgra8', 4, 'bgr'), ('rgba8', 4, 'rgb'),
    ('8UC3', 3, 'bgr'),
])
def test_color_conversion(encoding, channels, order):
    shape = (4, 6) if channels is None else (4, 6, channels)
    image = np.full(shape, 9, np.uint8)
    color, got = as_color(image, encoding)
    assert color.shape == (4, 6, 3) and got == order and color.max() == 9


def test_unsupported_encoding_is_named():
    with pytest.raises(ImageError, match="encoding 'mono16' cannot feed a detector; accepted: bgr8"):
        as_color(np.zeros((2, 2), np.uint16), 'mono16')
    with pytest.raises(ImageError, match='zero size'):
        Preprocessor((32, 32)).place(np.zeros((0, 4, 3), np.uint8))
