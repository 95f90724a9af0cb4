"""Conversion between numpy arrays and sensor_msgs/Image without per-pixel Python work.

`image_to_array` returns a view of the message buffer (no copy) unless rows are padded or the byte
order must be swapped; `array_to_image` copies the pixels once into an `array.array`, which rclpy
accepts without its slow per-element field check.
"""

from __future__ import annotations

import array
import sys

import numpy as np
from sensor_msgs.msg import Image

from physical_ai.core.errors import ImageError

# encoding -> (numpy dtype, channels); names as in sensor_msgs/image_encodings.
ENCODINGS: dict[str, tuple[np.dtype, int]] = {
    'bgr8': (np.dtype(np.uint8), 3),
    'rgb8': (np.dtype(np.uint8), 3),
    'bgra8': (np.dtype(np.uint8), 4),
    'rgba8': (np.dtype(np.uint8), 4),
    'mono8': (np.dtype(np.uint8), 1),
    'mono16': (np.dtype(np.uint16), 1),
    '8UC1': (np.dtype(np.uint8), 1),
    '8UC3': (np.dtype(np.uint8), 3),
    '8UC4': (np.dtype(np.uint8), 4),
    '16UC1': (np.dtype(np.uint16), 1),
    '32FC1': (np.dtype(np.float32), 1),
}

_HOST_BIG_ENDIAN = sys.byteorder == 'big'


def encoding_info(encoding: str) -> tuple[np.dtype, int]:
    """Return (dtype, channels) of an encoding, or raise ImageError naming the accepted ones."""
    try:
        return ENCODINGS[encoding]
    except KeyError:
        raise ImageError(
            f'unsupported image encoding {encoding!r}; accepted: {", ".join(ENCODINGS)}') from None


def image_to_array(msg: Image) -> np.ndarray:
    """Return the pixels of `msg` as an array of shape (h, w) or (h, w, c).

    The result is a read-only view of the message buffer when rows are not padded and the byte
    order matches the host; padded rows give a strided view; a foreign byte order gives a copy.
    Raises ImageError when size, step or data length are inconsistent.
    """
    dtype, channels = encoding_info(msg.encoding)
    height, width, step = int(msg.height), int(msg.width), int(msg.step)
    if height <= 0 or width <= 0:
        raise ImageError(f'image has zero size ({width}x{height})')
    row_bytes = width * channels * dtype.itemsize
    if step < row_bytes:
        raise ImageError(
            f'image step {step} is smaller than width*channels*bytes = {row_bytes} '
            f'for {width}x{height} {msg.encoding}')
    if step % dtype.itemsize:
        raise ImageError(f'image step {step} is not a multiple of the pixel size {dtype.itemsize}')
    data = msg.data
    if len(data) != height * step:
        raise ImageError(
            f'image data has {len(data)} bytes, expected height*step = {height}*{step} = '
            f'{height * step}')
    raw = np.frombuffer(data, dtype=np.uint8).reshape(height, step)
    if step != row_bytes:
        raw = raw[:, :row_bytes]
    pixels = raw.view(dtype)  # each row is contiguous, so a padded view stays a view
    if dtype.itemsize > 1 and bool(msg.is_bigendian) != _HOST_BIG_ENDIAN:
        pixels = pixels.byteswap()
    shape = (height, width) if channels == 1 else (height, width, channels)
    return pixels.reshape(shape)


def array_to_image(arr: np.ndarray, encoding: str, msg: Image | None = None) -> Image:
    """Fill `msg` (or a new Image) with the pixels of `arr` in `encoding`; header is left as is.

    The array must be (h, w) or (h, w, c) with the dtype and channel count of the encoding.
    """
    dtype, channels = encoding_info(encoding)
    if arr.ndim == 2:
        got_channels = 1
    elif arr.ndim == 3:
        got_channels = arr.shape[2]
    else:
        raise ImageError(f'expected an array of shape (h, w) or (h, w, c), got {arr.shape}')
    if got_channels != channels or arr.dtype != dtype:
        raise ImageError(
            f'{encoding} needs {channels} channel(s) of {dtype}, got {got_channels} of {arr.dtype}')
    height, width = arr.shape[:2]
    if height == 0 or width == 0:
        raise ImageError(f'image has zero size ({width}x{height})')
    if msg is None:
        msg = Image()
    msg.height = height
    msg.width = width
    msg.encoding = encoding
    msg.is_bigendian = _HOST_BIG_ENDIAN
    msg.step = width * channels * dtype.itemsize
    contiguous = np.ascontiguousarray(arr)
    # The generated setter copies what it is given (array.array('B', value)) unless field checks are
    # on: hand it an empty array, then fill the one the message holds, so the pixels are copied once.
    msg.data = array.array('B')
    msg.data.frombytes(memoryview(contiguous).cast('B'))
    return msg
