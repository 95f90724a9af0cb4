"""sensor_msgs/Image straight from its serialized (CDR) bytes: header fields parsed, pixels a view.

A subscription created with `raw=True` hands over the serialized message as `bytes`, which costs
one copy out of the middleware and no Python message at all. `parse_image` reads the few header
fields and returns the pixels as a memoryview of those bytes, so a node that drops most frames
(a model slower than the camera) never deserializes the ones it drops, and the frame it runs goes
from middleware to resized tensor with no further copy. Plain (final-type) XCDR1 and XCDR2 in
either byte order are read: sensor_msgs/Image has no 8-byte field, so both align alike.
"""

from __future__ import annotations

from dataclasses import dataclass
import struct

from physical_ai.core.errors import ImageError

# Encapsulation kinds (first two bytes, big-endian): CDR_BE, CDR_LE, PLAIN_CDR2_BE, PLAIN_CDR2_LE.
_LITTLE = {0x0000: False, 0x0001: True, 0x0006: False, 0x0007: True}


@dataclass(frozen=True, slots=True)
class WireImage:
    """The fields of a sensor_msgs/Image; `data` is a read-only view of the serialized bytes."""

    stamp_sec: int
    stamp_nanosec: int
    frame_id: str
    height: int
    width: int
    encoding: str
    is_bigendian: int
    step: int
    data: memoryview


class _Reader:
    __slots__ = ('buf', 'pos', 'end', 'fmt')

    def __init__(self, buf: memoryview, little: bool) -> None:
        self.buf, self.pos, self.end = buf, 4, len(buf)
        self.fmt = '<' if little else '>'

    def _need(self, count: int, what: str) -> None:
        if count < 0 or self.pos + count > self.end:
            raise ImageError(f'serialized image truncated at {what} (offset {self.pos}, '
                             f'{count} byte(s) needed, {self.end} in the message)')

    def u32(self, what: str, signed: bool = False) -> int:
        self.pos += (-(self.pos - 4)) % 4  # alignment counts from the end of the encapsulation header
        self._need(4, what)
        value = struct.unpack_from(self.fmt + ('i' if signed else 'I'), self.buf, self.pos)[0]
        self.pos += 4
        return value

    def u8(self, what: str) -> int:
        self._need(1, what)
        value = self.buf[self.pos]
        self.pos += 1
        return value

    def string(self, what: str) -> str:
        length = self.u32(what)
        self._need(length, what)
        raw = bytes(self.buf[self.pos:self.pos + length])
        self.pos += length
        if length and raw[-1] == 0:  # the serialized length counts the terminating NUL
            raw = raw[:-1]
        try:
            return raw.decode('utf-8')
        except UnicodeDecodeError as err:
            raise ImageError(f'serialized image: {what} is not UTF-8') from err

    def octets(self, what: str) -> memoryview:
        length = self.u32(what)
        self._need(length, what)
        view = self.buf[self.pos:self.pos + length]
        self.pos += length
        return view


def parse_image(serialized: bytes | bytearray | memoryview) -> WireImage:
    """Return the Image in `serialized` (CDR bytes as a raw subscription delivers them).

    Raises ImageError when the bytes are not a serialized sensor_msgs/Image (unknown
    encapsulation, truncated fields). The pixel data is not copied.
    """
    buf = memoryview(serialized).cast('B') if not isinstance(serialized, memoryview) else serialized.cast('B')
    if len(buf) < 4:
        raise ImageError(f'serialized image has {len(buf)} byte(s); expected a CDR message')
    kind = (buf[0] << 8) | buf[1]
    if kind not in _LITTLE:
        raise ImageError(f'serialized image has encapsulation 0x{kind:04x}; expected plain CDR '
                         '(0x0000, 0x0001, 0x0006 or 0x0007)')
    reader = _Reader(buf, _LITTLE[kind])
    sec = reader.u32('header.stamp.sec', signed=True)
    nanosec = reader.u32('header.stamp.nanosec')
    frame_id = reader.string('header.frame_id')
    height = reader.u32('height')
    width = reader.u32('width')
    encoding = reader.string('encoding')
    bigendian = reader.u8('is_bigendian')
    step = reader.u32('step')
    data = reader.octets('data')
    return WireImage(sec, nanosec, frame_id, height, width, encoding, bigendian, step, data)
