"""Camera frames from any ROS 2 MCAP recording: sensor_msgs/Image and sensor_msgs/CompressedImage.

Messages are decoded with the definitions stored in the file itself (mcap-ros2-support), so a
recording from another robot or distribution reads without its message packages installed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
import os
from pathlib import Path
import struct

import cv2
import numpy as np

from physical_ai.core.datasets.yolo import DatasetError

IMAGE_TYPES = ('sensor_msgs/msg/Image', 'sensor_msgs/msg/CompressedImage')
# encoding -> (channels, dtype, cv2 conversion to BGR or None)
_ENCODINGS = {
    'bgr8': (3, np.uint8, None), 'rgb8': (3, np.uint8, cv2.COLOR_RGB2BGR),
    'bgra8': (4, np.uint8, cv2.COLOR_BGRA2BGR), 'rgba8': (4, np.uint8, cv2.COLOR_RGBA2BGR),
    'mono8': (1, np.uint8, cv2.COLOR_GRAY2BGR), '8UC1': (1, np.uint8, cv2.COLOR_GRAY2BGR),
    '8UC3': (3, np.uint8, None), 'mono16': (1, np.uint16, cv2.COLOR_GRAY2BGR),
}


@dataclass(frozen=True)
class Frame:
    """One decoded frame: BGR image, its header stamp and log time (ns), the topic it came from."""

    image: np.ndarray
    stamp_ns: int
    log_time_ns: int
    topic: str


def _norm(topic: str) -> str:
    return '/' + topic.strip('/')


def image_topics(path: str | os.PathLike[str]) -> dict[str, str]:
    """Return {topic: message type} of the image channels of an MCAP file."""
    from mcap.exceptions import McapError
    from mcap.reader import make_reader

    try:
        with open(path, 'rb') as f:
            summary = make_reader(f).get_summary()
    except (OSError, McapError, ValueError, struct.error, EOFError) as err:
        raise DatasetError(f'{path}: cannot be read as MCAP ({type(err).__name__}: {err})') from err
    if summary is None:
        raise DatasetError(f'{path}: the MCAP file has no summary (still being written?)')
    schemas = {k: s.name for k, s in summary.schemas.items()}
    return {c.topic: schemas.get(c.schema_id, '') for c in summary.channels.values()
            if schemas.get(c.schema_id, '') in IMAGE_TYPES}


def resolve_topic(path: str | os.PathLike[str], topic: str) -> str:
    """Return the recorded topic meant by `topic` (exact, or a namespaced one ending in it)."""
    topics = image_topics(path)
    wanted = _norm(topic)
    exact = [t for t in topics if _norm(t) == wanted]
    if exact:
        return exact[0]
    suffix = [t for t in topics if _norm(t).endswith(wanted)]
    if len(suffix) == 1:
        return suffix[0]
    listed = ', '.join(f'{t} ({k.split("/")[-1]})' for t, k in sorted(topics.items())) or 'none'
    if len(suffix) > 1:
        raise DatasetError(f'{path}: topic {topic!r} matches {", ".join(sorted(suffix))}; give the full name')
    raise DatasetError(f'{path}: no image topic {topic!r}; image topics in the file: {listed}')


def to_bgr(msg: object, type_name: str) -> np.ndarray:
    """Return the BGR uint8 pixels of a decoded Image or CompressedImage; DatasetError when unsupported."""
    if type_name.endswith('CompressedImage'):
        image = cv2.imdecode(np.frombuffer(bytes(msg.data), np.uint8), cv2.IMREAD_COLOR)
        if image is None:
            raise DatasetError(f'compressed image ({msg.format!r}) cannot be decoded')
        return image
    encoding = msg.encoding
    if encoding not in _ENCODINGS:
        raise DatasetError(f'image encoding {encoding!r} is not supported; accepted: {", ".join(_ENCODINGS)}')
    channels, dtype, conversion = _ENCODINGS[encoding]
    item = np.dtype(dtype).itemsize
    data = np.frombuffer(bytes(msg.data), np.uint8)
    if msg.step < msg.width * channels * item or len(data) < msg.step * msg.height:
        raise DatasetError(f'image of {msg.width}x{msg.height} {encoding} holds {len(data)} bytes with step '
                           f'{msg.step}; expected at least {msg.width * channels * item * msg.height}')
    rows = data[:msg.step * msg.height].reshape(msg.height, msg.step)[:, :msg.width * channels * item]
    pixels = rows.copy().view(dtype)
    if msg.is_bigendian and item > 1:
        pixels = pixels.byteswap()
    pixels = pixels.reshape(msg.height, msg.width, channels) if channels > 1 else pixels.reshape(msg.height,
                                                                                                   msg.width)
    if dtype == np.uint16:
        pixels = (pixels >> 8).astype(np.uint8)
    return cv2.cvtColor(pixels, conversion) if conversion is not None else np.ascontiguousarray(pixels)


def read_frames(path: str | os.PathLike[str], topic: str, every: int = 1) -> Iterator[Frame]:
    """Yield every `every`-th frame of an image topic in log-time order."""
    from mcap.reader import make_reader
    from mcap_ros2.decoder import DecoderFactory

    path = Path(path)
    if not path.is_file():
        raise DatasetError(f'recording {path} does not exist; expected an MCAP file')
    if every < 1:
        raise DatasetError(f'--every is {every}; expected at least 1')
    name = resolve_topic(path, topic)
    with open(path, 'rb') as f:
        reader = make_reader(f, decoder_factories=[DecoderFactory()])
        for i, (schema, _, message, msg) in enumerate(reader.iter_decoded_messages(topics=[name])):
            if i % every:
                continue
            stamp = msg.header.stamp.sec * 1_000_000_000 + msg.header.stamp.nanosec
            yield Frame(to_bgr(msg, schema.name), stamp, message.log_time, name)
