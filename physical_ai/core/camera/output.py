"""What the camera publishes, built from a captured BGR frame: Image pixels and JPEG CompressedImage."""

from __future__ import annotations

import array

import cv2
import numpy as np
from sensor_msgs.msg import CompressedImage

from physical_ai.core.errors import ConfigError

OUTPUT_ENCODINGS = ('bgr8', 'rgb8', 'mono8')


def to_encoding(bgr: np.ndarray, encoding: str) -> np.ndarray:
    """Return the pixels of a BGR frame in `encoding` (bgr8 is returned as is, no copy)."""
    if encoding == 'bgr8':
        return bgr
    if encoding == 'rgb8':
        return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    if encoding == 'mono8':
        return cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
    raise ConfigError(f'encoding {encoding!r}; accepted: {", ".join(OUTPUT_ENCODINGS)}')


def compress_jpeg(pixels: np.ndarray, encoding: str, quality: int,
                  msg: CompressedImage | None = None) -> CompressedImage:
    """Return a CompressedImage (header untouched) holding `pixels` (in `encoding`) as JPEG.

    `format` follows compressed_image_transport: '<encoding>; jpeg compressed <bgr8|mono8>'.
    """
    if encoding == 'rgb8':
        pixels = cv2.cvtColor(pixels, cv2.COLOR_RGB2BGR)
    ok, encoded = cv2.imencode('.jpg', pixels, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise ValueError(f'JPEG encoding failed for a {pixels.shape} frame')
    msg = msg or CompressedImage()
    msg.format = f'{encoding}; jpeg compressed {"mono8" if pixels.ndim == 2 else "bgr8"}'
    data = array.array('B')
    data.frombytes(memoryview(np.ascontiguousarray(encoded)).cast('B'))
    msg.data = data
    return msg
